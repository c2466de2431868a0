import pytest

from anit.tasks.metrics import classification, micro_f1


def test_micro_f1_hand_computed_with_duplicates():
    golds = [[("person", "Anna"), ("location", "Geneva"), ("location", "Geneva")], [("org", "UN")], []]
    preds = [[("person", "Anna"), ("location", "Geneva"), ("person", "Anna")], None, [("person", "Bob")]]
    result = micro_f1(preds, golds)
    # tp: Anna 1 + Geneva 1 = 2; predicted 3 + 0 + 1 = 4; gold 3 + 1 + 0 = 4
    assert (result["tp"], result["n_pred"], result["n_gold"]) == (2, 4, 4)
    assert result["precision"] == pytest.approx(0.5) and result["recall"] == pytest.approx(0.5)
    assert result["f1"] == pytest.approx(0.5) and result["unparseable"] == 1


def test_micro_f1_edge_cases():
    assert micro_f1([[]], [[]])["f1"] == 0.0
    perfect = micro_f1([[("a", "r", "b")]], [[("a", "r", "b")]])
    assert perfect["f1"] == 1.0


def test_classification_accuracy_and_macro_f1():
    golds = ["pos", "pos", "neg", "neg"]
    preds = ["pos", "neg", "neg", None]
    result = classification(preds, golds, ["neg", "pos"])
    assert result["accuracy"] == pytest.approx(0.5)
    # neg: P=1/2, R=1/2, F=0.5 ; pos: P=1, R=1/2, F=2/3
    assert result["macro_f1"] == pytest.approx((0.5 + 2 / 3) / 2)
    assert result["unparseable"] == 1
