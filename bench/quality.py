"""Quality: does ANIT help? Methods side by side on the embedded SmolLM2, several seeds, same data and steps,
evaluated under raw, noisy and unseen instructions; mean and standard deviation, and wall time per run.

    python -m bench.quality [--datasets sst2] [--seeds 0 1 2] [--steps 30] [--train 200] [--test 200] [--dev 128]

``it-matched`` trains ``it`` for as many forward+backward passes as exact ``anit`` spends (3x the steps).
``EXPERIMENTS`` are variants beside the method as specified (``anit-step``: the ascent step scales with beta(d)
too; ``anit-wide``: a beta(d) range large enough to move the loss); ``--table`` keeps their table beside the main one.
A run whose evaluation finished is kept, so an interrupted benchmark continues where it stopped, and a larger
``--test`` scores only the records a smaller one did not (test records are drawn in nested blocks).
Each method with knobs of its own first picks them on dev (``GRIDS``: three candidates, one seed, the same
budget for every method), then trains on every seed with them and is scored on test. ``--jobs N`` trains and scores
N seeds at once in worker processes: on a GPU a step of this small model is bound by the host, so one card serves
several (the docs then say each wall time includes the sharing).
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from anit.parallel import cpu_threads
from bench.common import DOCS, Scorer, in_parallel, in_place, run_benchmark, save
from bench.quality_runs import (
    EXPERIMENTS, GRIDS, GROUPS, METHODS, NOISES, SHARED, TEST_SEED, borrowed_knobs,
    conditions_of, dev_value, draw, eval_dir, group_score, kept_records, knobs_elsewhere,
    knobs_file, measured_on, raw_predictions, records_for, run_name, tag, test_examples,
    this_machine, top_answer, wall_of)
from bench.quality_analysis import agreements, standings, verdicts

from anit.data import DATASETS, default_data_dir
from anit.evaluation.run import EvalOptions, evaluate
from anit.jsonl import read_jsonl, write_jsonl
from anit.training.config import TASK_NOISE_RATES, TrainConfig
from anit.training.run import train

class Runner:
    """Trains (or reuses) one adapter per (method, knobs, seed) and evaluates it, all under ``work/dataset``."""

    def __init__(self, args: argparse.Namespace, root: Path, dataset: str) -> None:
        self.args, self.dataset, self.dir = args, dataset, args.work / dataset
        self.scorer = Scorer()
        self.dir.mkdir(parents=True, exist_ok=True)
        if args.only_seed is None:
            record = {**this_machine(), "jobs": args.jobs}
            measured_on(self.dir, args.table).write_text(json.dumps(record, indent=2) + "\n")
        self.spec = DATASETS.get(dataset)
        self.scoring = "choice" if self.spec.task == "tc" else "generate"
        used: set[str] = set()
        for seed in args.seeds:
            data, drawn = self.dir / f"train-{seed}.jsonl", draw(dataset, "train", args.train, seed, root)
            if not data.exists():
                write_jsonl(data, records_for(dataset, drawn, seed))
            elif [r["id"] for r in read_jsonl(data)] != [e.id for e in drawn]:
                raise SystemExit(f"{data}: its training records are not the {len(drawn)} that --train "
                                 f"{args.train} draws on seed {seed}; its adapters were trained on them, so use "
                                 "another --work for another --train")
            used.update(e.id for e in drawn)
        self.test = kept_records(self.dir / "test.jsonl", dataset, test_examples(args, dataset, root), TEST_SEED)
        dev = (draw(dataset, "dev", args.dev, 98, root) if "dev" in self.spec.files and "test" in self.spec.files
               else draw(dataset, "train", args.dev, 98, root, frozenset(used)))
        self.dev = kept_records(self.dir / "dev.jsonl", dataset, dev, 98)

    def fit(self, name: str, knobs: dict[str, float], seed: int) -> Path:
        """The adapter of ``name`` with ``knobs`` on seed ``seed``'s data, trained unless already there."""
        settings, factor = METHODS[name]
        out, steps = self.dir / run_name(name, knobs, seed), self.args.steps * factor
        summary = out / "train_summary.json"
        if not summary.exists():
            train(TrainConfig(model="smollm2-135m", **settings,
                              data=str(self.dir / f"train-{seed}.jsonl"), output_dir=str(out),
                              max_steps=steps, **SHARED, seed=seed,
                              report_to=["none"], save_steps=10_000, logging_steps=10, **knobs))
        elif (trained := json.loads(summary.read_text())["steps"]) != steps:
            raise SystemExit(f"{summary}: trained for {trained} steps, but --steps {self.args.steps} asks {steps}; "
                             "use another --work for another step budget")
        return out

    def score(self, adapter: Path | None, records: list[dict[str, Any]], which: list[str], out: Path) -> None:
        """Evaluate the base model with ``adapter`` (None: zero-shot) on ``records`` unless ``out`` already holds
        a result for them. Predictions ``out`` holds from a smaller set are reused (``evaluate(reuse=True)``), and
        its wall time adds up every part's. ``wall.json``, written last, records the ids it finished on."""
        ids, wall = sorted(r["id"] for r in records), wall_of(out)
        if wall.get("ids") == ids:
            return
        spent = wall.get("eval_s", 0.0)
        net = self.scorer.base if adapter is None else self.scorer.model(adapter)
        start = time.perf_counter()
        evaluate(net, self.scorer.tokenizer, records, which, out, EvalOptions(scoring=self.scoring, batch_size=16),
                 reuse=True)
        (out / "wall.json").write_text(json.dumps({"eval_s": spent + time.perf_counter() - start, "ids": ids}))
        print(json.dumps({"dataset": self.dataset, "run": out.name}), flush=True)

    def tune(self) -> dict[str, dict[str, float]]:
        """Each method's knobs: the candidate with the best mean of raw and noisy dev scores (first seed; the
        defaults win ties). The chosen candidate's first-seed adapter is reused for test. ``tuned.json`` keeps
        the choices of methods not run now."""
        tuned = self.dir / "tuned.json"
        seed, chosen = self.args.seeds[0], json.loads(tuned.read_text()) if tuned.exists() else {}
        for name in self.args.methods:
            grid = GRIDS.get(name)
            if grid is None:
                chosen[name] = {}
                continue
            values = []
            for knobs in grid:
                out = self.dir / f"dev-{run_name(name, knobs, seed)}"
                self.score(self.fit(name, knobs, seed), self.dev, ["raw", "noisy"], out)
                values.append(dev_value(conditions_of(out), self.dataset))
            chosen[name] = grid[max(range(len(grid)), key=values.__getitem__)]
        tuned.write_text(json.dumps(chosen, indent=2) + "\n")
        return chosen

    def run(self, borrowed: dict[str, dict[str, float]] | None) -> None:
        """Trains and scores every method on every seed, with the ``borrowed`` knobs (``--knobs-from``) or, where
        there are none, the knobs tuned here. With ``--jobs`` above 1 the seeds go to worker processes once the
        tuning and the zero-shot floor are done; a worker (``--only-seed``) runs its seed on the knobs tuned here."""
        if self.args.only_seed is not None:
            chosen = borrowed if borrowed is not None else json.loads((self.dir / "tuned.json").read_text())
            self.run_seed(chosen, self.args.only_seed)
            return
        chosen = borrowed if borrowed is not None else self.tune()
        self.score(None, self.test, list(GROUPS), eval_dir(self.dir, "zero-shot", {}, 0))
        if self.args.jobs > 1:
            in_parallel(worker_commands(sys.argv[1:], self.dataset, self.args.seeds), self.args.jobs)
            return
        for seed in self.args.seeds:
            self.run_seed(chosen, seed)

    def run_seed(self, chosen: dict[str, dict[str, float]], seed: int) -> None:
        """Trains and scores every method on ``seed`` with its ``chosen`` knobs."""
        for name in self.args.methods:
            knobs = chosen[name]
            self.score(self.fit(name, knobs, seed), self.test, list(GROUPS), eval_dir(self.dir, name, knobs, seed))


def worker_commands(argv: list[str], dataset: str, seeds: list[int]) -> list[list[str]]:
    """The command of each seed's worker: this script's ``argv`` narrowed to ``dataset`` and that seed (every
    seed stays in ``--seeds``, since the dev draw excludes all of their training records)."""
    return [[sys.executable, "-m", "bench.quality", *argv, "--datasets", dataset, "--only-seed", str(seed),
             "--jobs", "1"] for seed in seeds]


def summarise(args: argparse.Namespace, root: Path, borrowed: dict[str, dict[str, float]] | None) -> None:
    """The tuning on dev, then mean and standard deviation over seeds on test, the drops from raw, and wall
    times, to docs/; each method's runs are those of the ``borrowed`` knobs (``--knobs-from``) or, where there are
    none, of the knobs each dataset tuned."""
    sections = []
    notes = ["noisy pools every record's noisy instruction over the noise types; unseen uses the task's other "
             "pool instructions. Classification is scored by ranking the label options (choice scoring); the other "
             "tasks generate (greedy) and are parsed and scored as `anit eval` does (entity or triplet micro-F1).",
             "Knobs: each tuned method tries three candidates (TrainConfig's defaults first) on the dev records with "
             "the first seed, keeps the best mean of raw and noisy dev scores (defaults win ties), and is then "
             "trained on every seed with it. it and it-matched have no knobs of their own.",
             "Instructions in training: it and it-matched see raw instructions only; every other method draws a "
             "record's noisy instruction with its task's default probability ("
             + ", ".join(f"{task} {rate:g}" for task, rate in TASK_NOISE_RATES.items())
             + ") unless its chosen knobs set noise_rate; the draws are seeded, so every method that draws at the "
             "same rate (noisy_it unless its knobs set another, neftune, fgm and the anit variants) sees the same "
             "instructions on a seed.",
             "Wall times: train wall s is one training run; eval wall s scores the test records under all three "
             "conditions, summed over the parts when a larger --test reused the predictions of a smaller one (test "
             "records are drawn in nested blocks of --test-block)."]
    scopes = [scope(dataset, args.test, args.steps, args.table) for dataset in args.datasets]
    stamps: dict[str, dict[str, Any]] = {}
    fresh: dict[str, list[str]] = {}
    for dataset, where in zip(args.datasets, scopes):
        scoped = fresh[where] = []
        record = measured_on(args.work / dataset, args.table)
        ran = json.loads(record.read_text()) if record.exists() else this_machine()
        tuned = knobs_file(args) if args.knobs_from else args.work / dataset / "tuned.json"
        chosen = borrowed if borrowed is not None else json.loads(tuned.read_text()) if tuned.exists() else {}
        if args.knobs_from:
            scoped.append(f"{where}: no tuning of its own; every method uses the knobs " + (
                f"chosen in {tuned}, another work folder's tuning (the table whose command names that --work gives "
                "the step budget they were chosen at)." if knobs_elsewhere(args) else
                f"it chose on {args.knobs_from} dev at the same step budget ({tuned})."))
        if ran.get("jobs", 1) > 1:
            scoped.append(f"{where}: the seeds ran {ran['jobs']} at a time on this one machine (--jobs; each worker "
                          f"with {cpu_threads(ran['machine']['cores'], ran['jobs'])} CPU threads), so each wall "
                          "time includes the sharing.")
        scoped.append(setup_note(args, where, ran["weights"]))
        scoped += [f"{where}: {EXPERIMENTS[name]}" for name in args.methods if name in EXPERIMENTS]
        if not args.knobs_from:
            budget = named(f"{dataset}, {args.steps} steps", args.table)
            heading = f"{budget}: knob tuning on dev (seed {args.seeds[0]})"
            stamps[heading] = ran
            sections.append((heading, tuning_rows(args, dataset, chosen)))
        test = test_examples(args, dataset, root)
        classification = DATASETS.get(dataset).task == "tc"
        test_ids = sorted(e.id for e in test)
        rows, by_seed = [], {}
        for name in ["zero-shot"] + args.methods:
            values: dict[str, dict[int, float]] = {group: {} for group in GROUPS}
            walls, evals, seeds, macro, leanings = [], [], [], [], []
            for seed in args.seeds[:1] if name == "zero-shot" else args.seeds:
                run = run_name(name, chosen.get(name, {}), seed)
                run_dir = eval_dir(args.work / dataset, name, chosen.get(name, {}), seed)
                wall = wall_of(run_dir)
                if wall.get("ids") != test_ids:
                    continue
                seeds.append(seed)
                evals.append(wall["eval_s"])
                conditions = conditions_of(run_dir)
                for group in values:
                    score = group_score(conditions, dataset, group)
                    if score is not None:
                        values[group][seed] = score
                if classification:
                    macro.append(conditions["raw"][dataset]["macro_f1"])
                    leanings.append(top_answer(raw_predictions(run_dir)))
                summary = args.work / dataset / run / "train_summary.json"
                if summary.exists():
                    walls.append(json.loads(summary.read_text())["runtime_s"])
            if not seeds:
                continue
            row: dict[str, Any] = {"method": name, "knobs": tag(chosen.get(name, {}))[1:] or "defaults",
                                   "seeds": len(seeds)}
            means = {group: statistics.fmean(scores.values()) for group, scores in values.items()}
            for group, scores in values.items():
                by_seed[(name, group)] = scores
                row[group] = f"{means[group]:.3f} ± {statistics.pstdev(scores.values()):.3f}"
            for group in GROUPS[1:]:
                row[f"drop {group}"] = f"{means['raw'] - means[group]:+.3f}"
            if macro:
                row["raw macro-F1"] = f"{statistics.fmean(macro):.3f} ± {statistics.pstdev(macro):.3f}"
                row["raw top answer"] = ", ".join(leanings)
            row["train wall s"] = f"{statistics.fmean(walls):.0f}" if walls else "-"
            row["eval wall s"] = f"{statistics.fmean(evals):.0f}"
            rows.append(row)
        heading = f"{where}: primary score (mean ± std over seeds) and drop from raw"
        stamps[heading] = ran
        sections.append((heading, rows))
        if classification:
            scoped.append(f"{where}: raw top answer is, for each seed, the label a method gives most often under raw "
                          f"instructions and its share of the answers; the gold labels give "
                          f"{top_answer({'parsed': e.gold} for e in test)}. A share far above that shows a label bias "
                          "that accuracy hides and macro-F1 shows.")
        scoped += verdicts(where, by_seed) + standings(where, by_seed)
        scoped += agreements(args, dataset, where, chosen, test_ids)
    notes += in_place([note for note in earlier_notes() if note.split(",")[0] in DATASETS.names()], fresh,
                      lambda note: note.split(":")[0])
    save("quality", "Quality", sections, notes, stamps)


def setup_note(args: argparse.Namespace, where: str, weights: str) -> str:
    """The line of a table's notes that gives its run's size and settings; a method's step factor (``METHODS``,
    it-matched's 3) only where that method ran."""
    scaled = ", ".join(f"x{METHODS[name][1]} for {name}" for name in args.methods if METHODS[name][1] > 1)
    steps = f"{args.steps} steps ({scaled})" if scaled else f"{args.steps} steps"
    return (f"{where}: {args.train} training records, {steps}, batch {SHARED['batch_size']}, lr {SHARED['lr']:g}, "
            f"LoRA r{TrainConfig.lora_r}, {weights} base weights; "
            f"{args.test} test and {args.dev} dev records; seeds {args.seeds}; noises {', '.join(NOISES)} (one drawn "
            "per record).")


@functools.cache


def named(text: str, table: str | None) -> str:
    """``text`` followed by the ``--table`` name, if any, so a side experiment's headings differ from the main ones."""
    return f"{text}, {table}" if table else text


def scope(dataset: str, test: int, steps: int, table: str | None = None) -> str:
    """What a test table and its notes are keyed by: tables of one dataset on different test sizes, step budgets
    or ``--table`` names coexist."""
    return named(f"{dataset}, {test} test, {steps} steps", table)


def earlier_notes() -> list[str]:
    """The notes of the quality results already in docs/, so that scopes (dataset, test size) not summarised now
    keep theirs."""
    path = DOCS / "benchmarks" / "quality.json"
    return json.loads(path.read_text())["notes"] if path.exists() else []


def tuning_rows(args: argparse.Namespace, dataset: str, chosen: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """One row per (method, candidate) tried on dev: its raw and noisy dev scores, criterion and wall times."""
    rows = []
    seed = args.seeds[0]
    for name in args.methods:
        for knobs in GRIDS.get(name, []):
            out = args.work / dataset / f"dev-{run_name(name, knobs, seed)}"
            if not (out / "metrics.json").exists():
                continue
            conditions = conditions_of(out)
            summary = json.loads((args.work / dataset / run_name(name, knobs, seed) / "train_summary.json").read_text())
            rows.append({"method": name, "knobs": tag(knobs)[1:] or "defaults",
                         "dev raw": f"{group_score(conditions, dataset, 'raw'):.3f}",
                         "dev noisy": f"{group_score(conditions, dataset, 'noisy'):.3f}",
                         "criterion": f"{dev_value(conditions, dataset):.3f}",
                         "chosen": "yes" if chosen.get(name) == knobs else "",
                         "train wall s": f"{summary['runtime_s']:.0f}"})
    return rows


def parser() -> argparse.ArgumentParser:
    """The command line (``--only-seed`` is ``--jobs``' worker's, not a user's)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", nargs="+", default=["sst2"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--train", type=int, default=200)
    parser.add_argument("--test", type=int, default=200)
    parser.add_argument("--dev", type=int, default=128, help="Dev records for the knob tuning.")
    parser.add_argument("--test-block", type=int, default=256,
                        help="Test records are drawn in blocks of this size, so a larger --test reuses the predictions "
                             "of a smaller one's whole blocks.")
    parser.add_argument("--methods", nargs="+", default=[name for name in METHODS if name not in EXPERIMENTS],
                        choices=list(METHODS),
                        help="Methods to run and report (default: all but the side experiments, "
                             f"{', '.join(EXPERIMENTS)}); runs and tables follow METHODS' order, whatever the order "
                             "given here.")
    parser.add_argument("--work", type=Path, default=Path("runs/bench-quality"))
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--knobs-from", help="Skip the tuning: use the knobs chosen on this dataset's dev, or those "
                                             "of a tuned.json path (a cheaper, weaker protocol; the docs say so).")
    parser.add_argument("--jobs", type=int, default=1, help="Train and score this many seeds at once, each in a "
                                                            "worker process (for a GPU, which one run leaves idle).")
    parser.add_argument("--only-seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--table", help="Name a side experiment's table (e.g. anit-step) so that it sits beside "
                                        "the main table of the same dataset, test size and steps.")
    parser.add_argument("--summarise-only", action="store_true", help="Rebuild the tables from --work.")
    return parser


def main() -> None:
    args = parser().parse_args()
    args.methods = [name for name in METHODS if name in args.methods]
    root = args.data_dir or default_data_dir()
    borrowed = borrowed_knobs(args) if args.knobs_from else None
    if not args.summarise_only:
        for dataset in args.datasets:
            Runner(args, root, dataset).run(borrowed)
    if args.only_seed is None:
        summarise(args, root, borrowed)


if __name__ == "__main__":
    run_benchmark(main, resumable=True)
