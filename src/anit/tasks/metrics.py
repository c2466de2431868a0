"""Metrics: micro P/R/F1 over multisets of extracted items, accuracy and macro-F1 over labels.

Duplicates count: a gold entity that occurs twice must be predicted twice to score two hits, and a
prediction repeated three times against one gold item scores one hit and two false positives.
An unparseable answer (``None``) counts as predicting nothing (or the wrong label).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def f1_from(tp: float, n_pred: float, n_gold: float) -> tuple[float, float, float]:
    precision, recall = _ratio(tp, n_pred), _ratio(tp, n_gold)
    return precision, recall, _ratio(2 * precision * recall, precision + recall)


def micro_f1(predictions: list[Any], golds: list[Any], options: Sequence[str] = ()) -> dict[str, float]:
    tp = n_pred = n_gold = 0
    for pred, gold in zip(predictions, golds, strict=True):
        pred_items = Counter(tuple(x) for x in pred or [])
        gold_items = Counter(tuple(x) for x in gold)
        tp += sum((pred_items & gold_items).values())
        n_pred += sum(pred_items.values())
        n_gold += sum(gold_items.values())
    precision, recall, f1 = f1_from(tp, n_pred, n_gold)
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "n_pred": n_pred, "n_gold": n_gold,
            "n": len(golds), "unparseable": sum(p is None for p in predictions)}


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
