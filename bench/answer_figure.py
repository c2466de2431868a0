"""The robustness answer as one picture: per dataset, each method's worst-case drop rate (PDR) with its paired
interval, the goal's band (at most half of `it`'s drop) and the verdicts against `it` and `it-matched` in the title.

    from bench.answer_figure import answer_points, answer_plot
    answer_plot(answer_points(robustness), Path("docs/answer.png"))

:func:`answer_points` is pure (what the picture shows, from the benchmark JSON); :func:`answer_plot` only draws it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anit.report.versus import MET, NO_SCORE, NOT_SEEN, OVER_HALF, RAW_LOWER
from bench.robustness_report import MATCHED, matched_reading

LEAD = ("it", "anit", MATCHED)
"""The methods the verdicts compare, drawn first and in colour; the others follow in grey."""
COLOURS = {"it": "#444444", "anit": "#d9480f", MATCHED: "#7048e8"}
SHORT = {MET: "meets", OVER_HALF: "fails (over half its drop)", RAW_LOWER: "fails (raw lower)",
         NO_SCORE: "fails (raw 0)", NOT_SEEN: "not judged (no drop seen)"}
"""Each reading of the goal against it-matched (:func:`anit.report.versus.goal`), short enough for a title."""
FLOOR = -0.5
"""The axis starts here at the lowest: an interval reaching further (a PDR on a near-zero raw score) is cut."""


def _interval(found: dict[str, Any] | None) -> tuple[float, float, float] | None:
    return (found["value"], found["low"], found["high"]) if found and found.get("value") is not None else None


def answer_points(robustness: dict[str, Any], scoring: str = "generate") -> dict[str, dict[str, Any]]:
    """Per dataset: ``rows``, one per method with a PDR (it, anit, it-matched, then the rest in table order): its
    ``worst`` and ``near`` PDR as (mean over its seeds, low, high) of the paired bootstrap, ``seeds`` and mean
    ``raw``; ``goal`` and ``goal_near``, half of `it`'s PDR under each worst case where the protocol sees that drop
    (None elsewhere); and the verdicts under the worst case, against `it` (``vs_it``) and against `it-matched`
    (``vs_matched``), in words."""
    verdicts = {v["dataset"]: v for v in robustness.get("verdicts", {}).get(scoring, [])}
    near = {v["dataset"]: v for v in robustness.get("verdicts_near", {}).get(scoring, [])}
    out: dict[str, dict[str, Any]] = {}
    for dataset, lines in robustness["tables"].get(scoring, {}).items():
        order = sorted(lines, key=lambda line: LEAD.index(line["method"]) if line["method"] in LEAD else len(LEAD))
        rows = [{"method": line["method"], "seeds": line["seeds"], "raw": (line.get("raw") or [None])[0],
                 "worst": _interval(line.get("pooled_worst")), "near": _interval(line.get("pooled_near"))}
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
            "vs_it": said.get("outcome"), "vs_matched": SHORT.get(reading) if reading else None}
    return out


def answer_plot(points: dict[str, dict[str, Any]], path: Path) -> bool:
    """Draw :func:`answer_points` (one panel per dataset) to ``path``; False when there is nothing to draw."""
    if not points:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(points), figsize=(4.0 * len(points), 0.45 * max(
        len(p["rows"]) for p in points.values()) + 1.6), squeeze=False, sharey=False)
    for ax, (dataset, point) in zip(axes[0], points.items()):
        rows = point["rows"]
        ys = list(range(len(rows)))[::-1]
        low = max(FLOOR, min([r[k][1] for r in rows for k in ("worst", "near") if r[k]] + [0.0]) - 0.05)
        if point["goal"] is not None:
            ax.axvspan(low, point["goal"], color="#d3f9d8", zorder=0)
        if point["goal_near"] is not None:
            ax.axvline(point["goal_near"], color="#2b8a3e", lw=1, ls="--", zorder=1)
        ax.axvline(0, color="#999999", lw=0.8, zorder=1)
        for y, row in zip(ys, rows):
            colour = COLOURS.get(row["method"], "#adb5bd")
            for key, offset, marker, face in (("worst", 0.12, "o", colour), ("near", -0.12, "s", "white")):
                if row[key]:
                    value, lo, hi = row[key]
                    ax.plot([lo, hi], [y + offset] * 2, color=colour, lw=1.6, zorder=2)
                    ax.plot([value], [y + offset], marker=marker, color=colour, markerfacecolor=face, ms=6, zorder=3)
        ax.set_yticks(ys, [f"{r['method']} ({len(r['seeds'])})" + (f" raw {r['raw']:.2f}" if r["raw"] is not None
                                                                     else "") for r in rows], fontsize=8)
        ax.set_xlim(left=low)
        ax.set_xlabel("PDR = 1 − worst/raw (lower: more robust)", fontsize=8)
        ax.set_title(f"{dataset}\nvs it: {point['vs_it'] or '-'}\nvs it-matched: {point['vs_matched'] or '-'}",
                     fontsize=9)
    handles = [plt.Line2D([], [], marker="o", color="#444444", lw=1.6, label="worst case"),
               plt.Line2D([], [], marker="s", color="#444444", markerfacecolor="white", lw=1.6,
                          label="near worst case"),
               plt.Rectangle((0, 0), 1, 1, color="#d3f9d8", label="goal, worst case: ≤ half of it's drop"),
               plt.Line2D([], [], color="#2b8a3e", ls="--", label="goal, near worst case")]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True
