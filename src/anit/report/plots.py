"""The report's PNG plots: instruction sensitivity, score by distortion, training curves. Each returns its file, or
None when there is nothing to draw."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anit.evaluation.robustness import family
from anit.tasks import TASKS


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path, bottom: float = 0.0) -> Path:
    """Lay out (leaving ``bottom`` of the height to a legend below the panels) and write ``path``."""
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.savefig(path, dpi=90)
    _pyplot().close(fig)
    return path


def sensitivity_plot(out: Path, results: dict[str, dict[str, Any]], datasets: dict[str, str]) -> Path | None:
    """Per dataset, per method: the score under each instruction of every family (dots), raw marked (a bar)."""
    plt = _pyplot()
    panels = [d for d in datasets if any(family(c) and d in per for r in results.values()
                                         for c, per in r["conditions"].items())]
    if not panels:
        return None
    width = max(4.5, 0.45 * len(results) + 1.5)  # room for every run's label
    columns = min(len(panels), max(1, int(18 // width)))
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(width * columns, 3.9 * rows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    colours = {name: f"C{i % 10}" for i, name in enumerate(sorted(_families(results)))}
    for ax, dataset in zip(axes.flat, panels):
        primary = TASKS.get(datasets[dataset]).primary
        shown = [name for name in sorted(results)
                 if any(dataset in per for per in results[name]["conditions"].values())]
        for x, result in enumerate(results[name] for name in shown):
            for condition, per in result["conditions"].items():
                if dataset in per and family(condition):
                    ax.plot(x, per[dataset][primary], "o", alpha=0.6, color=colours[family(condition)])
            raw = result["conditions"].get("raw", {}).get(dataset)
            if raw:
                ax.plot([x - 0.3, x + 0.3], [raw[primary]] * 2, "k-", linewidth=2)
        ax.set_xticks(range(len(shown)), shown, rotation=40, ha="right", fontsize=7)
        ax.set_title(f"{dataset}: score per instruction")
        ax.set_ylabel(primary)
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=colour, label=name)
               for name, colour in colours.items()]
    handles.append(plt.Line2D([], [], color="k", linewidth=2, label="raw"))
    axes.flat[len(panels) - 1].legend(handles=handles, fontsize=7)
    return _save(fig, out / "instruction_sensitivity.png")


def _families(results: dict[str, dict[str, Any]]) -> set[str]:
    return {family(c) for r in results.values() for c in r["conditions"] if family(c)}


def distortion_plot(out: Path, binned: dict[str, dict[str, tuple[str, list[tuple[str, int, float, bool]]]]],
                    datasets: dict[str, str]) -> Path | None:
    """Per dataset, each method's score by distortion bin (``tables.distortion_bins``, the task's metric); bins with
    few records hollow."""
    plt = _pyplot()
    panels = [d for d in datasets if binned.get(d)]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.4), squeeze=False)
    for ax, dataset in zip(axes[0], panels):
        methods = binned[dataset]
        for k, (method, (_, bins)) in enumerate(sorted(methods.items())):
            ax.plot([b[0] for b in bins], [b[2] for b in bins], "-", color=f"C{k}", label=method)
            for label, _, score, few in bins:
                ax.plot(label, score, "o", color=f"C{k}", fillstyle="none" if few else "full")
        ax.set_title(f"{dataset}: score by {next(iter(methods.values()))[0]} distortion")
        ax.set_ylabel(TASKS.get(datasets[dataset]).primary)
        ax.tick_params(axis="x", labelsize=7)
        ax.legend(fontsize=7)
    return _save(fig, out / "score_by_distortion.png")


def training_plot(out: Path, summaries: dict[str, Any]) -> Path | None:
    """The clean loss of every run on one axis (an adversarial method's ``clean_loss``, else its loss), and the
    adversarial loss of the runs that have one on another, so anit's curve does not read as twice it's."""
    plt = _pyplot()
    if not summaries:
        return None
    fig, (clean_ax, adv_ax) = plt.subplots(1, 2, figsize=(10, 3.4))
    for run, summary in sorted(summaries.items()):
        history = [h for h in summary.get("log_history", []) if "step" in h and "loss" in h]
        clean = [(h["step"], h.get("clean_loss", h["loss"])) for h in history]
        adv = [(h["step"], h["adv_loss"]) for h in history if "adv_loss" in h]
        if clean:
            clean_ax.plot(*zip(*clean), label=run)
        if adv:
            adv_ax.plot(*zip(*adv), label=run)
    clean_ax.set(xlabel="step", ylabel="clean loss", title="Training: clean loss")
    adv_ax.set(xlabel="step", ylabel="adversarial loss", title="Training: adversarial term")
    clean_ax.legend(fontsize=7)
    if adv_ax.lines:
        adv_ax.legend(fontsize=7)
    return _save(fig, out / "training_loss.png")


MARKS = (("o", True), ("s", False), ("^", True), ("D", False))
"""Marker and whether it is filled, for each series of :func:`drops_plot` in the order they first appear."""
GOAL_COLOUR, GREY = "#d3f9d8", "#adb5bd"


def drops_plot(path: Path, panels: dict[str, dict[str, Any]], band_label: str, line_label: str | None = None
               ) -> Path | None:
    """Drop rates (PDR) with their intervals, one panel per key of ``panels`` (four to a row): a panel's ``rows``,
    top to bottom, each a ``label``, a ``colour`` (None: grey), ``marks`` (series -> (value, low, high)) and,
    optionally, ``dots`` (series -> the values behind a mean, such as one per seed, drawn small beside it); its
    ``band`` shades from the axis' left edge to that PDR (the goal, ``band_label``) and ``line`` draws a dashed one
    (``line_label``); either None where there is none. An interval reaching below -0.5 is cut at the axis."""
    if not panels:
        return None
    plt = _pyplot()
    series = list(dict.fromkeys(name for p in panels.values() for row in p["rows"] for name in row["marks"]))
    style = {name: MARKS[k % len(MARKS)] for k, name in enumerate(series)}
    spread = len(series) > 1
    columns = min(len(panels), 4)
    grid = -(-len(panels) // columns)
    tall = max(len(p["rows"]) for p in panels.values())
    fig, axes = plt.subplots(grid, columns, figsize=(4.0 * columns, (0.45 * tall + 1.4) * grid + 0.4),
                             squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, (title, panel) in zip(axes.flat, panels.items()):
        rows = panel["rows"]
        ys = list(range(len(rows)))[::-1]
        lows = [mark[1] for row in rows for mark in row["marks"].values() if mark[1] is not None]
        left = max(-0.5, min(lows + [0.0]) - 0.05)
        if panel.get("band") is not None:
            ax.axvspan(left, panel["band"], color=GOAL_COLOUR, zorder=0)
        if panel.get("line") is not None:
            ax.axvline(panel["line"], color="#2b8a3e", lw=1, ls="--", zorder=1)
        ax.axvline(0, color="#999999", lw=0.8, zorder=1)
        for y, row in zip(ys, rows):
            colour = row.get("colour") or GREY
            for name, (value, low, high) in row["marks"].items():
                at = y + (0.12 - 0.24 * series.index(name) / max(len(series) - 1, 1) if spread else 0)
                if low is not None:
                    ax.plot([low, high], [at, at], color=colour, lw=1.6, zorder=2)
                marker, filled = style[name]
                ax.plot([value], [at], marker=marker, color=colour, markerfacecolor=colour if filled else "white",
                        ms=6, zorder=3)
                dots = [x for x in row.get("dots", {}).get(name, []) if x is not None]
                ax.plot(dots, [at + 0.07] * len(dots), "|", color=colour, ms=5, alpha=0.8, zorder=3)
        ax.set_yticks(ys, [row["label"] for row in rows], fontsize=8)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlim(left=left)
        ax.set_xlabel("PDR = 1 − worst/raw (lower: more robust)", fontsize=8)
        ax.set_title(title, fontsize=9)
    handles = [plt.Line2D([], [], marker=style[name][0], color="#444444", lw=1.6,
                          markerfacecolor="#444444" if style[name][1] else "white", label=name)
               for name in (series if spread else [])]
    if any(p.get("band") is not None for p in panels.values()):
        handles.append(plt.Rectangle((0, 0), 1, 1, color=GOAL_COLOUR, label=band_label))
    if line_label and any(p.get("line") is not None for p in panels.values()):
        handles.append(plt.Line2D([], [], color="#2b8a3e", ls="--", label=line_label))
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    return _save(fig, path, bottom=0.6 / fig.get_size_inches()[1])
