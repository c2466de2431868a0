"""What a report shows, as plain rows of text: per dataset, methods x conditions with paired gaps and intervals,
the spread over each family of instructions, and the score by distortion bin. Pure functions of metrics.json
contents and prediction rows (the report module writes them out and plots them)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any, Sequence

from anit.evaluation.robustness import family, record_matrix, score_from
from anit.tasks import TASKS

BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0001)
FEW = 10
"""A distortion bin with fewer records than this is marked: its score is noise."""


def _score(metrics: dict[str, Any]) -> float:
    return metrics[TASKS.get(metrics["task"]).primary]


def _interval(gap: dict[str, Any] | None) -> str:
    if not gap:
        return ""
    if gap.get("low") is None:
        return f" ({gap['gap']:+.3f})"
    return f" ({gap['gap']:+.3f} [{gap['low']:+.3f}, {gap['high']:+.3f}])"


def raw_first(condition: str) -> tuple[bool, str]:
    """Sort key of condition names: raw, then the rest by name."""
    return condition != "raw", condition


def datasets_of(results: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Dataset -> task, over every result."""
    out: dict[str, str] = {}
    for result in results.values():
        for per_dataset in result["conditions"].values():
            for dataset, metrics in per_dataset.items():
                out[dataset] = metrics["task"]
    return dict(sorted(out.items()))


def summary_table(results: dict[str, dict[str, Any]], dataset: str) -> list[list[str]]:
    """Methods x {raw, each one-off condition with its paired gap, each family's mean ± std and worst (PDR of the
    worst with its interval)}."""
    singles, families = [], []
    for result in results.values():
        for condition, per in result["conditions"].items():
            if dataset in per and condition != "raw":
                target = families if family(condition) else singles
                name = family(condition) or condition
                if name not in target:
                    target.append(name)
    header = ["method", "raw"] + [f"{c} (gap [95% CI])" for c in sorted(singles)]
    for name in sorted(families):
        header += [f"{name}: mean ± std", f"{name}: worst (PDR [95% CI])"]
    rows = [header]
    for method, result in sorted(results.items()):
        raw = result["conditions"].get("raw", {}).get(dataset)
        cells = [method, f"{_score(raw):.3f}" if raw else "-"]
        for condition in sorted(singles):
            metrics = result["conditions"].get(condition, {}).get(dataset)
            gap = result.get("gaps", {}).get(dataset, {}).get(condition)
            cells.append(f"{_score(metrics):.3f}{_interval(gap)}" if metrics else "-")
        for name in sorted(families):
            s = result.get("sensitivity", {}).get(name, {}).get(dataset)
            if not s:
                cells += ["-", "-"]
                continue
            pdr = "" if s["pdr_worst"] is None else f" ({s['pdr_worst']:.3f}" + (
                f" [{s['pdr_worst_low']:.3f}, {s['pdr_worst_high']:.3f}])" if s.get("pdr_worst_low") is not None
                else ")")
            cells += [f"{s['mean']:.3f} ± {s['std']:.3f} (n={s['instructions']})", f"{s['worst']:.3f}{pdr}"]
        rows.append(cells)
    return rows


def _spread(values: list[float]) -> str:
    """Mean ± std over seeds (the std of one value: none), ``-`` where there is none."""
    if not values:
        return "-"
    mean = statistics.fmean(values)
    return f"{mean:.3f} ± {statistics.stdev(values):.3f}" if len(values) > 1 else f"{mean:.3f}"


def seeds_table(results: dict[str, dict[str, Any]], dataset: str, methods: dict[str, list[str]]
                ) -> list[list[str]]:
    """Per method over its seeds (``methods``: method -> the names of its results, one per seed): the raw score, and
    per family of instructions the mean over its instructions and the drop rate of its worst, each as mean ± std of
    the seeds' own numbers."""
    families = sorted({name for names in methods.values() for n in names
                       for name, per in results[n].get("sensitivity", {}).items() if dataset in per})
    rows = [["method", "seeds", "raw"] + [f"{name}: {what}" for name in families for what in ("mean", "worst PDR")]]
    for method, names in sorted(methods.items()):
        scored = [results[n] for n in names if dataset in results[n]["conditions"].get("raw", {})]
        if not scored:
            continue
        cells = [method, str(len(scored)), _spread([_score(r["conditions"]["raw"][dataset]) for r in scored])]
        for name in families:
            found = [r.get("sensitivity", {}).get(name, {}).get(dataset) for r in scored]
            cells += [_spread([f["mean"] for f in found if f]),
                      _spread([f["pdr_worst"] for f in found if f and f["pdr_worst"] is not None])]
        rows.append(cells)
    return rows


def detail_table(results: dict[str, dict[str, Any]], dataset: str) -> list[list[str]]:
    """Every condition's score and paired gap to raw, per method."""
    conditions = sorted({c for r in results.values() for c, per in r["conditions"].items() if dataset in per},
                        key=raw_first)
    rows = [["condition"] + sorted(results)]
    for condition in conditions:
        cells = [condition]
        for _, result in sorted(results.items()):
            metrics = result["conditions"].get(condition, {}).get(dataset)
            gap = result.get("gaps", {}).get(dataset, {}).get(condition)
            cells.append(f"{_score(metrics):.3f}{_interval(gap)}" if metrics else "-")
        rows.append(cells)
    return rows


def unparsed(results: dict[str, dict[str, Any]], dataset: str) -> list[str]:
    """Per method whose generated answers could not all be parsed (each counted wrong, as the paper scores them):
    ``method: raw 4 of 10, unseen-tc-0 5 of 10, ...`` over the conditions with any; none where every answer parsed
    (always so under choice scoring), so a low score is read with its parse failures beside it."""
    lines = []
    for method, result in sorted(results.items()):
        per = result["conditions"]
        counts = [(condition, per[condition][dataset]) for condition in sorted(per, key=raw_first)
                  if per[condition].get(dataset, {}).get("unparseable")]
        if counts:
            lines.append(f"{method}: " + ", ".join(f"{condition} {m['unparseable']} of {m['n']}"
                                                   for condition, m in counts))
    return lines


def scorer_of(rows: Sequence[dict[str, Any]]) -> str | None:
    """The distortion score the bins use: word_edit where the rows have it, else the first they have."""
    keys = [k for row in rows for k in row.get("distortion") or {}]
    return "word_edit" if "word_edit" in keys else (keys[0] if keys else None)


def by_distortion(rows: Sequence[dict[str, Any]], task: str, scorer: str | None = None
                  ) -> list[tuple[str, int, float, bool]]:
    """(bin, records, the task's score in the bin, too few records) of noisy predictions by their ``scorer``
    distortion: accuracy for classification, micro-F1 for extraction (not exact-match)."""
    scorer = scorer or scorer_of(rows)
    binned: dict[int, list[tuple[Any, Any]]] = defaultdict(list)
    for row in rows:
        d = (row.get("distortion") or {}).get(scorer)
        if d is not None:
            index = next(i for i in range(len(BINS) - 1) if d < BINS[i + 1])
            binned[index].append((row["parsed"], row["gold"]))
    return [(f"[{BINS[i]:.1f}, {min(BINS[i + 1], 1.0):.1f})", len(pairs),
             float(score_from(task, record_matrix(task, pairs).sum(0))), len(pairs) < FEW)
            for i, pairs in sorted(binned.items())]


def distortion_bins(noisy_rows: dict[str, list[dict[str, Any]]], datasets: dict[str, str]
                    ) -> dict[str, dict[str, tuple[str, list[tuple[str, int, float, bool]]]]]:
    """Dataset -> method -> (scorer, bins): each method's noisy predictions on the dataset by distortion bin, in
    the dataset's task metric (the report's list and its plot both read this)."""
    out: dict[str, dict[str, tuple[str, list[tuple[str, int, float, bool]]]]] = defaultdict(dict)
    for dataset, task in datasets.items():
        for method, rows in sorted(noisy_rows.items()):
            mine = [r for r in rows if r.get("dataset") == dataset]
            scorer = scorer_of(mine)
            if mine and scorer:
                out[dataset][method] = (scorer, by_distortion(mine, task, scorer))
    return dict(out)
