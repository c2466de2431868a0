"""The robustness benchmark's page and JSON: docs/benchmarks/<name>.{json,md} written from the numbers and verdicts
of :mod:`bench.robustness_report`, with the headlines that say them in one sentence and the notes every table is
read with."""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any, Sequence

from anit.evaluation.robustness import holds
from anit.jsonl import write_json
from anit.report.versus import MET, NO_SCORE, NOT_SEEN, OVER_HALF, RAW_LOWER, difference
from bench.answer_figure import answer_plot, answer_points
from bench.robustness_report import (AGAINST, ALIKE, CASES, FAILS, MATCHED, MEETS, alike, dev_attacks,
                                     matched_reading, scored_runs, scoring_compared, table, verdict, walls,
                                     worst_origins)

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _fmt(pair: tuple[float | None, float | None, int]) -> str:
    mean, std, n = pair
    if mean is None:
        return "-"
    return f"{mean:.3f} ± {std:.3f}" if n > 1 else f"{mean:.3f}"


NOTES = [
    "Protocol: one LoRA per method and seed on a shuffled mixture of SST-2, AG News, CoNLL-2003 and ASTE 14res "
    "(equal records per dataset, the training instructions noisy per record with five rule-based noise types at rate "
    "0.3, hard distortion), the same steps, batch, learning rate and LoRA for every method; it-matched trains it for "
    "3x the steps (exact anit's forward and backward passes); anit-step is anit with `nrm_step: beta` (the ascent "
    "step scales with beta(d) too, not only the random start).",
    "Worst case: each trained model is attacked on its own dev records (`anit attack`, the same budget for every "
    "model: choice scoring for classification, generation for extraction), and its worst instructions are scored on "
    "test. In the generation tables the classification worst case is therefore found by choice and scored by "
    "generation (a transfer across scoring rules), which can understate generation's worst case; the noisy and "
    "held-out families show the generation spread directly. Its candidates include the 135M model's paraphrases, "
    "whose meaning nothing checks (they often drift off the task), and opposites, which reverse it by design, so "
    "this worst case can ask for another task; the near worst case keeps every candidate close to the raw wording.",
    "Intervals: paired bootstrap over test records (1,000 resamples), the same records for both instructions (PDR) or "
    "both models (vs it, on the same seed). A PDR interval above 0 is a drop the protocol can see on that seed. "
    "Over seeds, one resample of the records serves every seed, so the interval of a mean over seeds covers the "
    "test sample, not the training seed: the seed-to-seed spread is the ± std of the tables, each verdict says "
    "on how many seeds alone `it`'s drop is seen and, from three seeds, gives anit's PDR minus half of it's with a "
    "Student-t interval over the seeds, which covers the training seed too.",
    "Wall times (train s) are one run each on the machine named above, measured while other work ran beside it "
    "(other runs too, where it ran several at once); read step costs from the speed benchmark "
    "(`python -m bench.speed`), which times them alone.",
    "Sizes: test {test_tc} records per classification dataset and {test_ext} per extraction one (the issue's "
    "protocol: at least 256 and 48), dev {dev_tc} and {dev_ext} (the issue: 64), attack budgets {budget_tc} and "
    "{budget_ext} candidates (the issue: 100); every method trains {steps} steps on {train} records per dataset.",
    "Records: each finished run is archived in `runs/{name}/` beside this page (its metrics, worst instructions, "
    "wall times and predictions, with answers and gold as digests: no record text, no adapter), so "
    "`python -m bench.robustness --summarise-only --name {name}` rebuilds this page on a fresh checkout and the "
    "benchmark resumes from the runs there.",
]
"""What every robustness table is read with."""
UNARCHIVED_NOTE = ("Records: the runs predate the run archive and their work folder is gone, so this page cannot be "
                   "rebuilt from them or continued; `python -m bench.robustness --summarise-only --name {name}` "
                   "rewrites it from its JSON (the tables as measured, judged and worded by the current summary).")
"""The last note of a page whose runs are not archived (:func:`republish`)."""
NEAR_NOTE = ("Near worst case: the same search with the same budget, among candidates within hard (word-edit) "
             "distortion {near} of the raw instruction, as PromptBench bounds its attacks (typos and a few words "
             "replaced, dropped, shuffled or padded; model rewrites and the held-out wordings lie beyond it); it "
             "starts from the unbounded search's scored candidates, whose dev scores do not depend on the bound.")
"""Read with the tables where a run was scored under its near worst case."""


def judged_on(verdicts: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """The verdicts where the protocol sees it's drop, and the datasets among them where ANIT meets and fails the
    goal."""
    seen = [v for v in verdicts if v["seen"]]
    return (seen, [v["dataset"] for v in seen if v["outcome"] == MEETS],
            [v["dataset"] for v in seen if v["outcome"] == FAILS])


def headline(verdicts: list[dict[str, Any]], settings: dict[str, Any], ran: dict[str, int]) -> str:
    """The answer in one sentence: on how many datasets the protocol sees it's drop and, there, where ANIT meets
    the goal; with how much of the protocol has run (``ran``: method -> seeds finished)."""
    if not verdicts:
        return "No run is scored on test yet; what the attacks found on dev, where they finished, is on the page."
    seen, meets, fails = judged_on(verdicts)
    done = ", ".join(f"{method} {n}" for method, n in ran.items() if n)
    goal = "the goal (at most half of `it`'s drop, raw score not lower)"
    judged = (f"ANIT meets {goal} on {', '.join(meets)}{over_training_seeds(verdicts, meets)}"
              + (f" and not on {', '.join(fails)}" if fails else "")
              if meets else f"ANIT does not meet {goal} on {', '.join(fails)}" if fails else "")
    answer = (f"the protocol sees `it`'s worst-case drop on {len(seen)} of {len(verdicts)} datasets"
              + (f" ({', '.join(v['dataset'] for v in seen)})" if seen else "")
              + (f"; {judged}" if judged else ""))
    if len(meets) + len(fails) < len(verdicts):
        answer += "; elsewhere the goal is not judged" if judged else "; the goal is not judged on any yet"
    return (f"Answer so far: {answer}. Runs finished (seeds per method, of {len(settings.get('seeds', []))}): "
            f"{done or 'none'}.")


def seed_margins(verdicts: list[dict[str, Any]], meets: list[str]) -> dict[str, dict[str, Any]]:
    """Dataset -> its verdict's margin over the seeds, for the datasets where ANIT meets the goal and the verdict
    has one (from three seeds)."""
    return {v["dataset"]: v["margin"] for v in verdicts if v["dataset"] in meets and v.get("margin")}


def over_training_seeds(verdicts: list[dict[str, Any]], meets: list[str]) -> str:
    """Where ANIT meets the goal, whether it still holds with the training seed counted: a parenthesis saying on
    which of those datasets the margin (anit's PDR minus half of it's) has a t interval over the seeds below 0 (it
    holds) and on which the interval spans 0 (not settled); "" before three seeds."""
    margins = seed_margins(verdicts, meets)
    if not margins:
        return ""
    held = [name for name, m in margins.items() if holds(m)]
    unsettled = [name for name in margins if name not in held]
    said = [f"{verb} on {', '.join(names)}" if len(margins) > 1 else verb
            for verb, names in (("it holds", held), ("not settled", unsettled)) if names]
    return f" (counting the training seed, a t interval over {min(m['n'] for m in margins.values())} seeds: " \
           f"{', '.join(said)})"


def in_short(verdicts: list[dict[str, Any]], lines_by_dataset: dict[str, list[dict[str, Any]]]) -> str:
    """The answer in ten seconds: a bold verdict (yes on the datasets where ANIT at least halves it's worst-case
    drop with its raw score not lower, that holding with the training seed counted and not overturned by it trained
    at ANIT's compute; else "not shown" where it only does so on the record intervals, else "no"; "so far" before
    three seeds), then the counts behind it: where it's drop is seen, where ANIT halves it, where that holds with
    the training seed counted, and how often against it-matched ("" before the protocol sees a drop)."""
    seen, meets, _ = judged_on(verdicts)
    if not seen:
        return ""
    margins = seed_margins(verdicts, meets)
    held = [name for name, margin in margins.items() if holds(margin)]
    readings = {dataset: matched_reading(next((line.get("matched", {}).get("worst") for line in lines
                                               if line["method"] == "anit"), None))
                for dataset, lines in lines_by_dataset.items()}
    shown = [name for name in held if readings.get(name) in (None, NOT_SEEN, MET)]
    settled = all(len(v["shared"]) >= 3 for v in seen)
    answer = (f"yes on {', '.join(shown)}" if shown else "not shown" if meets else "no") + ("" if settled else
                                                                                          ", so far")
    text = (f"Of the {len(seen)} dataset{'s' if len(seen) > 1 else ''} where `it`'s worst-case drop is seen, ANIT "
            f"at least halves it with its raw score not lower on {len(meets)}"
            + (f" ({', '.join(meets)})" if meets else ""))
    if margins:
        text += f", with the training seed counted on {', '.join(held) if held else 'none'}"
    judged = [reading for reading in readings.values() if reading and reading != NOT_SEEN]
    if judged:
        text += (f"; against `it` trained at ANIT's compute it does so on {judged.count(MET)} of the {len(judged)} "
                 f"where that one's drop is seen")
    return f"**In short: {answer}.** {text}."


def near_headline(verdicts: list[dict[str, Any]], settings: dict[str, Any]) -> str:
    """The near worst case's answer in one sentence, as :func:`headline` words the unbounded one ("" where no
    dataset has it measured)."""
    seen, meets, fails = judged_on(verdicts)
    measured = [v for v in verdicts if v["measured"]]
    if not measured:
        return ""
    text = (f"Near the raw wording (the worst within hard distortion {settings.get('near', '?')}: typos and a few "
            f"words edited), the protocol sees `it`'s drop on {len(seen)} of {len(verdicts)} datasets"
            + (f" ({', '.join(v['dataset'] for v in seen)})" if seen else ""))
    if meets:
        text += (f"; ANIT meets the goal on {', '.join(meets)}{over_training_seeds(verdicts, meets)}"
                 + (f" and not on {', '.join(fails)}" if fails else ""))
    elif fails:
        text += f"; ANIT does not meet the goal on {', '.join(fails)}"
    else:
        text += "; the goal is not judged on any yet"
    if len(measured) < len(verdicts):
        text += f" (measured on {len(measured)} datasets so far)"
    return text + "."


MATCHED_SAID = {MET: "meets", OVER_HALF: "fails: more than half of its drop", RAW_LOWER: "fails: raw score lower",
                NO_SCORE: "fails: anit scores 0 raw", NOT_SEEN: f"not judged: {MATCHED}'s drop is not seen"}
"""Each reading of the goal against it-matched in words (``MET`` ... from :func:`anit.report.versus.goal`)."""


def matched_headline(lines_by_dataset: dict[str, list[dict[str, Any]]]) -> str:
    """One sentence: against it at anit's compute, under each worst case, where ANIT meets the goal, where it does
    not and why, and where it-matched's own drop is not seen ("" before anit and it-matched share a seed)."""
    clauses, seeds = [], set()
    for case in CASES:
        by: dict[str, list[str]] = collections.defaultdict(list)
        for dataset, lines in lines_by_dataset.items():
            found = next((line.get("matched", {}).get(case) for line in lines if line["method"] == "anit"), None)
            reading = matched_reading(found)
            if reading:
                by[reading].append(dataset)
                seeds.update(found["seeds"])
        if by:
            clauses.append(f"under {CASES[case]}, " + ("" if by[MET] else "ANIT meets it on none: ") + ", ".join(
                phrase.format(", ".join(by[r])) for r, phrase in (
                    (MET, "ANIT meets it on {}"), (OVER_HALF, "not on {} (more than half of its drop)"),
                    (RAW_LOWER, "not on {} (raw score lower)"), (NO_SCORE, "not on {} (anit scores 0 raw)"),
                    (NOT_SEEN, MATCHED + "'s own drop is not seen on {}")) if by[r]))
    if not clauses:
        return ""
    return (f"Against `it` at anit's compute (`{MATCHED}`, seed{'s' if len(seeds) > 1 else ''} "
            f"{', '.join(map(str, sorted(seeds)))}), the same goal: " + "; ".join(clauses) + ".")


def ran_on(m: dict[str, Any], runs: dict[str, dict[str, Any] | None] | None = None) -> str:
    """Where the runs ran: each run's own machine (``runs``: its ``machine.json``, by run), grouped by machine with
    the dates; where no run records one, the machine the work folder recorded (``machine.json``, the benchmark's
    latest start), which can differ from the one that summarises it."""
    def where(x: dict[str, Any]) -> str:
        return f"{x['cpu']}, {x['cores']} cores, GPU: {x['cuda'] or 'none'}, torch {x['torch']}, Python {x['python']}"

    def at_once(x: dict[str, Any]) -> str:
        jobs = x.get("jobs", 1)
        return f"; {jobs} runs at a time (`--jobs`)" if jobs > 1 else ""

    if runs and any(runs.values()):
        groups: dict[str, dict[str, list[str]]] = {}
        for run, x in runs.items():
            if x is not None:
                groups.setdefault(where(x) + at_once(x), {}).setdefault(x["date"], []).append(run)
        said = [f"Ran on {machine}: " + "; ".join(f"{', '.join(names)} on {date}" for date, names in sorted(by.items()))
                for machine, by in groups.items()]
        lost = [run for run, x in runs.items() if x is None]
        return ". ".join(said + ([f"Where {', '.join(lost)} ran is not recorded"] if lost else [])) + "."
    if m.get("unrecorded"):
        return (f"Summarised on {m['cpu']}, {m['cores']} cores, GPU: {m['cuda'] or 'none'}, {m['date']}; the runs "
                "predate machine.json, so where they ran is not recorded.")
    return f"Ran on {where(m)}, {m['date']}{at_once(m)}."


def markdown(tables: dict[str, dict[str, list[dict[str, Any]]]], settings: dict[str, Any],
             compared: list[str], times: list[dict[str, Any]], same: list[str], origins: list[str],
             where: dict[str, Any], dev: Sequence[dict[str, Any]] = (), answer: Sequence[str] = (),
             picture: str | None = None, runs: dict[str, dict[str, Any] | None] | None = None) -> str:
    """The benchmark's page: the command and machine, then ``answer`` (the headlines, by generation) and
    ``picture`` (the drop rates against the goal) first, the protocol's notes, and the tables and verdicts."""
    lines = ["# Robustness benchmark: multi-task LoRA, worst-case and held-out instructions", "",
             f"`{settings.get('command', 'python -m bench.robustness')}`", "", ran_on(where, runs), ""]
    if answer or picture:
        lines += ["## The answer", ""] + [line for text in answer if text for line in (text, "")]
        lines += [f"![worst-case drop rate per method and dataset, with the goal's band]({picture})", ""] if picture \
            else []
    near = any(row["pdr_near"][0] is not None for per in tables.values() for rows in per.values() for row in rows)
    notes = NOTES[:2] + [NEAR_NOTE] + NOTES[2:] if near else NOTES
    if not list((DOCS / "benchmarks" / "runs" / str(settings.get("name"))).glob("*.json.gz")):
        notes = [UNARCHIVED_NOTE if note.startswith("Records:") else note for note in notes]
    lines += [f"- {note.format_map(collections.defaultdict(lambda: '?', settings))}" for note in notes] + [""]
    if compared:
        lines += ["## Which scoring shows the drops", "", "Mean over the methods scored both ways; the worst case "
                  "of classification is searched by choice in both (see the notes).", ""]
        lines += [f"- {line}" for line in compared] + [""]
    if same:
        lines += ["## Methods that answer alike", "", "Trained on the same seed, scored by generation under the raw "
                  f"instruction ({ALIKE:.0%} or more of the records alike):", ""] + [f"- {line}" for line in same]
        lines += [""]
    if origins:
        lines += ["## Where the worst instructions come from", "", "The families of the instructions each model's "
                  "attack ranked worst on dev (those it is scored under as the worst case):", ""]
        lines += [f"- {line}" for line in origins] + [""]
    if dev:
        lines += ["## What the attacks found on dev", "", "Before any test record is scored: each model's raw dev "
                  "score and that of the worst instruction its own search found (means ± std over the seeds whose "
                  "attack finished; classification pools its datasets and is scored by choice). The search keeps "
                  "the lowest of many candidates on few records, so this PDR overstates what test shows; every "
                  "model has the same budget, so the methods compare.", "",
                  "| task | case | method | seeds | raw (dev) | worst (dev) | PDR (dev) |", "|" + "---|" * 7]
        lines += [f"| {d['task']} | {AGAINST[d['case']]} | {d['method']} | {d['raw'][2]} | {_fmt(d['raw'])} | "
                  f"{_fmt(d['worst'])} | {_fmt(d['pdr'])}"
                  + (f" ({d['pdr'][2]} seed{'s' if d['pdr'][2] > 1 else ''}: raw 0 on the others)"
                     if 0 < d['pdr'][2] < d['raw'][2] else "") + " |" for d in dev] + [""]
    for scoring, per_dataset in ((s, t) for s, t in tables.items() if t):
        lines += [f"## Scored by {'generation' if scoring == 'generate' else 'choice'}", ""]
        for dataset, rows in per_dataset.items():
            cells = [{"method": r["method"], "seeds": str(len(r["seeds"])), "raw": _fmt(r["raw"]),
                      "held-out mean": _fmt(r["unseen_mean"]), "held-out worst": _fmt(r["unseen_worst"]),
                      "noisy": _fmt(r["noisy"]), "worst-case": _fmt(r["worst"]),
                      "worst-case PDR": _fmt(r["pdr_worst"]), "near worst-case PDR": _fmt(r["pdr_near"]),
                      "unparseable (raw)": _fmt(r["unparseable"]), "train s": f"{r['train_s'] or 0:.0f}"}
                     for r in rows]
            heads = [h for h in cells[0] if near or "near" not in h]
            lines += [f"### {dataset}", "", "| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
            lines += ["| " + " | ".join(row[h] for h in heads) + " |" for row in cells] + [""]
            lines += against_it(rows, near)
            lines += against_matched(rows)
            lines += [v["text"] for v in (verdict(dataset, rows, case) for case in CASES)
                      if v["case"] == "worst" or v["measured"]] + [""]
    if times:
        keys = [k for k in times[0] if k == "run" or any(row[k] is not None for row in times)]
        lines += ["## Wall times per run (s)", "",
                  "A stage resumed after a stop counts its last part only; the runs shared the machine with other "
                  "work, so read these as orders of magnitude.", "",
                  "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
        lines += ["| " + " | ".join(str(row[k]) if k == "run" else "-" if row[k] is None else f"{row[k]:.0f}"
                                    for k in keys) + " |" for row in times] + [""]
    return "\n".join(lines) + "\n"


def against_it(rows: list[dict[str, Any]], near: bool = True) -> list[str]:
    """Markdown lines: each method against it on the same seed and records, the raw score difference and the
    difference of the drop rates (AGAINST), with paired bootstrap 95% intervals; none where only it ran."""
    cases = [case for case in AGAINST if near or case != "near"]
    table = [f"| {r['method']} | {seed} | {difference(r['vs_it_worst'][seed], 'raw')} | "
             + " | ".join(difference(r[f"vs_it_{case}"][seed], "pdr") for case in cases) + " |"
             for r in rows for seed in r["seeds"] if r["vs_it_worst"].get(seed)]
    if not table:
        return []
    return (["Against `it` on the same seed (paired 95% intervals; PDR: each model under its own instruction of the "
             "kind):", "", "| method | seed | raw − it's | " + " | ".join(f"PDR − it's: {AGAINST[c]}" for c in cases)
             + " |", "|" + "---|" * (3 + len(cases))] + table + [""])


def against_matched(rows: list[dict[str, Any]]) -> list[str]:
    """Markdown lines: anit against it at anit's compute on the seeds both ran, under each worst case: both PDRs
    (mean over those seeds, paired intervals), the raw difference and the goal's reading; none before they share a
    seed."""
    anit = next((r for r in rows if r["method"] == "anit"), None)
    found = {case: (anit or {}).get("matched", {}).get(case) for case in CASES}
    table = [f"| {case} | {', '.join(map(str, f['seeds']))} | {_pdr(f['matched'])} | {_pdr(f['anit'])} | "
             f"{difference(f['raw'], 'raw')} | {MATCHED_SAID.get(matched_reading(f), '-')} |"
             for case, f in found.items() if f]
    if not table:
        return []
    return ([f"Against `{MATCHED}` (it at anit's compute) on the seeds both ran (means over them, paired 95% "
             "intervals; the goal as against it):", "", f"| case | seeds | {MATCHED} PDR | anit PDR | "
             f"raw − {MATCHED}'s | reading |", "|---|---|---|---|---|---|"] + table + [""])


def _pdr(found: dict[str, Any] | None) -> str:
    return "-" if not found else f"{found['value']:.3f} [{found['low']:+.2f}, {found['high']:+.2f}]"


def archived(folder: Path, name: str, link: str) -> str:
    """Whether the runs of the summary ``name`` (in ``folder``) are archived (:mod:`bench.archive`), which is
    whether a fresh checkout can rebuild and continue it."""
    held = len(list((folder / "runs" / name).glob("*.json.gz")))
    return (f"{held} run{'s' if held != 1 else ''} archived in `{link}runs/{name}/`" if held else
            "its runs predate the run archive, so it cannot be rebuilt or continued")


ANSWER = "robustness-ext48"
"""The robustness page the README and docs/BENCHMARKS.md answer from (docs/benchmarks/<ANSWER>.{json,md,png}); every
other one is listed beside it (:func:`other_runs`)."""


def sizes(settings: dict[str, Any]) -> str:
    """A protocol's sizes in a few words: steps, test and dev records per classification / extraction dataset."""
    return (f"{settings.get('steps')} steps, test {settings.get('test_tc')}/{settings.get('test_ext')}, "
            f"dev {settings.get('dev_tc')}/{settings.get('dev_ext')} records per classification/extraction dataset")


def other_runs(folder: Path, link: str, main: str = ANSWER) -> list[str]:
    """One line per robustness summary in ``folder`` other than ``main`` (another protocol: other steps or sizes, or
    another machine): its page (linked as ``link`` + file name), sizes, command, whether its runs are archived, and
    headline."""
    lines = []
    for path in sorted(folder.glob("robustness*.json")):
        if path.stem == main:
            continue
        summary = json.loads(path.read_text())
        page = f"{link}{path.stem}.md"
        lines.append(f"[{page}]({page}), {sizes(summary['settings'])} "
                     f"(`{summary['settings'].get('command')}`; {archived(folder, path.stem, link)}): "
                     f"{lead(summary)}")
    return lines


def lead(summary: dict[str, Any]) -> str:
    """A summary's answer where a page names it in a line: the bold sentence (:func:`in_short`), then the
    headline (how much has run, and the verdicts)."""
    return " ".join(filter(None, (summary.get(key, {}).get("generate") for key in ("in_short", "headline"))))


def this_command(argv: list[str] | None = None) -> str:
    """The benchmark's command line as a reader reruns it (``argv``: this process's arguments by default)."""
    import shlex
    import sys

    return ("python -m bench.robustness " + shlex.join(sys.argv[1:] if argv is None else argv)).strip()


def summarise(work: Path, settings: dict[str, Any], name: str = "robustness") -> dict[str, Any]:
    """Write docs/benchmarks/<name>.json and .md from the work folder; the protocol it ran (its protocol.json) wins
    over ``settings``, so a summary written later with other defaults still says what ran."""
    from bench.common import machine

    settings = {k: str(v) if isinstance(v, Path) else v for k, v in settings.items()}
    if (work / "protocol.json").exists():
        settings.update(json.loads((work / "protocol.json").read_text()))
    ran = work / "command.json"           # written when the runs start (bench.robustness.main)
    settings["command"] = json.loads(ran.read_text())["command"] if ran.exists() else this_command()
    tables = {scoring: table(work, scoring) for scoring in ("generate", "choice")}
    recorded = work / "machine.json"
    where = json.loads(recorded.read_text()) if recorded.exists() else {**machine(), "unrecorded": True}
    runs = {f.name: json.loads((f / "machine.json").read_text()) if (f / "machine.json").exists() else None
            for f in scored_runs(work, "generate")}
    return publish({"settings": settings, "machine": where, "run_machines": runs, "tables": tables,
                    "scoring_compared": scoring_compared(work, tables), "walls": walls(work), "alike": alike(work),
                    "worst_origins": worst_origins(work), "dev_attacks": dev_attacks(work)}, name)


def publish(payload: dict[str, Any], name: str) -> dict[str, Any]:
    """Judge the tables of ``payload`` (what :func:`summarise` read from a work folder: its verdicts and headlines
    are derived here) and write docs/benchmarks/<name>.json, .png and .md. A page whose work folder is gone is
    rewritten from its JSON this way (:func:`republish`)."""
    settings, tables = payload["settings"], payload["tables"]
    verdicts = {s: [verdict(d, rows) for d, rows in t.items()] for s, t in tables.items()}
    near = {s: [verdict(d, rows, "near") for d, rows in t.items()] for s, t in tables.items()}
    ran = {method: len({seed for rows in tables["generate"].values() for row in rows if row["method"] == method
                        for seed in row["seeds"]}) for method in settings.get("methods", [])}
    payload = {**payload, "verdicts": verdicts, "verdicts_near": near,
               "in_short": {s: in_short(v, tables[s]) for s, v in verdicts.items()},
               "headline": {s: headline(v, settings, ran) for s, v in verdicts.items()},
               "headline_near": {s: near_headline(v, settings) for s, v in near.items()},
               "headline_matched": {s: matched_headline(t) for s, t in tables.items()}}
    write_json(DOCS / "benchmarks" / f"{name}.json", payload)
    picture = DOCS / "benchmarks" / f"{name}.png"
    drawn = answer_plot(answer_points(payload), picture)
    answer = [payload[key]["generate"] for key in ("in_short", "headline", "headline_near", "headline_matched")]
    text = markdown(tables, settings, payload["scoring_compared"], payload["walls"], payload["alike"],
                    payload["worst_origins"], payload["machine"], payload["dev_attacks"], answer,
                    picture.name if drawn else None, payload.get("run_machines"))
    (DOCS / "benchmarks" / f"{name}.md").write_text(text, encoding="utf-8")
    return payload


def republish(name: str) -> dict[str, Any]:
    """Rewrite docs/benchmarks/<name>.{json,png,md} from its JSON alone: a benchmark whose work folder is gone and
    whose runs predate the run archive still takes a change in how the summary judges and words its tables."""
    payload = json.loads((DOCS / "benchmarks" / f"{name}.json").read_text())
    for rows in (rows for by in payload["tables"].values() for rows in by.values()):
        for row in rows:            # JSON wrote the seeds that key a row's per-seed fields as text
            row.update({key: {int(seed): v for seed, v in value.items()} for key, value in row.items()
                        if isinstance(value, dict) and value and all(str(seed).isdigit() for seed in value)})
    return publish(payload, name)
