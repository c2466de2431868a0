"""``anit report``: from result folders, ``report.md`` and a self-contained ``report.html`` (plots embedded).

A result folder is any folder holding ``metrics.json`` (from ``anit eval``); its name is the method shown in the
tables (two folders of the same name are told apart by their path under the root). ``train_summary.json`` files
found under the same roots give the training curves. Per dataset the report shows methods x conditions with the
paired gaps to raw and their intervals, the spread over each family of instructions (held-out, noisy types, an
attack's worst ones) with the drop rate of the worst, and the score by distortion bin per method, in the task's
own metric.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from typing import Any, Sequence

from anit.errors import AnitError
from anit.evaluation.run import searched_on
from anit.jsonl import read_jsonl
from anit.report.plots import distortion_plot, drops_plot, sensitivity_plot, training_plot
from anit.report.tables import (datasets_of, detail_table, distortion_bins, seeds_table, summary_table,
                                unparsed)
from anit.report.versus import (against, against_seeds, glance_points, glance_table, in_short, seed_pairs,
                                versus_table)
from anit.tasks import TASKS


def _names(found: list[tuple[Path, Path]]) -> dict[Path, str]:
    """Each result folder's method name: its folder name, or as many trailing parts of its path as tell it apart
    from the other folders of that name (``seed0/it``, ``seed1/it``)."""
    folders = [folder.resolve() for _, folder in found]
    names = {}
    for folder in folders:
        depth = 1
        while depth < len(folder.parts) and sum(f.parts[-depth:] == folder.parts[-depth:] for f in folders) > 1:
            depth += 1
        names[folder] = "/".join(folder.parts[-depth:])
    return {folder: names[folder.resolve()] for _, folder in found}


def collect(roots: Sequence[Path]) -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]],
                                            dict[str, Any], dict[str, Path]]:
    """(method -> metrics.json, method -> noisy prediction rows, run -> train_summary.json, method -> folder)."""
    found, runs = [], []
    for root in map(Path, roots):
        if not root.is_dir():
            raise AnitError(f"{root}: no such folder")
        found += [(root, path.parent) for path in sorted(root.rglob("metrics.json"))]
        runs += [(root, path.parent) for path in sorted(root.rglob("train_summary.json"))]
    if not found:
        raise AnitError(f"no metrics.json under {', '.join(map(str, roots))}; give the --out folders of `anit eval`")
    names, run_names = _names(found), _names(runs)
    results = {names[folder]: read_metrics(folder / "metrics.json") for _, folder in found}
    noisy_rows = {names[folder]: [row for path in sorted(folder.glob("noisy-*.predictions.jsonl"))
                                  for row in read_jsonl(path)] for _, folder in found}
    summaries = {run_names[folder]: json.loads((folder / "train_summary.json").read_text()) for _, folder in runs}
    folders = {names[folder]: folder for _, folder in found}
    return results, {k: v for k, v in noisy_rows.items() if v}, summaries, folders


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


def _md_table(rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])] + [
        "| " + " | ".join(r) + " |" for r in rows[1:]] + [""]


def _html_cell(text: str) -> str:
    """A table cell's text as HTML: escaped, with the markdown **bold** the tables use made bold."""
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(text))


def _html_table(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{_html_cell(c)}</td>" for c in r) + "</tr>" for r in rows[1:])
    return f"<table><tr>{head}</tr>{body}</table>"


def _embedded(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.name)}" src="data:image/png;base64,{data}">'


STYLE = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
         "table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:14px}"
         "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
         "th{background:#f3f3f3}img{max-width:100%}")


def seeded(baseline: str, seeds: dict[str, dict[str, tuple[str, str]]], names: Sequence[str]) -> str:
    """What the comparisons over seeds are, in words, and which of the results (``names``) had no baseline of their
    seed beside them."""
    paired = sorted({seed for by_seed in seeds.values() for seed in by_seed})
    alone = sorted(set(names) - {name for by_seed in seeds.values() for name, _ in by_seed.values()})
    return (f" Over seeds ({', '.join(paired)}): each method against the {baseline} of its own seed (the folder "
            f"beside it), the drop rates and differences averaged over the seeds that ran both, with one paired "
            "bootstrap interval over the records they all share; the interval covers the test records, not the "
            "seed-to-seed spread, which the ticks in the picture show (one per seed)."
            + (f" Not compared, with no {baseline} beside them: {', '.join(alone)}." if alone else ""))


METRIC_NAMES = {"f1": "micro-F1"}
"""How the intro names a task's primary metric (the key itself where not here)."""


def glance_for_terminal(report: Path) -> str | None:
    """The report's "At a glance" section as a terminal shows it (its verdicts, then its table), or None where the
    report has none (no baseline)."""
    text = report.read_text(encoding="utf-8")
    if "\n## At a glance" not in text:
        return None
    glance = text.split("\n## At a glance", 1)[1].split("\n## ", 1)[0]
    table = [line for line in glance.splitlines() if line.startswith("|")]
    short = [line[2:].replace("**", "") for line in glance.splitlines() if line.startswith("- **")]
    return "At a glance" + glance.splitlines()[0] + "\n" + "\n".join(short + table) if table else None


def write_report(roots: Sequence[Path], out: Path, baseline: str | None = None) -> Path:
    """The report of every result folder under ``roots``; with ``baseline`` (a method name as the tables show it)
    each dataset also compares every method with it, paired on the records both scored. Where ``baseline`` is the
    folder name of one result per seed (``seed0/it``, ``seed1/it``), each method is compared with the baseline of
    its own seed (the folder beside it) and the comparisons are averaged over the seeds."""
    results, noisy_rows, summaries, folders = collect(roots)
    seeds = seed_pairs(baseline, folders) if baseline is not None and baseline not in results else None
    if baseline is not None and baseline not in results and not seeds:
        raise AnitError(f"--baseline {baseline}: no result folder of that name; the names are "
                        f"{', '.join(sorted(results))} (with one folder per seed, seed0/{baseline}, "
                        f"seed1/{baseline}, name the method: --baseline {baseline})")
    out.mkdir(parents=True, exist_ok=True)
    datasets = datasets_of(results)
    compared = ({} if not baseline else against_seeds(baseline, results, folders, datasets, seeds) if seeds
                else against(baseline, results, folders, datasets))
    metrics: dict[str, list[str]] = {}
    for task in sorted(set(datasets.values())):
        metrics.setdefault(METRIC_NAMES.get(TASKS.get(task).primary, TASKS.get(task).primary), []).append(task)
    intro = ("Scores are each task's metric: " + " or ".join(f"{name} ({', '.join(tasks)})" for name, tasks in
                                                            metrics.items())
             + ". A gap is the score under a condition minus raw on the same records, with a paired bootstrap 95% "
             "interval; a family's worst gives the drop rate PDR = 1 - worst/raw.")
    md, body = ["# anit report", "", intro, ""], [f"<h1>anit report</h1><p>{html.escape(intro)}</p>"]
    sources: dict[tuple[str, str], list[str]] = {}          # (family, where it was searched): the runs scored under it
    for method, data in results.items():
        for stem, found in data.get("transfer", {}).items():
            sources.setdefault((stem, searched_on(found)), []).append(method)
    moved = [f"Transfer: {stem} instructions searched on {origin}, not on the model scored: {', '.join(methods)}."
             for (stem, origin), methods in sources.items()]
    md += [f"- {line}" for line in moved] + ([""] if moved else [])
    body += [f"<p>{html.escape(line)}</p>" for line in moved]
    if compared:
        glance = glance_table(baseline, compared)
        said = (f"Each method against {baseline} on the records both scored, under each family of instructions (each "
                "model under its own worst of the family; noisy pooled: every record under the noisy instruction it "
                f"drew). The goal: a worst-case drop rate at most half of {baseline}'s, the raw score not lower beyond "
                f"the paired interval; judged where {baseline}'s drop is seen (its interval above 0). Paired bootstrap "
                "95% intervals." + (seeded(baseline, seeds, list(results)) if seeds else ""))
        picture = drops_plot(out / "drops.png", glance_points(baseline, compared),
                             f"goal: at most half of {baseline}'s drop")
        short = [(head, text if text.startswith(f"{baseline}'s ") else text[0].upper() + text[1:])
                 for head, text in in_short(baseline, compared)]        # a method's name keeps its case
        md += [f"## At a glance: against {baseline}", ""] + [f"- **{head}.** {text}." for head, text in short] + [
            "", said, ""]
        body += [f"<h2>At a glance: against {html.escape(baseline)}</h2>"] + [
            f"<p><b>{html.escape(head)}.</b> {html.escape(text)}.</p>" for head, text in short] + [
            f"<p>{html.escape(said)}</p>"]
        if picture:
            md += [f"![each method's drop rate against {baseline}'s, with the goal's band]({picture.name})", ""]
            body.append(_embedded(picture))
        md += _md_table(glance)
        body.append(_html_table(glance))
    binned = distortion_bins(noisy_rows, datasets)
    for dataset in datasets:
        summary, detail = summary_table(results, dataset), detail_table(results, dataset)
        md += [f"## {dataset}", ""]
        body += [f"<h2>{html.escape(dataset)}</h2>"]
        if seeds:
            spread = seeds_table(results, dataset, {m: [name for name, _ in by.values()] for m, by in seeds.items()})
            said = "Over seeds: each seed's number, as mean ± std over the seeds (each run's own below):"
            md += [said, ""] + _md_table(spread)
            body += [f"<p>{html.escape(said)}</p>", _html_table(spread)]
        md += _md_table(summary) + ["Every condition:", ""] + _md_table(detail)
        body += [_html_table(summary),
                 f"<details><summary>every condition</summary>{_html_table(detail)}</details>"]
        failed = unparsed(results, dataset)
        if failed:
            said = "Generated answers that could not be parsed (each counted wrong), of the records scored:"
            md += [said, ""] + [f"- {line}" for line in failed] + [""]
            body.append(f"<p>{html.escape(said)}</p><ul>" + "".join(f"<li>{html.escape(line)}</li>"
                                                                     for line in failed) + "</ul>")
        if dataset in compared:
            versus = versus_table(baseline, compared[dataset])
            said = (f"Against {baseline}, on the records both scored (paired bootstrap 95% intervals; each model "
                    "under its own worst instruction of the family; a negative PDR difference is a smaller drop):")
            md += [said, ""] + _md_table(versus)
            body += [f"<p>{html.escape(said)}</p>", _html_table(versus)]
        bins_md = [f"- {method} ({scorer}): " + ", ".join(f"{b} n={n} {score:.3f}{' (few)' if few else ''}"
                                                          for b, n, score, few in bins)
                   for method, (scorer, bins) in binned.get(dataset, {}).items()]
        if bins_md:
            md += ["Score by distortion bin (the task's metric; bins under 10 records marked few):", ""]
            md += bins_md + [""]
            body.append("<p>Score by distortion bin:</p><ul>" + "".join(
                f"<li>{html.escape(line[2:])}</li>" for line in bins_md) + "</ul>")
    plots = [p for p in (sensitivity_plot(out, results, datasets), distortion_plot(out, binned, datasets),
                         training_plot(out, summaries)) if p]
    md += ["## Plots", ""] + [f"![{p.stem}]({p.name})" for p in plots]
    body += ["<h2>Plots</h2>"] + [_embedded(p) for p in plots]
    (out / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    (out / "report.html").write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>anit report</title>"
                                     f"<style>{STYLE}</style></head><body>" + "\n".join(body) + "</body></html>\n",
                                     encoding="utf-8")
    return out / "report.md"
