"""The robustness benchmark's numbers and verdicts, from its work folder: per dataset and method, raw / held-out /
noisy / worst-case scores over seeds, the paired differences against ``it`` on the same seed, and the verdict in plain
words (the page and JSON that carry them: :mod:`bench.robustness_page`).

The per-run numbers come from each evaluation's metrics.json (sensitivity and paired gaps); the comparisons against
``it`` resample the test records (the same records for both models and both instructions) from the prediction files.
"""

from __future__ import annotations

import collections
import functools
import itertools
import json
import statistics
from pathlib import Path
from typing import Any

from anit.evaluation.robustness import drop_rates, goal_margin, holds, paired_against, pooled
from anit.report.versus import (MET, NO_SCORE, NOT_SEEN, OVER_HALF, RAW_LOWER, difference, file_version, goal,
                                 pairs, predictions)

def run_metrics(folder: Path, scoring: str) -> dict[str, Any] | None:
    path = folder / f"eval-{scoring}" / "metrics.json"
    return json.loads(path.read_text()) if path.exists() else None


def scored_runs(work: Path, *scorings: str) -> list[Path]:
    """The run folders (``<method>-<seed>``) evaluated under every one of ``scorings``, in name order."""
    return [f for f in sorted((work / "runs").glob("*-*")) if all(
        (f / f"eval-{scoring}" / "metrics.json").exists() for scoring in scorings)]


CASES = {"worst": "its worst instruction", "near": "its worst instruction near the raw wording"}
"""The worst cases each run is scored under, by the instruction file its attack wrote (worst.yaml, near.yaml): any
candidate, and those within the benchmark's bound on hard distortion (``--near``)."""
AGAINST = {"worst": "worst case", "near": "near worst case", "unseen": "held-out worst", "noisy": "noisy (pooled)"}
"""What each method is compared with it under, on the same seed and records: the drop rate of each model under its
own worst case, near worst case and worst held-out instruction, and under the pooled noisy condition."""


def run_row(metrics: dict[str, Any], dataset: str) -> dict[str, Any] | None:
    """One run's numbers on one dataset: raw, held-out mean and worst, pooled noisy, and per worst case (CASES) its
    score, PDR with interval and condition (None where the run was not scored under it)."""
    raw = metrics["conditions"].get("raw", {}).get(dataset)
    if raw is None:
        return None
    sens = metrics.get("sensitivity", {})
    unseen = sens.get("unseen", {}).get(dataset, {})
    noisy = metrics["conditions"].get("noisy", {}).get(dataset)
    key = "accuracy" if raw["task"] == "tc" else "f1"
    row = {"raw": raw[key], "unparseable": raw["unparseable"] / max(raw["n"], 1),
           "unseen_mean": unseen.get("mean"), "unseen_worst": unseen.get("worst"),
           "unseen_condition": unseen.get("worst_condition"), "noisy": noisy[key] if noisy else None,
           "noisy_condition": "noisy" if noisy else None}
    for case in CASES:
        found = sens.get(case, {}).get(dataset, {})
        row.update({case: found.get("worst"), f"pdr_{case}": found.get("pdr_worst"),
                    f"{case}_low": found.get("pdr_worst_low"), f"{case}_high": found.get("pdr_worst_high"),
                    f"{case}_condition": found.get("worst_condition")})
    return row


def pooled_raw(work: Path, method: str, seeds: list[int], scoring: str, dataset: str, task: str,
               baseline: str = "it") -> dict[str, Any] | None:
    """``method``'s raw score minus ``baseline``'s, averaged over ``seeds`` (each pair trained on the same seed),
    with one paired bootstrap 95% interval for the mean (:func:`pooled`)."""
    runs = [(_pairs(work / "runs" / f"{method}-{seed}", scoring, "raw", dataset),
             _pairs(work / "runs" / f"{baseline}-{seed}", scoring, "raw", dataset)) for seed in seeds]
    found = pooled(task, runs, lambda a, b: a - b)
    return found and {"seeds": seeds, "raw_diff": found["value"], "raw_low": found["low"], "raw_high": found["high"]}


def pooled_pdr(work: Path, method: str, seeds: list[int], scoring: str, dataset: str, task: str,
               worst: dict[int, str]) -> dict[str, Any] | None:
    """``method``'s drop rate PDR = 1 - worst/raw under its own worst condition of each seed (``worst``: seed ->
    condition), averaged over ``seeds``, with one paired bootstrap 95% interval for the mean (:func:`pooled`): what
    says whether the protocol sees the drop, however many seeds ran."""
    runs = [(_pairs(work / "runs" / f"{method}-{seed}", scoring, "raw", dataset),
             _pairs(work / "runs" / f"{method}-{seed}", scoring, worst[seed], dataset)) for seed in seeds]
    found = pooled(task, runs, drop_rates)
    return found and {"seeds": seeds, **found}


def _pairs(folder: Path, scoring: str, condition: str, dataset: str) -> dict[str, tuple[Any, Any]]:
    return pairs(folder / f"eval-{scoring}", condition, dataset)


def versus_it(work: Path, method: str, seed: int, scoring: str, dataset: str, task: str,
              rows: dict[tuple[str, int], dict[str, Any]], case: str = "worst") -> dict[str, Any] | None:
    """The paired comparison of ``method`` against ``it`` on seed ``seed``, each under its own condition of ``case``
    (AGAINST: its worst instruction of a worst case or of the held-out pool, or the pooled noisy condition)."""
    mine, theirs = rows.get((method, seed)), rows.get(("it", seed))
    at = f"{case}_condition"
    if method == "it" or not mine or not theirs or not mine[at] or not theirs[at]:
        return None
    a_dir, b_dir = work / "runs" / f"{method}-{seed}", work / "runs" / f"it-{seed}"
    a = [_pairs(a_dir, scoring, c, dataset) for c in ("raw", mine[at])]
    b = [_pairs(b_dir, scoring, c, dataset) for c in ("raw", theirs[at])]
    ids = sorted(set(a[0]) & set(a[1]) & set(b[0]) & set(b[1]))
    return paired_against(task, tuple([p[i] for i in ids] for p in a), tuple([p[i] for i in ids] for p in b), seed)


@functools.lru_cache(maxsize=256)
def _worst_yaml(path: Path, version: tuple[int, int]) -> dict[str, list[Any]]:
    """A run's worst.yaml (task -> entries), read once per version (:func:`anit.report.versus.file_version`)."""
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def worst_entries(folder: Path, case: str = "worst") -> dict[str, list[Any]]:
    """Task -> the worst instructions of ``case`` the run's attack wrote (empty where no attack is on record)."""
    path = folder / f"{case}.yaml"
    return _worst_yaml(path, file_version(path)) if path.exists() else {}


def unranked(folder: Path, task: str, case: str = "worst") -> bool:
    """Whether the run's attack could not rank candidates for ``task``: its raw dev score was 0, so no candidate
    scores lower and the worst instructions it wrote are unranked ones (False where no attack is on record)."""
    entries = worst_entries(folder, case).get(task, [])
    return bool(entries) and not any(isinstance(e, dict) and e.get("raw_dev_score") for e in entries)


def _mean_std(values: list[float | None]) -> tuple[float | None, float | None, int]:
    kept = [v for v in values if v is not None]
    if not kept:
        return None, None, 0
    return statistics.fmean(kept), statistics.stdev(kept) if len(kept) > 1 else 0.0, len(kept)


MATCHED = "it-matched"
"""The compute control: it trained for as many forward and backward passes as anit."""


def matched(work: Path, scoring: str, dataset: str, task: str, rows: dict[tuple[str, int], dict[str, Any]],
            case: str) -> dict[str, Any] | None:
    """anit against it at anit's compute under one worst case, on the seeds both ran: each one's PDR (mean over
    those seeds, one paired interval) and anit's raw score minus it-matched's; None before both ran a seed."""
    at = f"{case}_condition"
    both = sorted(s for m, s in rows if m == "anit" and rows[("anit", s)][at]
                  and (rows.get((MATCHED, s)) or {}).get(at))
    if not both:
        return None
    drop = {m: pooled_pdr(work, m, both, scoring, dataset, task, {s: rows[(m, s)][at] for s in both})
            for m in (MATCHED, "anit")}
    return {"seeds": both, "matched": drop[MATCHED], "anit": drop["anit"],
            "raw": pooled_raw(work, "anit", both, scoring, dataset, task, baseline=MATCHED)}


def matched_reading(found: dict[str, Any] | None) -> str | None:
    """The goal (:func:`anit.report.versus.goal`) with it-matched as the baseline; None where it cannot be read."""
    if not found or not found["matched"]:
        return None
    anit = found["anit"]["value"] if found["anit"] else None
    return goal(found["matched"]["value"], found["matched"]["low"], anit, found["raw"] and found["raw"]["raw_high"])


def table(work: Path, scoring: str) -> dict[str, list[dict[str, Any]]]:
    """Per dataset: one row per method, mean and std over seeds, and the paired comparisons against it."""
    runs = scored_runs(work, scoring)
    per: dict[str, dict[tuple[str, int], dict[str, Any]]] = {}
    tasks: dict[str, str] = {}
    walls: dict[str, list[float]] = {}
    for folder in runs:
        method, seed = folder.name.rsplit("-", 1)
        metrics = run_metrics(folder, scoring)
        wall = json.loads((folder / "wall.json").read_text())["train_s"] if (folder / "wall.json").exists() else None
        walls.setdefault(method, []).append(wall)
        for dataset, m in metrics["conditions"]["raw"].items():
            row = run_row(metrics, dataset)
            if row:
                per.setdefault(dataset, {})[(method, int(seed))] = row
                tasks[dataset] = m["task"]
    out: dict[str, list[dict[str, Any]]] = {}
    for dataset, rows in sorted(per.items()):
        lines = []
        for method in dict.fromkeys(m for m, _ in sorted(rows, key=lambda k: (k[0] != "it", k))):
            seeds = sorted(s for m, s in rows if m == method)
            line: dict[str, Any] = {"method": method, "seeds": seeds, "task": tasks[dataset]}
            for key in ("raw", "unseen_mean", "unseen_worst", "noisy", *CASES, *(f"pdr_{c}" for c in CASES),
                        "unparseable"):
                line[key] = _mean_std([rows[(method, s)][key] for s in seeds])
            line["per_seed"] = {s: {k: rows[(method, s)][k] for k in ("raw", *(f"pdr_{c}" for c in CASES))}
                                for s in seeds}
            for case in AGAINST:
                line[f"vs_it_{case}"] = {s: versus_it(work, method, s, scoring, dataset, tasks[dataset], rows, case)
                                         for s in seeds}
            shared = [s for s in seeds if ("it", s) in rows]
            line["pooled_vs_it"] = (pooled_raw(work, method, shared, scoring, dataset, tasks[dataset])
                                    if method != "it" and shared else None)
            for case in CASES:
                line[f"{case}_above_zero"] = sum((rows[(method, s)][f"{case}_low"] or 0) > 0 for s in seeds)
                line[f"{case}_unranked"] = sum(unranked(work / "runs" / f"{method}-{s}", tasks[dataset], case)
                                               for s in seeds)
                at = f"{case}_condition"
                scored = [s for s in seeds if rows[(method, s)][at]]
                line[f"pooled_{case}"] = pooled_pdr(work, method, scored, scoring, dataset, tasks[dataset],
                                                    {s: rows[(method, s)][at] for s in scored}) if scored else None
                both = [s for s in scored if ("it", s) in rows and rows[("it", s)][at]]
                line[f"it_pooled_{case}"] = (pooled_pdr(work, "it", both, scoring, dataset, tasks[dataset],
                                                        {s: rows[("it", s)][at] for s in both})
                                             if method != "it" and both else None)
            if method == "anit":
                line["matched"] = {case: matched(work, scoring, dataset, tasks[dataset], rows, case) for case in CASES}
            line["train_s"] = _mean_std(walls.get(method, []))[0]
            lines.append(line)
        out[dataset] = lines
    return out


def _loses(name: str, pdr: float) -> str:
    return f"`{name}` loses {pdr:.0%}" if pdr >= 0 else f"`{name}` gains {-pdr:.0%}"


MEETS, FAILS, NOT_JUDGED = "meets", "fails", "not judged"


def verdict(dataset: str, lines: list[dict[str, Any]], case: str = "worst") -> dict[str, Any]:
    """The plain sentence and its outcome for one worst case (CASES): can the protocol see it's drop (the paired
    interval of its PDR, mean over seeds, above 0: :func:`pooled_pdr`), and if so, on the seeds both ran, is anit's
    PDR at most half of it's while its raw score is not lower (beyond the paired interval of the mean). Where it's
    drop cannot be seen, the goal is not judged. Beside them, the numbers judged: ``shared`` (the seeds both ran),
    ``it_pdr`` and ``anit_pdr`` with their intervals (``it_low``, ``anit_high``, ...: means over them; before anit
    has run, it's over its own seeds) and ``raw`` (anit's raw score against it's, :func:`pooled_raw`); ``seen``
    says whether it's drop is seen over all its seeds; ``margin``, from three shared seeds, anit's PDR minus half
    of it's with a t interval over the seeds (:func:`anit.evaluation.robustness.goal_margin`), which covers the
    training seed that the record intervals leave out."""
    by = {line["method"]: line for line in lines}
    it, anit = by.get("it"), by.get("anit")
    pdr, above = f"pdr_{case}", f"{case}_above_zero"
    own = it.get(f"pooled_{case}") if it else None
    judged: dict[str, Any] = {"shared": [], "it_pdr": None, "it_low": None, "it_high": None, "anit_pdr": None,
                              "anit_low": None, "anit_high": None, "raw": None, "margin": None}

    def said(outcome: str, text: str) -> dict[str, Any]:
        return {"dataset": dataset, "outcome": outcome, "text": text, "case": case,
                "seen": bool(own and own["low"] > 0), "measured": bool(it and it[pdr][0] is not None), **judged}

    if not it or it[pdr][0] is None:
        if it and it["raw"][0]:
            return said(NOT_JUDGED, f"{dataset}: `it` was not scored under {CASES[case]}.")
        return said(NOT_JUDGED, f"{dataset}: `it` scores 0 under its raw instruction here, so no drop rate is "
                                "defined.")
    if own is None:
        return said(NOT_JUDGED, f"{dataset}: `it` scores 0 under its raw instruction on a seed here, so no mean drop "
                                "rate is defined.")

    def loses(found: dict[str, Any]) -> str:
        return f"PDR {found['value']:.3f} [{found['low']:+.3f}, {found['high']:+.3f}]"

    judged.update(it_pdr=own["value"], it_low=own["low"], it_high=own["high"])
    text = (f"{dataset}: {_loses('it', own['value'])} of its raw score under {CASES[case]} ({loses(own)}, mean over "
            f"{len(own['seeds'])} seed(s); above 0 on {it[above]} of them alone)")
    blind = [f"`{line['method']}` on {line[f'{case}_unranked']}" for line in (it, anit)
             if line and line.get(f"{case}_unranked")]
    if blind:
        text += (f" [the attack found no worst case for {', '.join(blind)} seed(s): the raw dev score was 0, so "
                 "the worst instructions there are unranked candidates]")
    theirs = anit.get(f"it_pooled_{case}") if anit else None
    if not theirs:
        ran = anit and any(seed in it["seeds"] for seed in anit["seeds"])
        return said(NOT_JUDGED, text + (f"; `anit` not scored under {CASES[case]} yet on it's seeds." if ran else
                                        "; `anit` not run yet" + (" on it's seeds." if anit else ".")))
    shared = theirs["seeds"]
    anit_pdr = _mean_std([anit["per_seed"][seed][pdr] for seed in shared])[0]
    pooled = anit.get("pooled_vs_it")
    mine = anit.get(f"pooled_{case}") if (anit.get(f"pooled_{case}") or {}).get("seeds") == shared else None
    judged.update(shared=shared, it_pdr=theirs["value"], it_low=theirs["low"], it_high=theirs["high"],
                  anit_pdr=anit_pdr, raw=pooled, anit_low=mine and mine["low"], anit_high=mine and mine["high"])
    if shared != own["seeds"]:
        text += (f"; on the seed(s) both ran ({', '.join(map(str, shared))}) {_loses('it', theirs['value'])} "
                 f"({loses(theirs)})")
    raw_lower = bool(pooled and pooled["raw_high"] < 0)
    raw = (f"a raw score {difference(pooled, 'raw')} against it's (mean over {len(pooled['seeds'])} seed(s)"
           + ("; lower beyond its paired interval)" if raw_lower else "; not lower beyond its paired interval)")
           if pooled else "no raw score on records it shares with it")
    reading = goal(theirs["value"], theirs["low"], anit_pdr, pooled and pooled["raw_high"])
    if reading == NO_SCORE:
        return said(FAILS, text + f"; `anit` scores 0 under its raw instruction ({raw}). ANIT does not meet the "
                                  "goal here.")
    text += f"; {_loses('anit', anit_pdr)}, with {raw}"
    per_seed = [(it["per_seed"][seed][pdr], anit["per_seed"][seed][pdr]) for seed in shared]
    halved = sum(mine <= 0.5 * base for base, mine in per_seed if base is not None and mine is not None)
    if len(shared) > 1 and reading != NOT_SEEN:
        text += f"; seed by seed, anit's drop is at most half of it's on {halved} of {len(shared)}"
        margin = goal_margin([mine for _, mine in per_seed], [base for base, _ in per_seed])
        if margin:
            judged["margin"] = margin
            settled = ("below 0" if holds(margin) else "above 0" if margin["low"] > 0 else
                       f"{margin['n']} seeds do not settle its sign")
            text += (f"; over the seeds, anit's PDR minus half of it's is {margin['value']:+.3f} "
                     f"[{margin['low']:+.3f}, {margin['high']:+.3f}] (t interval over {margin['n']} seeds, which "
                     f"covers the training seed too: {settled})")
    outcome, why = {
        NOT_SEEN: (NOT_JUDGED, "Not judged: the protocol does not see it's drop here."),
        OVER_HALF: (FAILS, "ANIT's drop is more than half of it's: ANIT does not meet the goal here."),
        RAW_LOWER: (FAILS, "ANIT's drop is at most half of it's but its raw score is lower: ANIT does not meet the "
                           "goal here."),
        MET: (MEETS, "ANIT's drop is at most half of it's and its raw score is not lower: ANIT meets the goal here."),
    }[reading]
    return said(outcome, f"{text}. {why}")


def scoring_compared(work: Path, tables: dict[str, dict[str, list[dict[str, Any]]]]) -> list[str]:
    """Which scoring shows the drops: per classification dataset, the mean over methods (scored both ways) of the
    drop rate of the held-out worst, of the noisy mean and of the worst case, by generation and by choice, and how
    often the two give the same answer under the raw instruction (over every run scored both ways)."""
    lines = []
    both_ways = scored_runs(work, "generate", "choice")
    for dataset, rows in tables.get("generate", {}).items():
        other = {row["method"]: row for row in tables.get("choice", {}).get(dataset, [])}
        both = [(row, other[row["method"]]) for row in rows if row["method"] in other]
        if not both:
            continue

        def rate(row: dict[str, Any], key: str) -> float | None:
            raw, value = row["raw"][0], row[key][0]
            return None if not raw or value is None else 1 - value / raw

        cells, apart = [], []
        for key, label in (("unseen_worst", "held-out worst"), ("noisy", "noisy"), ("worst", "worst case"),
                           ("near", "near worst case")):
            pairs = [(rate(g, key), rate(c, key)) for g, c in both]
            pairs = [(g, c) for g, c in pairs if g is not None and c is not None]
            if pairs:
                gen, cho = statistics.fmean(g for g, _ in pairs), statistics.fmean(c for _, c in pairs)
                cells.append(f"{label} {gen:.3f} vs {cho:.3f}")
                apart.append(gen - cho)
        same = [(g[0] == c[0]) for f in both_ways
                for g, c in _shared(_pairs(f, "generate", "raw", dataset), _pairs(f, "choice", "raw", dataset))]
        agree = f" Same answer under raw on {statistics.fmean(same):.0%} of {len(same)} record-runs." if same else ""
        lines.append(f"{dataset} ({len(both)} methods): {which_shows(apart)}; drop rate by generation vs by choice: "
                     + "; ".join(cells) + "." + agree)
    return lines


SAME_DROPS = 0.02
"""Drop rates by generation and by choice this close (2 points of PDR) on every kind of instruction show the same
drops."""


def which_shows(apart: list[float]) -> str:
    """Which scoring shows the larger drops, from generation's drop rate minus choice's per kind of instruction."""
    widest = max((abs(d) for d in apart), default=0.0)
    if widest <= SAME_DROPS:
        return f"both show the same drops (at most {widest:.3f} apart)"
    if all(d > 0 for d in apart):
        return f"generation shows the larger drops (by up to {widest:.3f})"
    if all(d < 0 for d in apart):
        return f"choice shows the larger drops (by up to {widest:.3f})"
    return "neither shows the larger drops under every kind of instruction"


def _shared(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[Any, Any]]:
    return [(a[i], b[i]) for i in sorted(set(a) & set(b))]


ALIKE = 0.99
"""The share of raw answers two methods must give alike to be named as answering alike."""


SETS_APART = {frozenset(("anit", "fgm")): "anit's response to distortion (fgm perturbs every sample at one strength)",
              frozenset(("anit", "anit-step")): "scaling the ascent step with distortion too",
              frozenset(("it", "it-matched")): "3x the steps"}
"""What alone sets two methods of the benchmark apart (the same data, steps and LoRA otherwise)."""


def alike(work: Path, scoring: str = "generate", share: float = ALIKE) -> list[str]:
    """Pairs of methods that, trained on the same seed, give the same raw answer on at least ``share`` of the
    records on some seed: one line per pair with each such seed (and the seeds they both ran where it does not
    hold); where it holds, what sets them apart made no difference to what they answer."""
    runs = {f.name: f for f in scored_runs(work, scoring)}
    found: dict[tuple[str, str], list[tuple[str, int, int]]] = {}
    for a, b in itertools.combinations(runs, 2):
        (method_a, seed), (method_b, other) = a.rsplit("-", 1), b.rsplit("-", 1)
        if seed != other:
            continue
        mine, theirs = ({r["id"]: r["parsed"] for r in predictions(runs[n] / f"eval-{scoring}", "raw")}
                        for n in (a, b))
        same = [mine[i] == theirs[i] for i in mine.keys() & theirs.keys()]
        if same:
            found.setdefault((method_a, method_b), []).append((seed, sum(same), len(same)))
    lines = []
    for (a, b), seeds in found.items():
        held = [f"{same} of {n} (seed {seed})" for seed, same, n in seeds if same >= share * n]
        if not held:
            continue
        not_held = [f"seed {seed}: {same} of {n}" for seed, same, n in seeds if same < share * n]
        apart = SETS_APART.get(frozenset((a, b)))
        lines.append(f"{a} and {b} give the same raw answer on " + ", ".join(held) + " test records"
                     + (f" (not on {', '.join(not_held)})" if not_held else "")
                     + (f": {apart} made no difference to what they answer on "
                        f"{'that seed' if len(held) == 1 else 'those seeds'}" if apart else "") + ".")
    return lines


def walls(work: Path) -> list[dict[str, Any]]:
    """Seconds per run and stage (training, attack, each evaluation) from the work folder's records; a run that has
    finished no stage yet is left out."""
    def seconds(path: Path, key: str) -> float | None:
        return json.loads(path.read_text()).get(key) if path.exists() else None

    rows = [{"run": f.name, "train": seconds(f / "wall.json", "train_s"),
             "attack": seconds(f / "attack_wall.json", "attack_s"),
             "attack (near)": seconds(f / "attack_wall.json", "near_s"),
             **{f"eval ({s})": seconds(f / f"eval-{s}" / "wall.json", "eval_s") for s in ("generate", "choice")}}
            for f in sorted((work / "runs").glob("*-*")) if f.is_dir()]
    return [row for row in rows if any(v is not None for k, v in row.items() if k != "run")]


def worst_origins(work: Path) -> list[str]:
    """Per method, where the worst instructions it was scored under came from (the attack's candidate families:
    noise, unseen, paraphrase, opposite, file), counted over every task and seed: an opposite is a meaning-reversing
    rewrite, so a worst case made of them reads differently from one of typos."""
    from anit.evaluation.attack import candidate_family

    kinds: dict[str, collections.Counter] = {}
    seeds: dict[str, int] = collections.Counter()
    for folder in sorted((work / "runs").glob("*-*")):
        table = worst_entries(folder)
        if not table:
            continue
        method = folder.name.rsplit("-", 1)[0]
        kinds.setdefault(method, collections.Counter()).update(
            candidate_family(e["origin"]) for entries in table.values() for e in entries if isinstance(e, dict))
        seeds[method] += 1
    return [f"{method}: " + ", ".join(f"{kind} {n}" for kind, n in counts.most_common())
            + f" (of {sum(counts.values())} worst instructions, {seeds[method]} seed(s))"
            for method, counts in kinds.items()]


def dev_attacks(work: Path) -> list[dict[str, Any]]:
    """Per method, task and case, what each run's attack found on dev before any test record is scored: the raw dev
    score and that of the worst instruction, and its PDR (means ± std over the seeds whose attack finished). The
    search picks the lowest of many candidates on few records, so its PDR overstates what test will show; each model
    gets the same budget, so the methods compare."""
    found: dict[tuple[str, str, str], list[tuple[float, float, float | None]]] = collections.defaultdict(list)
    for folder in sorted((work / "runs").glob("*-*")):
        method = folder.name.rsplit("-", 1)[0]
        for case in CASES:
            for task, entries in worst_entries(folder, case).items():
                top = next((e for e in entries if isinstance(e, dict)), None)
                if top and top.get("raw_dev_score") is not None:
                    found[method, task, case].append((top["raw_dev_score"], top["dev_score"], top.get("pdr")))
    order = sorted(found, key=lambda key: (key[1], list(CASES).index(key[2])))      # stable: methods by folder
    return [{"method": key[0], "task": key[1], "case": key[2], "raw": _mean_std([r for r, _, _ in found[key]]),
             "worst": _mean_std([w for _, w, _ in found[key]]), "pdr": _mean_std([p for _, _, p in found[key]])}
            for key in order]
