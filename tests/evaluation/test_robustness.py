import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from anit.evaluation.robustness import (condition_gaps, family, paired_against, paired_gap, pdr, score_from,
                                       sensitivity)
from anit.tasks import TASKS
from anit.tasks.metrics import classification, micro_f1, set_f1


def test_pdr_is_promptbenchs_drop_rate():
    assert pdr(0.8, 0.6) == pytest.approx(0.25)
    assert pdr(0.5, 0.5) == 0.0 and pdr(0.0, 0.3) is None


def test_paired_gap_of_identical_answers_is_exactly_zero():
    pairs = [("positive", "positive"), ("negative", "positive"), ("negative", "negative")]
    gap = paired_gap("tc", pairs, pairs)
    assert (gap["gap"], gap["low"], gap["high"], gap["pdr"]) == (0.0, 0.0, 0.0, 0.0)


def test_paired_interval_is_narrower_than_an_unpaired_one_when_answers_agree():
    """Two instructions that disagree on 4 of 200 records: pairing sees a small, certain gap."""
    base = [("a", "a")] * 120 + [("b", "a")] * 80
    other = [("b", "a")] * 4 + [("a", "a")] * 116 + [("b", "a")] * 80
    gap = paired_gap("tc", base, other)
    assert gap["gap"] == pytest.approx(-0.02)
    assert -0.05 < gap["low"] < -0.02 < gap["high"] <= 0.0   # every resample drops or stays: never a gain
    assert gap["pdr"] == pytest.approx(1 - 0.58 / 0.6)


def _boot_reference(metric, base, other, n_boot, seed):
    """The same resamples, scored by the metrics module (an independent implementation of each metric)."""
    index = np.random.default_rng(seed).integers(0, len(base), size=(n_boot, len(base)))
    key = "f1" if metric is not classification else "accuracy"
    gaps = []
    for row in index:
        a = metric([base[i][0] for i in row], [base[i][1] for i in row])[key]
        b = metric([other[i][0] for i in row], [other[i][1] for i in row])[key]
        gaps.append(b - a)
    return np.percentile(gaps, [2.5, 97.5])


ENTITY = st.tuples(st.sampled_from(["person", "location"]), st.sampled_from(["Anna", "Paris", "EU"]))
TRIPLET = st.tuples(st.sampled_from(["food", "staff"]), st.sampled_from(["good", "bad"]),
                    st.sampled_from(["positive", "negative"]))


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_paired_gap_agrees_with_the_metrics_module_on_every_resample(data):
    task, item, metric = data.draw(st.sampled_from([("ner", ENTITY, micro_f1), ("absa", TRIPLET, set_f1)]))
    n = data.draw(st.integers(1, 8))
    golds = [data.draw(st.lists(item, max_size=3)) for _ in range(n)]
    answers = st.one_of(st.none(), st.lists(item, max_size=3))
    base = [(data.draw(answers), g) for g in golds]
    other = [(data.draw(answers), g) for g in golds]
    gap = paired_gap(task, base, other, n_boot=30, seed=5)
    whole = micro_f1 if task == "ner" else set_f1
    expected = whole([p for p, _ in other], golds)["f1"] - whole([p for p, _ in base], golds)["f1"]
    assert gap["gap"] == pytest.approx(expected)
    assert [gap["low"], gap["high"]] == pytest.approx(list(_boot_reference(metric, base, other, 30, 5)))


def test_triplets_count_as_sets_and_entities_as_multisets():
    twice = [("food", "good", "positive")] * 2
    assert set_f1([twice], [twice[:1]])["f1"] == 1.0 and micro_f1([twice], [twice[:1]])["f1"] < 1.0
    assert TASKS.get("absa").correct(twice, [list(twice[0])]) and not TASKS.get("ner").correct(
        [("person", "Anna")] * 2, [["person", "Anna"]])
    assert score_from("absa", np.array([1.0, 2.0, 1.0])) == pytest.approx(2 / 3)


def test_family_groups_conditions_by_their_instruction_source():
    assert family("noisy-char_typo") == "noisy" and family("unseen-tc-3") == "unseen"
    assert family("worst-tc-0") == "worst" and family("my-file-ner-12") == "my-file"
    assert family("raw") is None and family("unseen") is None and family("noisy") is None


def test_condition_gaps_pair_each_row_with_its_records_raw_row():
    records = {str(i): {"id": str(i), "dataset": "sst2", "task": "tc", "gold": "a", "options": ["a", "b"]}
               for i in range(4)}
    rows = {"raw": [{"id": str(i), "parsed": "a"} for i in range(4)],
            "noisy": [{"id": "0", "parsed": "b"}, {"id": "0", "parsed": "a"}, {"id": "3", "parsed": "b"}],
            "partial": [{"id": "9", "parsed": "a"}]}
    gaps = condition_gaps(rows, {**records, "9": {**records["0"], "id": "9"}})
    assert gaps["sst2"]["noisy"]["n"] == 3 and gaps["sst2"]["noisy"]["gap"] == pytest.approx(-2 / 3)
    assert "partial" not in gaps["sst2"]


def test_sensitivity_summarises_each_family_against_raw():
    conditions = {"raw": {"sst2": {"task": "tc", "accuracy": 0.8}},
                  **{f"unseen-tc-{k}": {"sst2": {"task": "tc", "accuracy": s}} for k, s in enumerate([0.7, 0.6, 0.8])},
                  "noisy-char_typo": {"sst2": {"task": "tc", "accuracy": 0.4}}}
    gaps = {"sst2": {"unseen-tc-1": {"pdr_low": 0.1, "pdr_high": 0.4}}}
    got = sensitivity(conditions, gaps)
    unseen = got["unseen"]["sst2"]
    assert (unseen["instructions"], unseen["best"], unseen["worst"], unseen["worst_condition"]) == (
        3, 0.8, 0.6, "unseen-tc-1")
    assert unseen["mean"] == pytest.approx(0.7) and unseen["std"] == pytest.approx(0.1)
    assert unseen["pdr_mean"] == pytest.approx(0.125) and unseen["pdr_worst"] == pytest.approx(0.25)
    assert (unseen["pdr_worst_low"], unseen["pdr_worst_high"]) == (0.1, 0.4)
    assert got["noisy"]["sst2"]["std"] == 0.0 and got["noisy"]["sst2"]["pdr_worst"] == pytest.approx(0.5)


def test_noisy_types_on_different_records_are_ranked_by_their_paired_drop():
    """Each noisy type scores the records that drew it: the worst is the largest drop against raw on those
    records, and its drop rate is the one its interval comes from (not its score against raw over all records)."""
    records = {str(i): {"id": str(i), "dataset": "sst2", "task": "tc", "gold": "a", "options": ["a", "b"]}
               for i in range(20)}
    right = lambda ok: "a" if ok else "b"  # noqa: E731
    # raw: right on records 0-13 of 20 (0.7); typo drew records 0-4 (raw 1.0, typo 0.8), pad records 5-19 (raw
    # 0.6, pad 0.6: no drop, yet the lower score)
    raw = [{"id": str(i), "parsed": right(i < 14)} for i in range(20)]
    typo = [{"id": str(i), "parsed": right(i < 4)} for i in range(5)]
    pad = [{"id": str(i), "parsed": right(i < 14)} for i in range(5, 20)]
    rows = {"raw": raw, "noisy-char_typo": typo, "noisy-pad_unrelated": pad}
    gaps = condition_gaps(rows, records)
    conditions = {"raw": {"sst2": {"task": "tc", "accuracy": 0.7}},
                  "noisy-char_typo": {"sst2": {"task": "tc", "accuracy": 0.8}},
                  "noisy-pad_unrelated": {"sst2": {"task": "tc", "accuracy": 0.6}}}
    noisy = sensitivity(conditions, gaps)["noisy"]["sst2"]
    assert noisy["worst_condition"] == "noisy-char_typo" and noisy["worst"] == 0.8 and noisy["best"] == 0.6
    assert noisy["pdr_worst"] == pytest.approx(0.2) == gaps["sst2"]["noisy-char_typo"]["pdr"]
    assert noisy["pdr_worst_low"] <= 0.2 <= noisy["pdr_worst_high"]
    # the mean against raw on the same records: (0.8 + 0.6) / 2 against (1.0 + 0.6) / 2, not against 0.7
    assert noisy["pdr_mean"] == pytest.approx(1 - 0.7 / 0.8)


def test_paired_against_matches_a_direct_computation_on_each_resample():
    rng = np.random.default_rng(1)
    gold = ["a" if x else "b" for x in rng.integers(0, 2, 40)]
    answers = [[g if rng.random() < p else "x" for g in gold] for p in (0.9, 0.6, 0.8, 0.7)]
    pairs = [list(zip(a, gold)) for a in answers]
    got = paired_against("tc", (pairs[0], pairs[1]), (pairs[2], pairs[3]), seed=4)
    acc = [classification(a, gold)["accuracy"] for a in answers]
    assert got["raw_diff"] == pytest.approx(acc[0] - acc[2])
    assert got["pdr_diff"] == pytest.approx((1 - acc[1] / acc[0]) - (1 - acc[3] / acc[2]))
    index = np.random.default_rng(4).integers(0, 40, size=(1000, 40))
    diffs = [np.mean([answers[0][i] == gold[i] for i in row]) - np.mean([answers[2][i] == gold[i] for i in row])
             for row in index]
    assert got["raw_low"] == pytest.approx(np.percentile(diffs, 2.5))
    # each model's own drop rate and interval is what paired_gap gives for it alone (the same resample of records)
    for side, (raw, worst) in {"mine": (0, 1), "theirs": (2, 3)}.items():
        alone = paired_gap("tc", pairs[raw], pairs[worst], seed=4)
        assert (got[f"{side}_pdr"], got[f"{side}_low"], got[f"{side}_high"]) == pytest.approx(
            (alone["pdr"], alone["pdr_low"], alone["pdr_high"]))


def test_paired_against_has_no_drop_rate_difference_where_a_raw_score_is_0():
    right, wrong = [("a", "a")] * 5, [("b", "a")] * 5
    got = paired_against("tc", (right, wrong), (wrong, wrong))  # theirs scores 0 under raw
    assert got["raw_diff"] == 1.0 and (got["pdr_diff"], got["pdr_low"], got["pdr_high"]) == (None, None, None)
    assert (got["theirs_pdr"], got["theirs_low"], got["theirs_high"]) == (None, None, None)
    assert (got["mine_pdr"], got["mine_low"], got["mine_high"]) == (1.0, 1.0, 1.0)


def test_over_seeds_is_a_student_t_interval_over_the_seeds():
    from anit.evaluation.robustness import over_seeds

    assert over_seeds([0.1, 0.3]) is None                       # two seeds: no interval
    found = over_seeds([-0.1, -0.2, -0.3])
    half = 4.302652729911275 * 0.1 / 3 ** 0.5                    # t(0.975, 2 df) x sd / sqrt(n), sd = 0.1
    assert found["n"] == 3 and found["value"] == pytest.approx(-0.2)
    assert (found["low"], found["high"]) == (pytest.approx(-0.2 - half), pytest.approx(-0.2 + half))
    wide = over_seeds([0.0, 0.2, 0.4, 0.1, 0.3])                 # more seeds: t(4 df) = 2.776, sd 0.158
    assert wide["high"] - wide["low"] == pytest.approx(2 * 2.7764451051977987 * 0.15811388300841897 / 5 ** 0.5)


def test_a_margin_holds_only_where_its_interval_over_the_seeds_is_below_zero():
    from anit.evaluation.robustness import holds, over_seeds

    assert holds(over_seeds([-0.3, -0.2, -0.25])) and not holds(over_seeds([-0.3, 0.1, -0.2]))
    assert not holds(None) and not holds(over_seeds([-0.3, -0.2]))     # under three seeds: nothing holds


def test_the_goal_margin_is_each_seeds_pdr_minus_half_the_baselines_over_the_seeds_both_have():
    from anit.evaluation.robustness import goal_margin, over_seeds

    assert goal_margin([0.1, 0.2, None, 0.05], [0.4, 0.2, 0.3, 0.5]) == over_seeds([-0.1, 0.1, -0.2])
    assert goal_margin([0.1, None], [0.4, 0.3]) is None
