"""Methods against a baseline, paired on the records both scored: the raw score difference, and for each family
of instructions whose every member scored the same records (the held-out pool, an attack's worst ones, a file) the
difference of the worst-case drop rates, each model under its own worst instruction of that family. Intervals are
paired bootstrap 95% intervals over records, so "ANIT's drop is smaller than it's" can be read with its
uncertainty. Reads the prediction files ``anit eval`` writes beside metrics.json."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from anit.evaluation.robustness import paired_against, paired_gap
from anit.jsonl import read_jsonl

SPLIT = ("noisy",)
"""Families whose members score different records (each noisy type the records that drew it): not compared as
families; their pooled condition (every record under its own noisy instruction) is, as ``POOLED``."""
POOLED = "noisy (pooled)"


def file_version(path: Path) -> tuple[int, int]:
    """A file's version for the read caches: modification time and size (a rewrite within one clock tick mostly
    changes the size)."""
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=256)
def _rows(path: Path, version: tuple[int, int]) -> tuple[dict[str, Any], ...]:
    return tuple(read_jsonl(path))


def predictions(folder: Path, condition: str) -> tuple[dict[str, Any], ...]:
    """The rows ``anit eval`` wrote for ``condition`` in ``folder`` (none where it wrote none), read once per
    version of the file however many datasets and comparisons read them."""
    path = folder / f"{condition}.predictions.jsonl"
    return _rows(path, file_version(path)) if path.exists() else ()


def pairs(folder: Path, condition: str, dataset: str) -> dict[str, tuple[Any, Any]]:
    """Record id -> (parsed answer, gold) of one dataset under one condition; ``noisy`` pools the noise types (each
    record under the one noisy instruction it drew), as metrics.json does."""
    names = [condition] if condition != "noisy" else sorted(
        path.name[:-len(".predictions.jsonl")] for path in folder.glob("noisy-*.predictions.jsonl"))
    return {r["id"]: (r["parsed"], r["gold"]) for name in names for r in predictions(folder, name)
            if r["dataset"] == dataset}


def compare(task: str, dataset: str, mine: tuple[Path, dict[str, Any]], theirs: tuple[Path, dict[str, Any]]
            ) -> dict[str, Any] | None:
    """One method (folder, metrics) against the baseline on one dataset; None where they share no raw record."""
    (a_dir, a), (b_dir, b) = mine, theirs
    raw_a, raw_b = pairs(a_dir, "raw", dataset), pairs(b_dir, "raw", dataset)
    ids = sorted(set(raw_a) & set(raw_b))
    if not ids:
        return None
    gap = paired_gap(task, [raw_b[i] for i in ids], [raw_a[i] for i in ids])
    out: dict[str, Any] = {"records": len(ids), "raw_diff": gap["gap"], "raw_low": gap["low"],
                           "raw_high": gap["high"], "families": {}}
    compared = [(name, a["sensitivity"][name].get(dataset, {}).get("worst_condition"),
                 b["sensitivity"][name].get(dataset, {}).get("worst_condition"))
                for name in sorted(set(a.get("sensitivity", {})) & set(b.get("sensitivity", {})) - set(SPLIT))]
    if all(any(c.startswith("noisy-") and dataset in per for c, per in m["conditions"].items()) for m in (a, b)):
        compared.append((POOLED, "noisy", "noisy"))
    for name, worst_a, worst_b in compared:
        if not worst_a or not worst_b:
            continue
        sets = [raw_a, pairs(a_dir, worst_a, dataset), raw_b, pairs(b_dir, worst_b, dataset)]
        shared = sorted(set.intersection(*(set(s) for s in sets)))
        if not shared:
            continue
        aligned = [[s[i] for i in shared] for s in sets]
        diff = paired_against(task, (aligned[0], aligned[1]), (aligned[2], aligned[3]))
        out["families"][name] = {"records": len(shared), "mine": worst_a, "theirs": worst_b,
                                 **{k: diff[k] for k in ("pdr_diff", "pdr_low", "pdr_high")}}
    return out


def against(baseline: str, results: dict[str, dict[str, Any]], folders: dict[str, Path],
            datasets: dict[str, str]) -> dict[str, dict[str, dict[str, Any]]]:
    """Dataset -> method -> :func:`compare` against ``baseline`` (a method name of ``results``)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for dataset, task in datasets.items():
        if dataset not in results[baseline]["conditions"].get("raw", {}):
            continue
        for method in sorted(results):
            if method != baseline and dataset in results[method]["conditions"].get("raw", {}):
                row = compare(task, dataset, (folders[method], results[method]),
                              (folders[baseline], results[baseline]))
                if row:
                    out.setdefault(dataset, {})[method] = row
    return out


def difference(found: dict[str, Any] | None, key: str) -> str:
    """``found[key_diff]`` with its interval ``[key_low, key_high]`` as text (``+0.012 [-0.030, +0.051]``): the
    interval left out where it is None, ``-`` where there is no difference."""
    if not found or found.get(f"{key}_diff") is None:
        return "-"
    low, high = found[f"{key}_low"], found[f"{key}_high"]
    return f"{found[f'{key}_diff']:+.3f}" + (f" [{low:+.3f}, {high:+.3f}]" if low is not None else "")


def versus_table(baseline: str, rows: dict[str, dict[str, Any]]) -> list[list[str]]:
    """One dataset's comparison as rows of text: method, records, raw difference, then per family the difference
    of the worst-case drop rates, and of the pooled noisy one (negative: a smaller drop than the baseline's)."""
    names = sorted({name for row in rows.values() for name in row["families"]})
    header = ["method", "records", f"raw - {baseline}'s [95% CI]"] + [
        f"{name}: {'PDR' if name == POOLED else 'worst-case PDR'} - {baseline}'s [95% CI]" for name in names]
    table = [header]
    for method, row in rows.items():
        table.append([method, str(row["records"]), difference(row, "raw")]
                     + [difference(row["families"].get(name), "pdr") for name in names])
    return table
