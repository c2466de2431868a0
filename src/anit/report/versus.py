"""Methods against a baseline, paired on the records both scored: the raw score difference, and for each family
of instructions whose every member scored the same records (the held-out pool, an attack's worst ones, a file) the
difference of the worst-case drop rates, each model under its own worst instruction of that family. Intervals are
paired bootstrap 95% intervals over records, so "ANIT's drop is smaller than it's" can be read with its
uncertainty. Reads the prediction files ``anit eval`` writes beside metrics.json."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from anit.evaluation.robustness import drop_rates, goal_margin, holds, paired_against, paired_gap, pooled
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
        out["families"][name] = {"records": len(shared), "mine": worst_a, "theirs": worst_b, **{
            k: diff[k] for k in ("pdr_diff", "pdr_low", "pdr_high", "mine_pdr", "mine_low", "mine_high", "theirs_pdr",
                                 "theirs_low", "theirs_high")}}
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


def seed_pairs(baseline: str, folders: dict[str, Path]) -> dict[str, dict[str, tuple[str, str]]] | None:
    """Where ``baseline`` is the folder name of several results, one per seed (``seed0/it``, ``seed1/it``): method
    (folder name) -> seed (the folder both sit in) -> (its result's name, the baseline's beside it). A result with no
    baseline beside it is left out. None where no result folder is named ``baseline``."""
    beside = {folder.parent: name for name, folder in folders.items() if folder.name == baseline}
    if not beside:
        return None
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for name, folder in folders.items():
        if folder.parent in beside:
            seed = beside[folder.parent].rpartition("/")[0] or folder.parent.name
            out.setdefault(folder.name, {})[seed] = (name, beside[folder.parent])
    return out


SIDES = {"mine": lambda ra, wa, rb, wb: drop_rates(ra, wa), "theirs": lambda ra, wa, rb, wb: drop_rates(rb, wb),
         "pdr": lambda ra, wa, rb, wb: drop_rates(ra, wa) - drop_rates(rb, wb)}
"""What a pooled family comparison averages over seeds, from (raw, worst) of the method and of the baseline."""


def compare_seeds(task: str, dataset: str, runs: dict[str, tuple[Path, Path]], rows: dict[str, dict[str, Any]]
                  ) -> dict[str, Any] | None:
    """One method against the baseline over seeds: ``runs`` (seed -> the method's folder, the baseline's folder
    trained on the same seed) and ``rows`` (seed -> that seed's :func:`compare`). The raw difference and, per family
    every seed compared, each side's drop rate (each model under its own worst of the family on each seed) and their
    difference, averaged over the seeds, with one paired bootstrap 95% interval over the records all of them share
    (:func:`anit.evaluation.robustness.pooled`); each seed's own drop rates ride along (``mine_seeds``) for the
    seed-to-seed spread the interval leaves out, and from three seeds ``margin``, the method's PDR minus half of
    the baseline's with a t interval over the seeds (:func:`anit.evaluation.robustness.goal_margin`), which counts
    it. None where the seeds share no raw record."""
    seeds = sorted(rows)
    raws = {s: (pairs(runs[s][0], "raw", dataset), pairs(runs[s][1], "raw", dataset)) for s in seeds}
    raw = pooled(task, [raws[s] for s in seeds], lambda a, b: a - b)
    if raw is None:
        return None
    out: dict[str, Any] = {"records": raw["n"], "raw_diff": raw["value"], "raw_low": raw["low"],
                           "raw_high": raw["high"], "seeds": seeds, "families": {}}
    for name in sorted(set.intersection(*(set(rows[s]["families"]) for s in seeds))):
        found = {s: rows[s]["families"][name] for s in seeds}
        maps = [(raws[s][0], pairs(runs[s][0], found[s]["mine"], dataset), raws[s][1],
                 pairs(runs[s][1], found[s]["theirs"], dataset)) for s in seeds]
        parts = {key: pooled(task, maps, combine) for key, combine in SIDES.items()}
        if parts["pdr"] is None and parts["mine"] is None and parts["theirs"] is None:
            continue
        entry: dict[str, Any] = {"records": next(p["n"] for p in parts.values() if p),
                                 "mine": [found[s]["mine"] for s in seeds],
                                 "theirs": [found[s]["theirs"] for s in seeds],
                                 "mine_seeds": [found[s]["mine_pdr"] for s in seeds],
                                 "theirs_seeds": [found[s]["theirs_pdr"] for s in seeds]}
        entry["margin"] = goal_margin(entry["mine_seeds"], entry["theirs_seeds"])
        for key, part in parts.items():
            value = "pdr_diff" if key == "pdr" else f"{key}_pdr"
            entry.update({value: part and part["value"], f"{key}_low": part and part["low"],
                          f"{key}_high": part and part["high"]})
        out["families"][name] = entry
    return out


def against_seeds(baseline: str, results: dict[str, dict[str, Any]], folders: dict[str, Path],
                  datasets: dict[str, str], seeds: dict[str, dict[str, tuple[str, str]]]
                  ) -> dict[str, dict[str, dict[str, Any]]]:
    """Dataset -> method -> :func:`compare_seeds` against ``baseline``, each seed's run against the baseline's run of
    the same seed (``seeds``: :func:`seed_pairs`)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for dataset, task in datasets.items():
        for method, by_seed in sorted(seeds.items()):
            if method == baseline:
                continue
            runs = {seed: (folders[a], folders[b]) for seed, (a, b) in by_seed.items()
                    if all(dataset in results[n]["conditions"].get("raw", {}) for n in (a, b))}
            rows = {seed: row for seed, (a, b) in runs.items()
                    if (row := compare(task, dataset, (a, results[by_seed[seed][0]]), (b, results[by_seed[seed][1]]))
                        )}
            row = compare_seeds(task, dataset, {s: runs[s] for s in rows}, rows) if rows else None
            if row:
                out.setdefault(dataset, {})[method] = row
    return out


NO_SCORE, NOT_SEEN, OVER_HALF, RAW_LOWER, MET = "no score", "not seen", "over half", "raw lower", "met"


def goal(base_pdr: float, base_low: float, pdr: float | None, raw_high: float | None) -> str:
    """The robustness goal, as the benchmark judges it: a method's worst-case drop rate at most half of the
    baseline's while its raw score is not lower (``raw_high``, the top of the paired interval of raw - baseline's
    raw, not below 0). Judged only where the baseline's drop is seen (``base_low``, the bottom of its PDR interval,
    above 0). Returns NO_SCORE (the method scores 0 raw: no PDR), NOT_SEEN, OVER_HALF, RAW_LOWER or MET."""
    if pdr is None:
        return NO_SCORE
    if base_low <= 0:
        return NOT_SEEN
    if pdr > 0.5 * base_pdr:
        return OVER_HALF
    return RAW_LOWER if raw_high is not None and raw_high < 0 else MET


GOAL_SHORT = {MET: "meets", OVER_HALF: "fails (over half its drop)", RAW_LOWER: "fails (raw lower)",
              NO_SCORE: "fails (raw 0)", NOT_SEEN: "not judged (no drop seen)"}
"""Each outcome of :func:`goal`, short enough for a plot's label."""


def difference(found: dict[str, Any] | None, key: str) -> str:
    """``found[key_diff]`` with its interval ``[key_low, key_high]`` as text (``+0.012 [-0.030, +0.051]``): the
    interval left out where it is None, ``-`` where there is no difference."""
    if not found or found.get(f"{key}_diff") is None:
        return "-"
    low, high = found[f"{key}_low"], found[f"{key}_high"]
    return f"{found[f'{key}_diff']:+.3f}" + (f" [{low:+.3f}, {high:+.3f}]" if low is not None else "")


def reading(baseline: str, row: dict[str, Any], found: dict[str, Any]) -> str:
    """In words, what one method's comparison with the baseline under one family of instructions says: the goal
    (:func:`goal`) and, where the drop is not halved, whether it is smaller or larger beyond its interval."""
    if found.get("theirs_low") is None:
        return f"no drop rate: {baseline} scores 0 raw"
    outcome = goal(found["theirs_pdr"], found["theirs_low"], found["mine_pdr"], row["raw_high"])
    if outcome == NO_SCORE:
        return "no drop rate: scores 0 raw"
    if outcome == NOT_SEEN:
        return f"not judged: {baseline}'s drop is not seen (its interval reaches 0)"
    if outcome == MET:
        margin = found.get("margin")
        held = "" if not margin else (f"; counting the training seed (PDR minus half of {baseline}'s, a t interval "
                                      f"over {margin['n']} seeds: {margin['value']:+.3f} [{margin['low']:+.3f}, "
                                      f"{margin['high']:+.3f}]) " + ("it holds" if holds(margin) else
                                                                     "not settled"))
        return f"**meets the goal**: at most half of {baseline}'s drop, raw not lower{held}"
    if outcome == RAW_LOWER:
        return f"at most half of {baseline}'s drop, but raw lower"
    clear = found["pdr_high"] is not None and found["pdr_high"] < 0
    worse = found["pdr_low"] is not None and found["pdr_low"] > 0
    return ("a smaller drop, but more than half of " + baseline + "'s" if clear else
            f"a larger drop than {baseline}'s" if worse else f"no clear difference from {baseline}'s drop")


def _named(method: str, row: dict[str, Any]) -> str:
    """A method as a table names it: with the number of seeds its comparison averages, where it averages several."""
    return f"{method} ({len(row['seeds'])} seeds)" if len(row.get("seeds", ())) > 1 else method


def in_short(baseline: str, compared: dict[str, dict[str, dict[str, Any]]]) -> list[tuple[str, str]]:
    """The glance per method, as (verdict, the counts behind it). The verdict: yes on the (dataset, family of
    instructions) where the method meets the goal and, from three seeds, that holds with the training seed counted
    (its margin's t interval below 0); not shown where it meets it only on the record intervals; not settled where
    it meets it with fewer than three seeds; no where it meets it nowhere; not judged where the baseline's drop is
    seen nowhere."""
    cells: dict[str, dict[str, list[str]]] = {}
    for dataset, rows in compared.items():
        for method, row in rows.items():
            mine = cells.setdefault(method, {"seen": [], "met": [], "counted": [], "held": []})
            for name, found in sorted(row["families"].items()):
                if found.get("theirs_low") is None or found["theirs_low"] <= 0:
                    continue
                cell = f"{dataset} {name}"
                mine["seen"].append(cell)
                if goal(found["theirs_pdr"], found["theirs_low"], found["mine_pdr"], row["raw_high"]) == MET:
                    mine["met"].append(cell)
                    margin = found.get("margin")
                    mine["counted"] += [cell] if margin else []
                    mine["held"] += [cell] if holds(margin) else []
    lines = []
    for method, mine in cells.items():
        if not mine["seen"]:
            lines.append((f"{method}: not judged", f"{baseline}'s drop is seen under no family of instructions"))
            continue
        verdict = (f"yes on {', '.join(mine['held'])}" if mine["held"] else "not shown" if mine["counted"] else
                   "not settled (fewer than three seeds)" if mine["met"] else "no")
        text = (f"at most half of {baseline}'s drop with the raw score not lower on {len(mine['met'])} of the "
                f"{len(mine['seen'])} (dataset, instructions) where {baseline}'s drop is seen"
                + (f" ({', '.join(mine['met'])})" if mine["met"] else ""))
        if mine["counted"]:
            text += f"; with the training seed counted it holds on {', '.join(mine['held']) or 'none of them'}"
        lines.append((f"{method}: {verdict}", text))
    return lines


def glance_table(baseline: str, compared: dict[str, dict[str, dict[str, Any]]]) -> list[list[str]]:
    """Every method against the baseline, one row per dataset and family of instructions: both drop rates with
    their paired intervals, their difference, the raw difference and the :func:`reading` of them."""
    table = [["dataset", "method", "instructions", f"{baseline} PDR", "method PDR", f"PDR - {baseline}'s",
              f"raw - {baseline}'s", "reading"]]
    for dataset, rows in compared.items():
        for method, row in rows.items():
            for name, found in sorted(row["families"].items()):
                table.append([dataset, _named(method, row), name, _pdr(found, "theirs"), _pdr(found, "mine"),
                              difference(found, "pdr"), difference(row, "raw"), reading(baseline, row, found)])
    return table


def glance_points(baseline: str, compared: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """What the glance picture draws (:func:`anit.report.plots.drops_plot`), one panel per dataset and family of
    instructions: the baseline's drop rate (as the first method's comparison measured it, on the records they
    share) and each method's, each as (PDR, low, high) of its paired interval, labelled with the :func:`goal`'s
    outcome; the goal's ``band`` (half the baseline's drop) where its drop is seen, and where it is not, the title
    says so instead."""
    panels: dict[str, dict[str, Any]] = {}
    for dataset, rows in compared.items():
        for name in sorted({name for row in rows.values() for name in row["families"]}):
            found = {method: (row, row["families"][name]) for method, row in rows.items() if name in row["families"]}
            first = next(iter(found.values()))[1]
            base = first["theirs_pdr"], first["theirs_low"], first["theirs_high"]
            seen = base[1] is not None and base[1] > 0
            marks = [{"label": baseline, "colour": "#444444", "marks": {"PDR": base} if base[0] is not None else {},
                      "dots": {"PDR": first.get("theirs_seeds", [])}}]
            for method, (row, one) in found.items():
                said = GOAL_SHORT[goal(base[0], base[1], one["mine_pdr"], row["raw_high"])] if seen else None
                marks.append({"label": f"{_named(method, row)}: {said}" if said else _named(method, row),
                              "colour": "#d9480f" if said == GOAL_SHORT[MET] else None,
                              "marks": {"PDR": (one["mine_pdr"], one["mine_low"], one["mine_high"])}
                              if one["mine_pdr"] is not None else {},
                              "dots": {"PDR": one.get("mine_seeds", [])}})
            title = f"{dataset}: {name}" + ("" if seen else f"\nnot judged: {baseline}'s drop is not seen")
            panels[title] = {"rows": marks, "band": base[0] / 2 if seen else None}
    return panels


def _pdr(found: dict[str, Any], side: str) -> str:
    value, low, high = found[f"{side}_pdr"], found[f"{side}_low"], found[f"{side}_high"]
    return "-" if value is None else f"{value:.3f}" + (f" [{low:+.2f}, {high:+.2f}]" if low is not None else "")


def versus_table(baseline: str, rows: dict[str, dict[str, Any]]) -> list[list[str]]:
    """One dataset's comparison as rows of text: method, records, raw difference, then per family the difference
    of the worst-case drop rates, and of the pooled noisy one (negative: a smaller drop than the baseline's)."""
    names = sorted({name for row in rows.values() for name in row["families"]})
    header = ["method", "records", f"raw - {baseline}'s [95% CI]"] + [
        f"{name}: {'PDR' if name == POOLED else 'worst-case PDR'} - {baseline}'s [95% CI]" for name in names]
    table = [header]
    for method, row in rows.items():
        table.append([_named(method, row), str(row["records"]), difference(row, "raw")]
                     + [difference(row["families"].get(name), "pdr") for name in names])
    return table
