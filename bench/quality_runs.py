"""The quality benchmark's runs: methods and their knobs, run names and folders, the data each run sees, and what
a finished run left (scores, wall times, answers). ``quality.py`` runs them, ``quality_analysis.py`` judges them."""

from __future__ import annotations

import argparse
import collections
import json
import re
import statistics
from pathlib import Path
from typing import Any, Iterable

from bench.common import command, machine

from anit.data import DATASETS, load_examples
from anit.data.prepare import sample, to_record
from anit.jsonl import read_jsonl, write_jsonl
from anit.models import resolve_dtype
from anit.noise.build import build_noisy
from anit.tasks import TASKS
from anit.training.config import TASK_NOISE_RATES, TrainConfig

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


NRM_GRID = [{}, {"nrm_alpha": 0.3}, {"nrm_alpha": 0.1, "nrm_beta_min": 2.0, "nrm_beta_max": 10.0}]


WIDE = {"nrm_alpha": 0.1, "nrm_beta_min": 0.0, "nrm_beta_max": 150.0}
"""anit-wide's one candidate (``EXPERIMENTS`` says why)."""


NOISY_D = 0.3
"""About the word-edit distortion of a noisy instruction under ``NOISES`` (each at rate 0.3)."""


WIDE_START = WIDE["nrm_beta_min"] + NOISY_D * (WIDE["nrm_beta_max"] - WIDE["nrm_beta_min"])
"""anit-wide's start beta for a noisy instruction; a raw one gets ``nrm_beta_min``."""


FGM_WIDE = {"nrm_alpha": WIDE["nrm_alpha"],
            "fgm_beta": WIDE["nrm_beta_min"] + TASK_NOISE_RATES["tc"] * (WIDE_START - WIDE["nrm_beta_min"])}
"""fgm-wide's one candidate: anit-wide's alpha, and anit-wide's mean beta on a classification task as one global beta
(``EXPERIMENTS`` says why)."""


EXPERIMENTS = {
    "anit-step": "anit-step is anit with nrm_step=beta, an ascent step of alpha * beta(d_i): distortion sets the step "
                 "as well as the uniform start. It is not the method as specified (there the step is alpha for every "
                 "sample); it tests whether a distortion-driven step changes what anit learns.",
    "anit-wide": f"anit-wide is anit with one fixed, untuned candidate: alpha {WIDE['nrm_alpha']:g} and beta(d) from "
                 f"{WIDE['nrm_beta_min']:g} at d = 0 to {WIDE['nrm_beta_max']:g} at d = 1, so a noisy training "
                 f"instruction (word-edit d near {NOISY_D:g} with these noises) starts at beta near "
                 f"{WIDE_START:g}, where "
                 "bench/perturbation.py finds the uniform start alone raising the loss (beta 50: +5.6%), while every "
                 "candidate in anit's tuning grid keeps beta at "
                 f"{max(knobs.get('nrm_beta_max', TrainConfig.nrm_beta_max) for knobs in NRM_GRID):g} or below, which "
                 "moves it by under 1%. It tests whether a distortion response large enough to matter changes what "
                 "anit learns.",
    "fgm-wide": f"fgm-wide is fgm with one fixed, untuned candidate: anit-wide's alpha {FGM_WIDE['nrm_alpha']:g} and "
                f"one global beta {FGM_WIDE['fgm_beta']:g}, anit-wide's mean beta on a classification task (a "
                f"training instruction is noisy with probability {TASK_NOISE_RATES['tc']:g} and then starts near "
                f"{WIDE_START:g}; a raw one at {WIDE['nrm_beta_min']:g}). Both spend about the same perturbation on "
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


def raw_predictions(run_dir: Path) -> list[dict[str, Any]]:
    """``run_dir``'s predictions under raw instructions, read once for both the top answer and the agreements."""
    return read_jsonl(run_dir / "raw.predictions.jsonl")


def top_answer(rows: Iterable[dict[str, Any]]) -> str:
    """The most common ``parsed`` answer of ``rows`` and its share, e.g. ``positive 91%``."""
    answers = collections.Counter(row["parsed"] for row in rows)
    label, count = answers.most_common(1)[0]
    return f"{label} {count / answers.total():.0%}"
