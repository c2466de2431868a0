"""Metrics: micro P/R/F1 over extracted items, accuracy and macro-F1 over labels, and each record's counts.

Two conventions for extracted items, each following its field's reference scorer:

- NER counts a multiset of ``(type, text)`` pairs, as the paper's scorer does: a gold entity that occurs
  twice must be predicted twice to score two hits (the same name mentioned twice is two entities), and a
  prediction repeated three times against one gold item scores one hit and two false positives.
- Triplets (RE, ASTE) count a *set* per sentence, as the ASTE-V2 official evaluation does
  (``len(set(gold) & set(pred))``): a repeated triplet is one triplet, in the gold and in the prediction.

Macro-F1 averages the F1 of every option (scikit-learn's ``f1_score(average="macro", labels=options)``), so a
label the model never predicts still counts. An unparseable answer (``None``) counts as predicting nothing
(or the wrong label).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Sequence


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def f1_from(tp: float, n_pred: float, n_gold: float) -> tuple[float, float, float]:
    precision, recall = _ratio(tp, n_pred), _ratio(tp, n_gold)
    return precision, recall, _ratio(2 * precision * recall, precision + recall)


def item_counts(pred: Any, gold: Any, as_set: bool = False) -> tuple[float, float, float]:
    """One record's (true positives, predicted items, gold items): multisets, or sets with ``as_set``."""
    pred_items = Counter(tuple(x) for x in pred or [])
    gold_items = Counter(tuple(x) for x in gold)
    if as_set:
        pred_items, gold_items = Counter(set(pred_items)), Counter(set(gold_items))
    return (float(sum((pred_items & gold_items).values())), float(sum(pred_items.values())),
            float(sum(gold_items.values())))


def label_counts(pred: Any, gold: Any) -> tuple[float, float]:
    """One record's (correct, 1): accuracy's counts."""
    return float(pred == gold), 1.0


def _micro_f1(as_set: bool) -> Callable[..., dict[str, float]]:
    def micro_f1(predictions: list[Any], golds: list[Any], options: Sequence[str] = ()) -> dict[str, float]:
        tp = n_pred = n_gold = 0.0
        for pred, gold in zip(predictions, golds, strict=True):
            counts = item_counts(pred, gold, as_set)
            tp, n_pred, n_gold = tp + counts[0], n_pred + counts[1], n_gold + counts[2]
        precision, recall, f1 = f1_from(tp, n_pred, n_gold)
        return {"precision": precision, "recall": recall, "f1": f1, "tp": int(tp), "n_pred": int(n_pred),
                "n_gold": int(n_gold), "n": len(golds), "unparseable": sum(p is None for p in predictions)}

    return micro_f1


micro_f1 = _micro_f1(as_set=False)
"""Micro-F1 over multisets of items per record (NER)."""
set_f1 = _micro_f1(as_set=True)
"""Micro-F1 over sets of items per record (RE and ASTE triplets)."""


def classification(predictions: list[Any], golds: list[Any], options: Sequence[str] = ()) -> dict[str, float]:
    labels = list(dict.fromkeys([*options, *golds]))
    correct = sum(p == g for p, g in zip(predictions, golds, strict=True))
    per_label = []
    for label in labels:
        tp = sum(p == label and g == label for p, g in zip(predictions, golds))
        n_pred = sum(p == label for p in predictions)
        n_gold = sum(g == label for g in golds)
        per_label.append(f1_from(tp, n_pred, n_gold)[2])
    return {"accuracy": _ratio(correct, len(golds)), "macro_f1": _ratio(sum(per_label), len(per_label)),
            "n": len(golds), "unparseable": sum(p is None for p in predictions)}
