"""``anit report``: from result folders, a Markdown and HTML report with tables and PNG plots.

A result folder is any folder holding ``metrics.json`` (from ``anit eval``); its name is the method
shown in the tables. ``train_summary.json`` files found under the same roots give the loss curves.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Sequence

from anit.tasks import TASKS
from anit.errors import AnitError
from anit.jsonl import read_jsonl

BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0001)


def collect(roots: Sequence[Path]) -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """(method -> metrics.json, method -> noisy prediction rows, run -> train_summary.json)."""
    results, noisy_rows, summaries = {}, defaultdict(list), {}
    for root in roots:
        if not Path(root).is_dir():
            raise AnitError(f"{root}: no such folder")
        for metrics in sorted(Path(root).rglob("metrics.json")):
            method = metrics.parent.name
            results[method] = read_metrics(metrics)
            for predictions in sorted(metrics.parent.glob("noisy-*.predictions.jsonl")):
                noisy_rows[method].extend(read_jsonl(predictions))
        for summary in sorted(Path(root).rglob("train_summary.json")):
            summaries[summary.parent.name] = json.loads(summary.read_text())
    if not results:
        raise AnitError(f"no metrics.json under {', '.join(map(str, roots))}; give the --out folders of `anit eval`")
    return results, dict(noisy_rows), summaries


def read_metrics(path: Path) -> dict[str, Any]:
    """An evaluation's metrics.json; a corrupted or wrongly shaped one stops with its name."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise AnitError(f"{path}: not valid JSON ({err}); rerun `anit eval` for this folder") from None
    conditions = data.get("conditions") if isinstance(data, dict) else None
    if not isinstance(conditions, dict) or not all(
            isinstance(per, dict) and all(isinstance(m, dict) and "task" in m for m in per.values())
            for per in conditions.values()):
        raise AnitError(f"{path}: not an `anit eval` metrics.json (expected conditions -> dataset -> metrics with "
                        "a task)")
    return data


def tables(results: dict[str, dict[str, Any]]) -> dict[str, list[list[str]]]:
    """Per dataset: a header and one row per method, the primary score under every condition and the gaps."""
    datasets: dict[str, set[str]] = defaultdict(set)
    for result in results.values():
        for condition, per_dataset in result["conditions"].items():
            for dataset in per_dataset:
                datasets[dataset].add(condition)
    out = {}
    for dataset, conds in sorted(datasets.items()):
        order = sorted(conds, key=lambda c: (c != "raw", c))
        header = ["method"] + order + [f"gap {c}" for c in order if c != "raw"]
        rows = [header]
        for method, result in sorted(results.items()):
            cells = [method]
            for condition in order:
                metrics = result["conditions"].get(condition, {}).get(dataset)
                cells.append(f"{metrics[TASKS.get(metrics['task']).primary]:.3f}" if metrics else "-")
            for condition in order[1:]:
                gap = result.get("gaps", {}).get(dataset, {}).get(condition)
                cells.append(f"{gap['gap']:+.3f}" if gap is not None else "-")
            rows.append(cells)
        out[dataset] = rows
    return out


def by_distortion(rows: Sequence[dict[str, Any]]) -> list[tuple[str, int, float]]:
    """(bin, count, share correct) of noisy predictions by their first distortion score."""
    binned: dict[int, list[bool]] = defaultdict(list)
    for row in rows:
        if row.get("distortion"):
            d = next(iter(row["distortion"].values()))
            index = next(i for i in range(len(BINS) - 1) if d < BINS[i + 1])
            binned[index].append(row["correct"])
    return [(f"[{BINS[i]:.1f}, {min(BINS[i + 1], 1.0):.1f})", len(v), sum(v) / len(v))
            for i, v in sorted(binned.items())]


def _plots(out: Path, noisy_rows: dict[str, list[dict[str, Any]]], summaries: dict[str, Any]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for method, rows in noisy_rows.items():
        bins = by_distortion(rows)
        if bins:
            ax.plot([b[0] for b in bins], [b[2] for b in bins], marker="o", label=method)
    ax.set_xlabel("distortion bin")
    ax.set_ylabel("share correct")
    ax.set_title("Score by distortion")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "score_by_distortion.png")
    files.append("score_by_distortion.png")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    any_rows = next(iter(noisy_rows.values()), [])
    ax.hist([next(iter(r["distortion"].values())) for r in any_rows if r.get("distortion")], bins=20, range=(0, 1))
    ax.set_xlabel("distortion d")
    ax.set_ylabel("noisy instructions")
    ax.set_title("Distortion of the noisy set")
    fig.tight_layout()
    fig.savefig(out / "distortion_histogram.png")
    files.append("distortion_histogram.png")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for run, summary in summaries.items():
        points = [(h["step"], h["loss"]) for h in summary.get("log_history", []) if "loss" in h and "step" in h]
        if points:
            ax.plot(*zip(*points), label=run)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title("Training loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "training_loss.png")
    files.append("training_loss.png")
    plt.close("all")
    return files


def write_report(roots: Sequence[Path], out: Path) -> Path:
    results, noisy_rows, summaries = collect(roots)
    out.mkdir(parents=True, exist_ok=True)
    plots = _plots(out, noisy_rows, summaries)
    md = ["# anit report", "", "Primary score: accuracy (tc) or micro-F1 (ner, re, absa); a gap is the score under a "
          "condition minus the raw one (negative = a drop).", ""]
    body = ["<h1>anit report</h1>"]
    for dataset, rows in tables(results).items():
        md += [f"## {dataset}", "", "| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        md += ["| " + " | ".join(r) + " |" for r in rows[1:]] + [""]
        body.append(f"<h2>{html.escape(dataset)}</h2><table border=1><tr>"
                    + "".join(f"<th>{html.escape(c)}</th>" for c in rows[0]) + "</tr>"
                    + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows[1:])
                    + "</table>")
    md += ["## Score by distortion", ""]
    for method, rows in noisy_rows.items():
        md += [f"- {method}: " + ", ".join(f"{b} n={n} {acc:.3f}" for b, n, acc in by_distortion(rows))]
    md += [""] + [f"![{p}]({p})" for p in plots]
    body += [f'<img src="{p}">' for p in plots]
    (out / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    (out / "report.html").write_text("<html><body>" + "\n".join(body) + "</body></html>\n", encoding="utf-8")
    return out / "report.md"
