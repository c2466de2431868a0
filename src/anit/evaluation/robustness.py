"""Robustness numbers: paired gaps with bootstrap intervals, the performance drop rate, instruction sensitivity.

A gap compares the *same records* under two instructions, so its interval resamples records (each bootstrap
draw takes the same records for both instructions) instead of treating the two scores as independent::

    paired_gap("tc", base=[(p, g), ...], other=[(p, g), ...])
    -> {"gap": -0.09, "low": -0.15, "high": -0.03, "pdr": 0.11, "pdr_low": ..., "pdr_high": ..., "n": 64}

The performance drop rate is PromptBench's ``PDR = 1 - score(attacked) / score(clean)``. Scores are each task's
primary metric, computed from per-record counts so a resample costs one sum: accuracy from (correct, 1), micro-F1
from (true positives, predicted items, gold items).
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from typing import Any, Sequence

import numpy as np

from anit.tasks import TASKS

BOOTSTRAP = 1000
"""Resamples per interval: enough for a stable 95% percentile interval at these sample sizes."""


def record_stats(task: str, parsed: Any, gold: Any) -> tuple[float, ...]:
    """One record's counts towards its task's primary metric (see the module docstring)."""
    return TASKS.get(task).record_counts(parsed, gold)


def score_from(task: str, sums: np.ndarray) -> np.ndarray:
    """The primary metric from summed counts; ``sums`` has the counts on its last axis and ``n`` records."""
    if TASKS.get(task).primary == "accuracy":
        return sums[..., 0] / np.maximum(sums[..., 1], 1)
    tp, n_pred, n_gold = sums[..., 0], sums[..., 1], sums[..., 2]
    return np.where(n_pred + n_gold > 0, 2 * tp / np.maximum(n_pred + n_gold, 1), 0.0)


def record_matrix(task: str, pairs: Sequence[tuple[Any, Any]]) -> np.ndarray:
    rows = [record_stats(task, parsed, gold) for parsed, gold in pairs]
    return np.asarray(rows, dtype=np.float64).reshape(len(pairs), -1)


def pdr(clean: float, attacked: float) -> float | None:
    """PromptBench's performance drop rate; None where the clean score is 0 (no drop is defined)."""
    return 1.0 - attacked / clean if clean > 0 else None


def drop_rates(raw: Any, worst: Any) -> Any:
    """:func:`pdr` over arrays of scores (bootstrap resamples, seeds): NaN where the raw score is 0."""
    return 1 - worst / np.where(raw > 0, raw, np.nan)


def paired_gap(task: str, base: Sequence[tuple[Any, Any]], other: Sequence[tuple[Any, Any]],
               n_boot: int = BOOTSTRAP, seed: int = 0) -> dict[str, Any]:
    """``other`` minus ``base`` on the same records (item k of both is record k), with a paired bootstrap 95%
    interval for the gap and for the drop rate."""
    if len(base) != len(other):
        raise ValueError(f"paired_gap: {len(base)} base records against {len(other)} others")
    a, b = record_matrix(task, base), record_matrix(task, other)
    score_a, score_b = float(score_from(task, a.sum(0))), float(score_from(task, b.sum(0)))
    out: dict[str, Any] = {"base": score_a, "score": score_b, "gap": score_b - score_a,
                           "pdr": pdr(score_a, score_b), "n": len(base)}
    if not base:
        return {**out, "low": None, "high": None, "pdr_low": None, "pdr_high": None}
    index = np.random.default_rng(seed).integers(0, len(base), size=(n_boot, len(base)))
    boot_a, boot_b = score_from(task, a[index].sum(1)), score_from(task, b[index].sum(1))
    low, high = np.percentile(boot_b - boot_a, [2.5, 97.5])
    drops = 1.0 - boot_b[boot_a > 0] / boot_a[boot_a > 0]
    pdr_low, pdr_high = np.percentile(drops, [2.5, 97.5]) if drops.size else (None, None)
    return {**out, "low": float(low), "high": float(high),
            "pdr_low": None if pdr_low is None else float(pdr_low),
            "pdr_high": None if pdr_high is None else float(pdr_high)}


def paired_against(task: str, mine: tuple[list, list], theirs: tuple[list, list], seed: int = 0) -> dict[str, Any]:
    """Two models compared on the same records: ``mine`` and ``theirs`` are (raw pairs, worst pairs) of (parsed,
    gold), all four aligned on the same records. The raw score difference and the difference of the drop rates PDR
    (mine - theirs), each with a paired bootstrap 95% interval (one resample of records serves all four), and each
    model's own PDR with its interval from the same resample (``mine_pdr``, ``theirs_low``, ...); a PDR and its
    interval are None where its raw score is 0 (the difference where either is)."""
    stats = [record_matrix(task, pairs) for pairs in (*mine, *theirs)]
    n = len(mine[0])
    index = np.random.default_rng(seed).integers(0, n, size=(BOOTSTRAP, n))
    raw_a, worst_a, raw_b, worst_b = (score_from(task, s[index].sum(1)) for s in stats)
    whole = [float(score_from(task, s.sum(0))) for s in stats]
    raw_diff = raw_a - raw_b
    pdr_diff = drop_rates(raw_a, worst_a) - drop_rates(raw_b, worst_b)
    pdr_diff = pdr_diff[np.isfinite(pdr_diff)]
    whole_pdr = float(drop_rates(np.array(whole[0]), np.array(whole[1]))
                      - drop_rates(np.array(whole[2]), np.array(whole[3])))
    defined = np.isfinite(whole_pdr)  # not where a raw score is 0: no drop rate, and no interval either
    own = {}
    for side, (raw, worst, clean, attacked) in {"mine": (raw_a, worst_a, *whole[:2]),
                                                "theirs": (raw_b, worst_b, *whole[2:])}.items():
        drops = drop_rates(raw, worst)
        drops = drops[np.isfinite(drops)]
        known = clean > 0 and drops.size
        own.update({f"{side}_pdr": pdr(clean, attacked),
                    f"{side}_low": float(np.percentile(drops, 2.5)) if known else None,
                    f"{side}_high": float(np.percentile(drops, 97.5)) if known else None})
    return {"raw_diff": whole[0] - whole[2], "raw_low": float(np.percentile(raw_diff, 2.5)),
            "raw_high": float(np.percentile(raw_diff, 97.5)), "pdr_diff": whole_pdr if defined else None,
            "pdr_low": float(np.percentile(pdr_diff, 2.5)) if defined and pdr_diff.size else None,
            "pdr_high": float(np.percentile(pdr_diff, 97.5)) if defined and pdr_diff.size else None, **own}


def pooled(task: str, runs: Sequence[tuple[dict[str, tuple[Any, Any]], ...]], combine: Any) -> dict[str, Any] | None:
    """``combine`` of the scores of each seed's prediction maps (``runs``: per seed, a tuple of record id ->
    (parsed, gold) maps, such as a model's raw and worst, or two models' raw), averaged over the seeds, with a paired
    bootstrap 95% interval: one resample of the records every map of every seed shares serves every seed, so the
    interval is that of the mean over seeds (it covers the test sample; the seed-to-seed spread is apart from it).
    ``combine`` takes one score (array) per map. None without shared records or where ``combine`` is undefined
    (NaN) on the whole records of a seed."""
    ids = sorted(set.intersection(*(set(m) for maps in runs for m in maps))) if runs else []
    if not ids:
        return None
    stats = [[record_matrix(task, [m[i] for i in ids]) for m in maps] for maps in runs]
    whole = float(np.mean([combine(*(score_from(task, s.sum(0)) for s in seed)) for seed in stats]))
    if not np.isfinite(whole):
        return None
    index = np.random.default_rng(0).integers(0, len(ids), size=(BOOTSTRAP, len(ids)))
    resampled = np.mean([combine(*(score_from(task, s[index].sum(1)) for s in seed)) for seed in stats], 0)
    low, high = np.nanpercentile(resampled, [2.5, 97.5])
    return {"value": whole, "low": float(low), "high": float(high), "n": len(ids)}


def over_seeds(values: Sequence[float]) -> dict[str, Any] | None:
    """The mean of one number measured once per training seed (a PDR, a difference against a baseline) with its
    95% Student-t interval over the seeds: unlike the paired bootstrap over records, which holds the trained models
    fixed, it covers the training seed as well (each seed's value carries its own test sample); None under three
    seeds, where the interval says nothing. Three values -0.1, -0.2, -0.3 give -0.2 [-0.448, +0.048]."""
    if len(values) < 3:
        return None
    from scipy.stats import t

    mean = statistics.fmean(values)
    half = float(t.ppf(0.975, len(values) - 1)) * statistics.stdev(values) / len(values) ** 0.5
    return {"value": mean, "low": mean - half, "high": mean + half, "n": len(values)}


def goal_margin(mine: Sequence[float | None], theirs: Sequence[float | None]) -> dict[str, Any] | None:
    """A method's PDR minus half of the baseline's, seed by seed (``mine``, ``theirs``: their PDRs on the same
    seeds; a seed where either has none is left out), as :func:`over_seeds` gives it: below 0, the robustness goal's
    drop bound is met with the training seed counted."""
    return over_seeds([m - 0.5 * t for m, t in zip(mine, theirs) if m is not None and t is not None])


def holds(margin: dict[str, Any] | None) -> bool:
    """Whether a margin of :func:`over_seeds` (a method's PDR minus half of the baseline's) is below 0 with the
    training seed counted: the goal holds over the seeds, not only on the test sample."""
    return bool(margin) and margin["high"] < 0


def family(condition: str) -> str | None:
    """The group of instructions a condition belongs to: ``noisy`` for ``noisy-<type>``, ``unseen`` for
    ``unseen-<task>-<k>``, a file's stem for ``<stem>-<task>-<k>``; None for one-off conditions (raw)."""
    if condition.startswith("noisy-"):
        return "noisy"
    match = re.match(r"^(.+)-[^-]+-\d+$", condition)
    return match.group(1) if match else None


def condition_gaps(rows: dict[str, list[dict[str, Any]]], records: dict[str, dict[str, Any]],
                   seed: int = 0) -> dict[str, dict[str, dict[str, Any]]]:
    """Per dataset and condition: the paired gap to ``raw`` on the records both scored.

    ``rows``: condition -> prediction rows (``id``, ``parsed``); ``records``: id -> record. A condition may score a
    record several times (the pooled ``noisy`` one does, once per noise type): each row pairs with the record's raw
    row. Conditions without raw rows get no gap.
    """
    raw = {row["id"]: row for row in rows.get("raw", [])}
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for condition, scored in rows.items():
        if condition == "raw":
            continue
        by_dataset: dict[str, list[tuple[dict, dict]]] = defaultdict(list)
        for row in scored:
            if row["id"] in raw:
                by_dataset[records[row["id"]]["dataset"]].append((raw[row["id"]], row))
        for dataset, pairs in by_dataset.items():
            record = records[pairs[0][0]["id"]]
            gold = [records[r["id"]]["gold"] for r, _ in pairs]
            out[dataset][condition] = paired_gap(record["task"], [(r["parsed"], g) for (r, _), g in zip(pairs, gold)],
                                                 [(o["parsed"], g) for (_, o), g in zip(pairs, gold)], seed=seed)
    return dict(out)


def sensitivity(conditions: dict[str, dict[str, dict[str, Any]]], gaps: dict[str, dict[str, dict[str, Any]]]
                ) -> dict[str, dict[str, dict[str, Any]]]:
    """Per instruction family and dataset: mean, standard deviation, best and worst over the family's
    instructions, and the drop rate of the mean and of the worst against raw (with the worst's paired interval).

    Each instruction's drop is against raw on the records it scored (its paired gap's base, where ``gaps`` has
    one): the noisy types each score the records that drew them, so the worst is the type with the largest drop,
    not the one whose records happen to be hardest (and the best the one with the smallest), and its drop rate is the
    one its interval belongs to. Where every instruction scored the same records (held-out pool, a file) these are
    the lowest and highest scores.

    ``conditions``: condition -> dataset -> metrics (with ``task``); ``gaps``: as :func:`condition_gaps` gives.
    """
    groups: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for condition, per_dataset in conditions.items():
        name = family(condition)
        if name is None:
            continue
        for dataset, metrics in per_dataset.items():
            groups[(name, dataset)][condition] = metrics[TASKS.get(metrics["task"]).primary]
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for (name, dataset), scores in sorted(groups.items()):
        values = list(scores.values())
        raw = conditions.get("raw", {}).get(dataset)
        raw_score = raw[TASKS.get(raw["task"]).primary] if raw else None
        paired = gaps.get(dataset, {})
        bases = {c: paired.get(c, {}).get("base", raw_score) for c in scores}
        drops = {c: pdr(bases[c], scores[c]) if bases[c] is not None else None for c in scores}
        order = sorted(scores, key=lambda c: (drops[c] is not None, drops[c] or 0.0, -scores[c]))
        best, worst = order[0], order[-1]
        mean = statistics.fmean(values)
        base_mean = None if None in bases.values() else statistics.fmean(bases.values())
        worst_gap = paired.get(worst, {})
        out[name][dataset] = {
            "instructions": len(values), "mean": mean, "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "best": scores[best], "worst": scores[worst], "worst_condition": worst, "raw": raw_score,
            "pdr_mean": pdr(base_mean, mean) if base_mean is not None else None, "pdr_worst": drops[worst],
            "pdr_worst_low": worst_gap.get("pdr_low"), "pdr_worst_high": worst_gap.get("pdr_high")}
    return dict(out)
