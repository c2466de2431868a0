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
import collections
import functools
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterable

from bench.common import DOCS, command, in_place, machine, save
from safetensors.torch import load_file

from anit.data import DATASETS, default_data_dir, load_examples
from anit.data.prepare import sample, to_record
from anit.evaluation.run import EvalOptions, evaluate, load_for_eval
from anit.jsonl import read_jsonl, write_jsonl
from anit.models import resolve_dtype
from anit.noise.build import build_noisy
from anit.tasks import TASKS
from anit.training.config import TASK_NOISE_RATES, TrainConfig
from anit.training.run import train

GROUPS = ("raw", "noisy", "unseen")
"""The instruction conditions every test run is scored under."""
NOISES = ["random_replace:0.3", "truncate_random:0.3", "char_typo:0.3", "synonym_replace:0.3", "pad_unrelated:0.3"]
METHODS: dict[str, tuple[dict[str, str], int]] = {
    "it": ({"method": "it"}, 1), "noisy_it": ({"method": "noisy_it"}, 1), "neftune": ({"method": "neftune"}, 1),
    "fgm": ({"method": "fgm"}, 1), "anit": ({"method": "anit"}, 1),
    "anit-fast": ({"method": "anit", "nrm_variant": "fast"}, 1),
    "anit-step": ({"method": "anit", "nrm_step": "beta"}, 1),
    "anit-wide": ({"method": "anit"}, 1), "fgm-wide": ({"method": "fgm"}, 1),
    "it-matched": ({"method": "it"}, 3)}
"""Each method's TrainConfig settings and its step factor (it-matched: 3x the steps, exact anit's passes)."""
SHARED = {"batch_size": 4, "lr": 2e-4, "max_length": 256}
"""The TrainConfig settings every method trains with; LoRA keeps TrainConfig's defaults."""
NRM_GRID = [{}, {"nrm_alpha": 0.3}, {"nrm_alpha": 0.1, "beta_min": 2.0, "beta_max": 10.0}]
WIDE = {"nrm_alpha": 0.1, "beta_min": 0.0, "beta_max": 150.0}
"""anit-wide's one candidate (``EXPERIMENTS`` says why)."""
NOISY_D = 0.3
"""About the word-edit distortion of a noisy instruction under ``NOISES`` (each at rate 0.3)."""
WIDE_START = WIDE["beta_min"] + NOISY_D * (WIDE["beta_max"] - WIDE["beta_min"])
"""anit-wide's start beta for a noisy instruction; a raw one gets ``beta_min``."""
FGM_WIDE = {"nrm_alpha": WIDE["nrm_alpha"],
            "fgm_beta": WIDE["beta_min"] + TASK_NOISE_RATES["tc"] * (WIDE_START - WIDE["beta_min"])}
"""fgm-wide's one candidate: anit-wide's alpha, and anit-wide's mean beta on a classification task as one global beta
(``EXPERIMENTS`` says why)."""
EXPERIMENTS = {
    "anit-step": "anit-step is anit with nrm_step=beta, an ascent step of alpha * beta(d_i): distortion sets the step "
                 "as well as the uniform start. It is not the method as specified (there the step is alpha for every "
                 "sample); it tests whether a distortion-driven step changes what anit learns.",
    "anit-wide": f"anit-wide is anit with one fixed, untuned candidate: alpha {WIDE['nrm_alpha']:g} and beta(d) from "
                 f"{WIDE['beta_min']:g} at d = 0 to {WIDE['beta_max']:g} at d = 1, so a noisy training instruction "
                 f"(word-edit d near {NOISY_D:g} with these noises) starts at beta near "
                 f"{WIDE_START:g}, where "
                 "bench/perturbation.py finds the uniform start alone raising the loss (beta 50: +5.6%), while every "
                 "candidate in anit's tuning grid keeps beta at "
                 f"{max(knobs.get('beta_max', TrainConfig.beta_max) for knobs in NRM_GRID):g} or below, which moves "
                 "it by under 1%. It tests whether a distortion response large enough to matter changes what anit "
                 "learns.",
    "fgm-wide": f"fgm-wide is fgm with one fixed, untuned candidate: anit-wide's alpha {FGM_WIDE['nrm_alpha']:g} and "
                f"one global beta {FGM_WIDE['fgm_beta']:g}, anit-wide's mean beta on a classification task (a "
                f"training instruction is noisy with probability {TASK_NOISE_RATES['tc']:g} and then starts near "
                f"{WIDE_START:g}; a raw one at {WIDE['beta_min']:g}). Both spend about the same perturbation on "
                "average: fgm-wide spreads it evenly over every sample, anit-wide gives it to noisy instructions by "
                "their distortion. It tells anit-wide's distortion response apart from its perturbation size."}
"""Methods that are not the issue's protocol, run only when named (with ``--table``, beside the main table), and
the note that says what each one tests."""
GRIDS: dict[str, list[dict[str, float]]] = {
    "noisy_it": [{}, {"noise_rate": 0.3}, {"noise_rate": 0.8}],
    "neftune": [{}, {"neftune_alpha": 1.0}, {"neftune_alpha": 15.0}],
    "fgm": [{}, {"nrm_alpha": 0.3}, {"nrm_alpha": 0.1, "fgm_beta": 6.0}],
    "anit": NRM_GRID,
    "anit-fast": NRM_GRID,
    "anit-step": NRM_GRID,
    "anit-wide": [WIDE],
    "fgm-wide": [FGM_WIDE],
}
"""Each method's candidate knobs, TrainConfig's defaults first; methods without knobs of their own (it,
it-matched) are not tuned. Every method of the protocol gets the same budget: three candidates, one seed; a side
experiment may pin one candidate (anit-wide, fgm-wide), and its note says it is untuned."""


def tag(knobs: dict[str, float]) -> str:
    """A run's name suffix: empty for the defaults, so runs of an earlier untuned benchmark are reused."""
    return "".join(f"@{key}={value:g}" for key, value in sorted(knobs.items()))


def run_name(name: str, knobs: dict[str, float], seed: int) -> str:
    """The folder of method ``name`` with ``knobs`` on seed ``seed`` (prefixed eval-/dev- for its scores)."""
    return f"{name}{tag(knobs)}-{seed}"


def eval_dir(folder: Path, name: str, knobs: dict[str, float], seed: int) -> Path:
    """Where ``name``'s test evaluation on ``seed`` lies under a dataset's ``folder``. zero-shot has one whatever
    the seed: it trains nothing and decodes greedily."""
    return folder / ("eval-zero-shot" if name == "zero-shot" else f"eval-{run_name(name, knobs, seed)}")


def measured_on(folder: Path, table: str | None) -> Path:
    """Written into a dataset's work ``folder`` by each run, one per ``--table`` (side experiments share the folder
    and its runs): the machine, the base weights' dtype and the command, so a summary made later or elsewhere
    (``--summarise-only`` on another machine) stamps each table with where and by what command it ran."""
    return folder / ("measured_on.json" if not table else "measured_on-" + re.sub(r"[^\w.-]+", "-", table) + ".json")


def this_machine() -> dict[str, Any]:
    """What ``measured_on`` records: this machine, the dtype the base loads in here (``auto``) and the command."""
    return {"machine": machine(), "weights": str(resolve_dtype("auto")).removeprefix("torch."), "command": command()}


TEST_SEED = 99
"""Seeds the test draw (block k: TEST_SEED + k) and its noisy instructions."""


def records_for(dataset: str, examples: list[Any], seed: int) -> list[dict[str, Any]]:
    """``examples`` as records with noisy instructions drawn with ``seed``."""
    return build_noisy([to_record(e, DATASETS.get(dataset)) for e in examples], NOISES, seed)


def kept_records(path: Path, dataset: str, examples: list[Any], seed: int) -> list[dict[str, Any]]:
    """``records_for`` through the file ``path``: records it already holds are reused by id (a record's noise
    depends only on ``seed`` and its id), only the others are noised, and ``path`` is left holding exactly
    ``examples``' records (it is not rewritten when it already holds exactly them, so ``--jobs``' workers only
    read it). A resumed or grown benchmark so scores the instructions it scored before, and a machine without
    WordNet can run on the files."""
    held = {r["id"]: r for r in read_jsonl(path)} if path.exists() else {}
    missing = [e for e in examples if e.id not in held]
    held.update((r["id"], r) for r in records_for(dataset, missing, seed))
    records = [held[e.id] for e in examples]
    if missing or list(held) != [e.id for e in examples]:
        write_jsonl(path, records)
    return records


def draw(dataset: str, split: str, n: int, seed: int, root: Path, exclude: frozenset[str] = frozenset(),
         block: int | None = None) -> list[Any]:
    """``n`` examples of ``split`` not in ``exclude``; drawn in blocks of ``block`` (see ``nested_sample``) when
    given, else in one draw."""
    examples = [e for e in load_examples(dataset, split, data_dir=root)[0] if e.id not in exclude]
    return nested_sample(examples, n, seed, block) if block else sample(examples, n, seed)


def test_examples(args: argparse.Namespace, dataset: str, root: Path) -> list[Any]:
    """The test set ``--test`` and ``--test-block`` draw: from test, or dev where a dataset has no test split."""
    split = "test" if "test" in DATASETS.get(dataset).files else "dev"
    return draw(dataset, split, args.test, TEST_SEED, root, block=args.test_block)


def nested_sample(examples: list[Any], n: int, seed: int, block: int) -> list[Any]:
    """``n`` examples drawn in blocks: block k takes up to ``block`` of what earlier blocks left, with seed
    ``seed + k``. A larger test set therefore starts with a smaller one's whole blocks, whose predictions are
    reused; the records of a smaller one's last, partial block need not be among the larger one's."""
    chosen: list[Any] = []
    rest = examples
    while len(chosen) < n and rest:
        drawn = sample(rest, min(block, n - len(chosen)), seed + len(chosen) // block)
        taken = {id(e) for e in drawn}
        chosen += drawn
        rest = [e for e in rest if id(e) not in taken]
    return chosen


class Runner:
    """Trains (or reuses) one adapter per (method, knobs, seed) and evaluates it, all under ``work/dataset``."""

    def __init__(self, args: argparse.Namespace, root: Path, dataset: str) -> None:
        self.args, self.dataset, self.dir = args, dataset, args.work / dataset
        self.base, self.tokenizer = load_for_eval("smollm2-135m", None)
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
        from peft import PeftModel

        ids, wall = sorted(r["id"] for r in records), wall_of(out)
        if wall.get("ids") == ids:
            return
        spent = wall.get("eval_s", 0.0)
        net = self.base if adapter is None else PeftModel.from_pretrained(self.base, str(adapter))
        start = time.perf_counter()
        evaluate(net, self.tokenizer, records, which, out, EvalOptions(scoring=self.scoring, batch_size=16),
                 reuse=True)
        (out / "wall.json").write_text(json.dumps({"eval_s": spent + time.perf_counter() - start, "ids": ids}))
        if adapter is not None:
            self.base = net.unload()
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


def worker_threads(cores: int, jobs: int) -> int:
    """The CPU threads each of ``jobs`` workers gets on a machine of ``cores``."""
    return max(1, cores // jobs)


def in_parallel(commands: list[list[str]], jobs: int) -> None:
    """Runs ``commands``, ``jobs`` at a time, each with its share of the CPU threads; stops naming every command
    that failed once all have ended (the runs that finished are kept and reused on the next try)."""
    env = {**os.environ, "OMP_NUM_THREADS": str(worker_threads(os.cpu_count() or 1, jobs))}
    with ThreadPoolExecutor(jobs) as pool:
        codes = list(pool.map(lambda argv: subprocess.run(argv, env=env).returncode, commands))
    failed = [f"{shlex.join(argv)} (exit {code})" for argv, code in zip(commands, codes) if code]
    if failed:
        raise SystemExit("worker failed: " + "; ".join(failed))


def borrowed_knobs(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """The knobs ``--knobs-from``'s dataset chose for each method named; stops before any work or summary, naming the
    tuned methods it has no choice for (they would otherwise run, or be reported, on the defaults under their own
    name)."""
    tuned = knobs_file(args)
    chosen = json.loads(tuned.read_text()) if tuned.exists() else {}
    missing = [name for name in args.methods if name in GRIDS and name not in chosen]
    if missing:
        raise SystemExit(f"{tuned}: no knobs chosen for {', '.join(missing)}; tune them first (run on that "
                         "dataset without --knobs-from).")
    return {name: chosen.get(name, {}) for name in args.methods}


def knobs_file(args: argparse.Namespace) -> Path:
    """The ``tuned.json`` that ``--knobs-from`` names: a dataset's in ``--work`` (tuned at the same step budget),
    or a path to one, such as another work folder's (tuned at that folder's budget)."""
    return Path(args.knobs_from) if knobs_elsewhere(args) else args.work / args.knobs_from / "tuned.json"


def knobs_elsewhere(args: argparse.Namespace) -> bool:
    """Whether ``--knobs-from`` names a ``tuned.json`` path rather than a dataset of ``--work``."""
    return args.knobs_from.endswith(".json")


def wall_of(folder: Path) -> dict[str, Any]:
    """The evaluation in ``folder``'s ``wall.json`` ({} if none): ``eval_s`` and the sorted record ``ids`` it
    finished every condition on. An evaluation stopped while growing its set has new predictions beside old
    metrics and no new ids, so it counts as unfinished. Summaries count only runs finished on the whole test set
    that ``--test`` and ``--test-block`` draw."""
    path = folder / "wall.json"
    return json.loads(path.read_text()) if path.exists() else {}


def conditions_of(out: Path) -> dict[str, Any]:
    """The per-condition scores an evaluation wrote to ``out``."""
    return json.loads((out / "metrics.json").read_text())["conditions"]


def dev_value(conditions: dict[str, Any], dataset: str) -> float:
    """The tuning criterion: the mean of the raw and the (pooled) noisy primary score on dev."""
    return statistics.fmean(group_score(conditions, dataset, group) for group in ("raw", "noisy"))


def group_score(conditions: dict[str, Any], dataset: str, group: str) -> float | None:
    """The primary score of a condition group; the noisy group pools its noise types weighted by size."""
    parts = [per[dataset] for name, per in conditions.items()
             if dataset in per and (name == group or (group == "noisy" and name.startswith("noisy-")))]
    if not parts:
        return None
    key = TASKS.get(parts[0]["task"]).primary
    return sum(p[key] * p["n"] for p in parts) / sum(p["n"] for p in parts)


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
                          f"with {worker_threads(ran['machine']['cores'], ran['jobs'])} CPU threads), so each wall "
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
def raw_predictions(run_dir: Path) -> list[dict[str, Any]]:
    """``run_dir``'s predictions under raw instructions, read once for both the top answer and the agreements."""
    return read_jsonl(run_dir / "raw.predictions.jsonl")


def top_answer(rows: Iterable[dict[str, Any]]) -> str:
    """The most common ``parsed`` answer of ``rows`` and its share, e.g. ``positive 91%``."""
    answers = collections.Counter(row["parsed"] for row in rows)
    label, count = answers.most_common(1)[0]
    return f"{label} {count / answers.total():.0%}"


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


ANITS = ("anit", "anit-fast", "anit-step", "anit-wide")
"""The ANIT variants the goal is checked for."""
BASELINES = ("it", "it-matched", "noisy_it", "neftune", "fgm", "fgm-wide")
"""The trained methods each ANIT variant is set beside, condition by condition."""


def paired(by_seed: dict[tuple[str, str], dict[int, float]], name: str,
           other: str) -> tuple[list[int], dict[tuple[str, str], float]]:
    """The seeds on which both ``name`` and ``other`` finished every condition, and each one's mean score per
    condition over those seeds (``by_seed``: (method, group) -> seed -> score); no seeds if either did not run."""
    runs = [(method, group) for method in (name, other) for group in GROUPS]
    common = sorted(set.intersection(*(set(by_seed.get(run, {})) for run in runs)))
    return common, {run: statistics.fmean(by_seed[run][seed] for seed in common) for run in runs} if common else {}


def standings(where: str, by_seed: dict[tuple[str, str], dict[int, float]]) -> list[str]:
    """Each ANIT variant beside each baseline that ran, per condition on the seeds both finished, so that where ANIT
    does not win is as plain as where it does; and on how many of those seeds it is ahead or level, since a mean
    lead that one seed carries is not one to build on."""
    lines = []
    for name in ANITS:
        for other in BASELINES:
            common, means = paired(by_seed, name, other)
            if not common:
                continue
            ahead = [group for group in GROUPS if means[(name, group)] >= means[(other, group)]]
            lines.append(f"{where}: {name} against {other} (seeds {common}): "
                         + ", ".join(f"{group} {means[(name, group)]:.3f} vs {means[(other, group)]:.3f}"
                                     for group in GROUPS)
                         + f"; ahead or level under {len(ahead)} of {len(GROUPS)} conditions"
                         + (f" ({', '.join(ahead)})" if ahead else "")
                         + "; ahead or level per seed: "
                         + ", ".join(f"{group} {seeds_ahead(by_seed, name, other, group, common)}/{len(common)}"
                                     for group in GROUPS) + ".")
    return lines


def seeds_ahead(by_seed: dict[tuple[str, str], dict[int, float]], name: str, other: str, group: str,
                seeds: list[int]) -> int:
    """On how many of ``seeds`` ``name`` scores at least ``other``'s under ``group`` instructions."""
    return sum(by_seed[(name, group)][seed] >= by_seed[(other, group)][seed] for seed in seeds)


def verdicts(where: str, by_seed: dict[tuple[str, str], dict[int, float]]) -> list[str]:
    """The goal, checked plainly: anit at least as good as it under raw instructions, and drops at most half of it's.
    Each pair is compared on the seeds both finished in every condition group (``by_seed``: (method, group) ->
    seed -> score), named when that leaves out a seed either finished. A drop no larger than the standard deviation
    of its per-seed drops is not told apart from none: where it's is such a drop, half of it is not judged, and the
    goal is not met only where anit's own drop exceeds its spread. ``where`` (a ``scope``) starts each line."""
    lines = []
    for name in ANITS:
        common, means = paired(by_seed, name, "it")
        if not common:
            continue
        if any(set(by_seed[(method, group)]) != set(common) for method in (name, "it") for group in GROUPS):
            lines.append(f"{where}: {name} and it are compared on the seeds both finished, {common}.")
        raw_ok = means[(name, "raw")] >= means[("it", "raw")]
        lines.append(f"{where}: {name} under raw instructions is {'at least as good as' if raw_ok else 'worse than'} "
                     f"it ({means[(name, 'raw')]:.3f} vs {means[('it', 'raw')]:.3f}).")
        for group in GROUPS[1:]:
            drop, spread = drop_spread(by_seed, name, group, common)
            it_drop, it_spread = drop_spread(by_seed, "it", group, common)
            if it_drop > it_spread:
                met = drop <= it_drop / 2
                verdict = "met" if met else "not met"
                if met and means[(name, group)] < means[("it", group)]:
                    verdict += (f", but only through a lower raw score: under {group} instructions it is still below "
                                f"it ({means[(name, group)]:.3f} vs {means[('it', group)]:.3f})")
            else:
                it_flat = (f"it does not drop under {group} instructions" if it_drop <= 0 else
                           f"it's drop is within its seed-to-seed spread (per-seed drops vary by {it_spread:.3f}, "
                           "standard deviation)")
                verdict = (f"not met: {name}'s drop exceeds its own seed-to-seed spread ({spread:.3f}) and {it_flat}"
                           if drop > spread else f"not judged: {it_flat}")
            lines.append(f"{where}: {name}'s raw-to-{group} drop {drop:+.3f} vs it's {it_drop:+.3f}: goal (at most "
                         f"half of it's) {verdict}.")
    return lines


def drop_spread(by_seed: dict[tuple[str, str], dict[int, float]], name: str, group: str,
                seeds: list[int]) -> tuple[float, float]:
    """``name``'s mean raw-to-``group`` drop over ``seeds`` and the standard deviation of its per-seed drops (0 for
    one seed)."""
    drops = [by_seed[(name, "raw")][seed] - by_seed[(name, group)][seed] for seed in seeds]
    return statistics.fmean(drops), statistics.stdev(drops) if len(drops) > 1 else 0.0


AGREEMENTS = [("anit", "noisy_it"), ("anit", "fgm"), ("anit-fast", "fgm"), ("neftune", "fgm"), ("anit-step", "anit"),
              ("anit-wide", "anit"), ("anit-wide", "fgm-wide"), ("fgm-wide", "fgm")]
"""Pairs of methods that train on the same noisy-instruction draws (where their chosen knobs give the same
``draw_rate``), so that where their answers and adapters agree, the perturbations that tell them apart made little
difference (anit against noisy_it: all of the NRM's)."""


def draw_rate(name: str, knobs: dict[str, float], task: str) -> float:
    """How often method ``name`` with ``knobs`` trains a ``task`` record on its noisy instruction, by TrainConfig's
    own rule (the draws are seeded, so methods with equal rates draw the same instructions on a seed)."""
    return TrainConfig(**METHODS[name][0], **knobs).rate_for(task)


def agreements(args: argparse.Namespace, dataset: str, where: str, chosen: dict[str, dict[str, float]],
               test_ids: list[str]) -> list[str]:
    """For each pair in ``AGREEMENTS`` that ran, how often the two give the same raw-instruction answer on the test
    records ``test_ids`` (runs scored on other records are left out), and how far apart their adapters are."""
    @functools.cache
    def answers(name: str, seed: int) -> list[str] | None:
        run_dir = eval_dir(args.work / dataset, name, chosen.get(name, {}), seed)
        if wall_of(run_dir).get("ids") != test_ids:
            return None
        return [row["generation"] for row in raw_predictions(run_dir)]

    @functools.cache
    def weights(name: str, seed: int) -> dict[str, Any] | None:
        path = args.work / dataset / run_name(name, chosen.get(name, {}), seed) / "adapter_model.safetensors"
        return load_file(str(path)) if path.exists() else None

    task = DATASETS.get(dataset).task
    lines = []
    for name, other in AGREEMENTS:
        if (name not in args.methods or other not in args.methods
                or draw_rate(name, chosen.get(name, {}), task) != draw_rate(other, chosen.get(other, {}), task)):
            continue
        same = 0
        gaps, both = [], []
        for seed in args.seeds:
            ours, theirs = answers(name, seed), answers(other, seed)
            if ours is not None and theirs is not None:
                same += sum(a == b for a, b in zip(ours, theirs))
                both.append(seed)
            mine, reference = weights(name, seed), weights(other, seed)
            if mine is not None and reference is not None:
                largest = max(float(w.abs().max()) for w in reference.values())
                gaps.append(max(float((mine[k] - reference[k]).abs().max()) for k in reference) / largest)
        if both:
            lines.append(f"{where}: {name} gives the same raw-instruction answer as {other} on {same}/"
                         f"{len(both) * len(test_ids)} test records (seeds {both}, where both runs finished).")
        if gaps:
            lines.append(f"{where}: {name}'s adapter differs from {other}'s by at most {max(gaps):.1%} of {other}'s "
                         f"largest adapter weight (the largest over seeds).")
    return lines


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
    main()
