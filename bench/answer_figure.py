"""The robustness answer as one picture: per dataset, each method's worst-case drop rate (PDR) with its paired
interval, the goal's band (at most half of `it`'s drop) and the verdicts against `it` and `it-matched` in the title.

    from bench.answer_figure import answer_points, answer_plot
    answer_plot(answer_points(robustness), Path("docs/benchmarks/robustness.png"))   # the page summarise writes

:func:`answer_points` is pure (what the picture shows, from the benchmark JSON); :func:`answer_plot` only draws it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anit.report.plots import drops_plot
from anit.report.versus import GOAL_SHORT
from bench.robustness_report import AGAINST, CASES, MATCHED, matched_reading

LEAD = ("it", "anit", MATCHED)
"""The methods the verdicts compare, drawn first and in colour; the others follow in grey."""
COLOURS = {"it": "#444444", "anit": "#d9480f", MATCHED: "#7048e8"}


def _interval(found: dict[str, Any] | None) -> tuple[float, float, float] | None:
    return (found["value"], found["low"], found["high"]) if found and found.get("value") is not None else None


def answer_points(robustness: dict[str, Any], scoring: str = "generate") -> dict[str, dict[str, Any]]:
    """Per dataset: ``rows``, one per method with a PDR (it, anit, it-matched, then the rest in table order): its
    ``worst`` and ``near`` PDR as (mean over its seeds, low, high) of the paired bootstrap, each seed's own PDR
    (``per_seed``: case -> values), ``seeds`` and mean ``raw``; ``goal`` and ``goal_near``, half of `it`'s PDR
    under each worst case where the protocol sees that drop (None elsewhere); and the verdicts under the worst case,
    against `it` (``vs_it``) and against `it-matched` (``vs_matched``), in words."""
    verdicts = {v["dataset"]: v for v in robustness.get("verdicts", {}).get(scoring, [])}
    near = {v["dataset"]: v for v in robustness.get("verdicts_near", {}).get(scoring, [])}
    out: dict[str, dict[str, Any]] = {}
    for dataset, lines in robustness["tables"].get(scoring, {}).items():
        order = sorted(lines, key=lambda line: LEAD.index(line["method"]) if line["method"] in LEAD else len(LEAD))
        rows = [{"method": line["method"], "seeds": line["seeds"], "raw": (line.get("raw") or [None])[0],
                 "worst": _interval(line.get("pooled_worst")), "near": _interval(line.get("pooled_near")),
                 "per_seed": {case: [seed.get(f"pdr_{case}") for seed in (line.get("per_seed") or {}).values()]
                              for case in CASES}}
                for line in order]
        rows = [row for row in rows if row["worst"] or row["near"]]
        if not rows:
            continue
        said = verdicts.get(dataset, {})
        anit = next((line for line in lines if line["method"] == "anit"), {})
        reading = matched_reading((anit.get("matched") or {}).get("worst"))
        it = next((row for row in rows if row["method"] == "it"), None)
        out[dataset] = {
            "rows": rows, "goal": it["worst"][0] / 2 if it and it["worst"] and said.get("seen") else None,
            "goal_near": it["near"][0] / 2 if it and it["near"] and near.get(dataset, {}).get("seen") else None,
            "vs_it": said.get("outcome"), "vs_matched": GOAL_SHORT.get(reading) if reading else None}
    return out


def answer_plot(points: dict[str, dict[str, Any]], path: Path) -> bool:
    """Draw :func:`answer_points` (one panel per dataset) to ``path``; False when there is nothing to draw."""
    panels = {f"{dataset}\nvs it: {point['vs_it'] or '-'}\nvs it-matched: {point['vs_matched'] or '-'}": {
        "band": point["goal"], "line": point["goal_near"], "rows": [
            {"label": f"{row['method']} ({len(row['seeds'])})"
                      + (f" raw {row['raw']:.2f}" if row["raw"] is not None else ""),
             "colour": COLOURS.get(row["method"]),
             "marks": {AGAINST[case]: row[case] for case in CASES if row[case]},
             "dots": {AGAINST[case]: row["per_seed"][case] for case in CASES if len(row["seeds"]) > 1}}
            for row in point["rows"]]} for dataset, point in points.items()}
    return drops_plot(path, panels, "goal, worst case: ≤ half of it's drop", "goal, near worst case") is not None
