"""Robustness where it can be seen: multi-task LoRA on four datasets, each trained model attacked on dev for its
worst instructions (any candidate, and "near": within a small edit of the raw wording), then scored on test under
raw, held-out, noisy and both worst-case instructions.

    python -m bench.robustness [--seeds 0 1 2] [--methods it anit ...] [--steps 180] [--name robustness]
        [--work runs/bench-<name>]

Every stage is cached in the work folder and skipped when its output exists (data, adapter, attack, evaluation;
a training resumes from its last checkpoint, an evaluation keeps each prediction it made), so the benchmark can be
stopped and continued; ``--summarise-only``
writes docs/benchmarks/<name>.{json,md} from what the work folder holds. Each finished run is also archived in the
repository, docs/benchmarks/runs/<name>/<run>.json.gz (:mod:`bench.archive`: what the summary reads, no record text,
no adapter), and a work folder takes the archived runs it lacks, so a fresh checkout summarises the benchmark and
continues it where the last one stopped. The folder keeps its protocol (sizes, steps,
budgets) in protocol.json, and a run asking another protocol of it stops with an error instead of mixing the two.
Runs go in order of what they tell: it and anit on every seed first (the verdict), then it at anit's compute on
every seed (the control that can overturn it), then the other methods seed by seed.
Classification is scored twice, by generation (the paper's protocol; an unparseable answer is wrong) and by choice.

``--jobs N`` runs N of the runs at once, each in a worker process (the order above, N at a time): a GPU that one
run of this small model leaves idle fills up, and several GPUs take a worker each (:mod:`anit.parallel`); the page
says how many shared the machine.

The defaults fit a 2-core CPU in one to two hours per method and seed (180 steps; test 128 per classification
dataset, 32 per extraction one; attacks of 24 and 8 candidates); ``--test-tc 256 --test-ext 48 --dev-tc 64
--dev-ext 64 --budget-tc 100`` is the full protocol for a faster machine (64 dev records for extraction too: with 8,
a model whose raw dev F1 is 0 leaves its attack nothing to rank). ``--prepare-only`` writes a work folder's data and
stops, for a machine without ../shared/data. At 60 steps (``--steps 60``, the first protocol) the
models were undertrained: it at 3x the steps scored far higher and showed the worst-case drop that it at 60 did not.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from anit.data import DATASETS, default_data_dir, load_examples
from anit.data.prepare import mixture, sample, to_record
from anit.jsonl import read_jsonl, write_json, write_jsonl
from anit.noise.build import build_noisy
from bench import archive
from bench.common import DOCS, Scorer, in_parallel, machine, run_benchmark
from bench.robustness_page import republish, summarise, this_command
from bench.robustness_report import scored_runs

DATASETS_USED = ("sst2", "ag_news", "conll2003", "aste_14res")
NOISES = ["random_replace:0.3", "truncate_random:0.3", "char_typo:0.3", "synonym_replace:0.3", "pad_unrelated:0.3"]
"""Rule-based noise of the noisy training instructions and of the pooled noisy test condition (one per record)."""
METHODS: dict[str, tuple[dict[str, Any], int]] = {
    "it": ({"method": "it"}, 1), "anit": ({"method": "anit"}, 1), "noisy_it": ({"method": "noisy_it"}, 1),
    "it-matched": ({"method": "it"}, 3), "fgm": ({"method": "fgm"}, 1), "neftune": ({"method": "neftune"}, 1),
    "anit-step": ({"method": "anit", "nrm_step": "beta"}, 1)}
"""Each method's TrainConfig settings and step factor, in the order they run after it and anit: first the controls
that say whether anit's robustness is more than its noisy instructions (noisy_it) or its compute (it-matched: 3x the
steps, exact anit's passes). anit-step is anit whose ascent step, not only its random start, scales with beta(d): on
seed 0 anit and fgm answered 256 of 256 classification test records alike, since beta only scales a random start
that barely moves the loss."""
SHARED = {"batch_size": 4, "lr": 2e-4, "max_length": 256}
CHECKPOINT_STEPS = 30
"""A run saves its adapter and optimizer state every 30 steps (the last two kept, in case it is stopped while saving
one), so a benchmark stopped midway through training resumes there, losing at most 30 steps (a few minutes on a
2-core CPU); saving changes no result (tests/training/test_train.py: a resumed run equals a straight one)."""
ATTACK_NOISES = ["random_replace", "frequent_replace", "rare_replace", "truncate_front", "truncate_shuffle_front",
                 "truncate_rear", "truncate_shuffle_rear", "truncate_random", "truncate_shuffle_random", "pad_front",
                 "pad_rear", "pad_context", "pad_unrelated", "synonym_replace", "antonym_replace", "char_typo"]
"""The rule-based noise types every attack of this benchmark tries, in the order it tries them: pinned, so a noise
type registered later (stress_test, checklist) does not change the candidates of runs resumed after it."""
PROTOCOL = ("steps", "train", "dev_tc", "dev_ext", "test_tc", "test_ext", "budget_tc", "budget_ext", "rewrites",
            "top_k", "near")
"""The arguments that change what a run measures: a work folder holds runs of one setting of them (one it
predates, such as ``near``, is recorded with the value of the run that first asks it)."""
NEAR = 0.35
"""The near worst case's bound on hard (word-edit) distortion from the raw instruction: about a third of its words
edited at most, as PromptBench bounds its attacks (typos, a few words replaced, dropped, shuffled or padded); model
rewrites and the held-out wordings lie beyond it."""
TEST_SEED, DEV_SEED, TRAIN_SEED = 99, 77, 3407


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--steps", type=int, default=180)
    p.add_argument("--train", type=int, default=120, help="Training records per dataset.")
    p.add_argument("--dev-tc", type=int, default=32, help="Dev records per classification dataset.")
    p.add_argument("--dev-ext", type=int, default=8, help="Dev records per extraction dataset.")
    p.add_argument("--test-tc", type=int, default=128)
    p.add_argument("--test-ext", type=int, default=32)
    p.add_argument("--budget-tc", type=int, default=24, help="Attack budget for classification (choice scoring).")
    p.add_argument("--budget-ext", type=int, default=8, help="Attack budget per extraction task (generation).")
    p.add_argument("--rewrites", type=int, default=4, help="Model rewrites per instruction among the candidates.")
    p.add_argument("--top-k", type=int, default=2)
    p.add_argument("--near", type=float, default=NEAR,
                   help="Bound of the near worst case: hard distortion from the raw instruction.")
    p.add_argument("--work", type=Path, default=None, help="The work folder (default: runs/bench-<name>).")
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--name", default="robustness", help="The summary's name: docs/benchmarks/<name>.{json,md}.")
    p.add_argument("--summarise-only", action="store_true")
    p.add_argument("--prepare-only", action="store_true",
                   help="Record the protocol and write the work folder's data, then stop (no model loads): the data "
                        "a machine without ../shared/data runs on, such as a lent GPU (scripts/gpu-bundle.sh).")
    p.add_argument("--jobs", type=int, default=1,
                   help="Runs at once, each in a worker process: fills a GPU that one run of this model leaves idle.")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.work = args.work or Path("runs") / f"bench-{args.name}"
    return args


def is_tc(name: str) -> bool:
    return DATASETS.get(name).task == "tc"


def check_protocol(args: argparse.Namespace) -> None:
    """Record the protocol in a new work folder; in one that has it, stop (one line, before any model loads) when
    this run asks another: its cached data, adapters and attacks would be mixed with the new ones."""
    path = args.work / "protocol.json"
    asked = {key: getattr(args, key) for key in PROTOCOL}
    if not path.exists():
        write_json(path, asked)
        return
    held = json.loads(path.read_text())
    if any(key not in held for key in PROTOCOL):
        held = {key: held.get(key, asked[key]) for key in PROTOCOL}
        write_json(path, held)
    for key in PROTOCOL:
        if held.get(key) != asked[key]:
            flag = "--" + key.replace("_", "-")
            raise SystemExit(f"{path}: field '{key}' is {held.get(key)} there but this run asks {asked[key]}; "
                             f"pass {flag} {held.get(key)} to continue it, or another --work")


def data_paths(work: Path) -> dict[str, Path]:
    return {split: work / "data" / f"{split}.jsonl" for split in ("train", "dev", "test")}


def build_data(args: argparse.Namespace) -> dict[str, Path]:
    """train (mixture with noisy instructions), dev and test (test with one noisy instruction per record)."""
    paths = data_paths(args.work)
    if all(p.exists() for p in paths.values()):
        return paths
    root = args.data_dir or default_data_dir()
    parts: dict[str, list[list[dict]]] = {"train": [], "dev": [], "test": []}
    for name in DATASETS_USED:
        spec = DATASETS.get(name)
        train_pool = load_examples(name, "train", data_dir=root)[0]
        train = sample(train_pool, args.train, TRAIN_SEED)
        taken = {e.id for e in train}
        dev_split = "dev" if "dev" in spec.files and name != "ag_news" else "train"
        dev_pool = [e for e in load_examples(name, dev_split, data_dir=root)[0] if e.id not in taken]
        dev = sample(dev_pool, args.dev_tc if is_tc(name) else args.dev_ext, DEV_SEED)
        test_split = "test" if "test" in spec.files else "dev"
        test = sample(load_examples(name, test_split, data_dir=root)[0], args.test_tc if is_tc(name) else args.test_ext,
                      TEST_SEED)
        for split, examples in (("train", train), ("dev", dev), ("test", test)):
            parts[split].append([to_record(e, spec) for e in examples])
    for split, seed in (("train", TRAIN_SEED), ("dev", DEV_SEED), ("test", TEST_SEED)):
        records = mixture(parts[split], seed)
        write_jsonl(paths[split], records if split == "dev" else build_noisy(records, NOISES, seed))
    return paths


def train_run(args: argparse.Namespace, paths: dict[str, Path], method: str, seed: int) -> Path:
    """Train one run, or resume it from its last checkpoint where a stopped benchmark left one (``anit compare``'s
    rule: the same settings resume, others start afresh). ``wall.json``'s ``train_s`` counts the part that made the
    adapter: this process's, with the training behind its checkpoint."""
    from anit.compare import train_run as train_or_resume
    from anit.training.config import TrainConfig

    folder = args.work / "runs" / f"{method}-{seed}"
    if (folder / "train_summary.json").exists():
        return folder
    knobs, factor = METHODS[method]
    cfg = TrainConfig(model="smollm2-135m", data=str(paths["train"]), output_dir=str(folder), seed=seed,
                      max_steps=args.steps * factor, report_to=["none"], save_steps=CHECKPOINT_STEPS,
                      save_total_limit=2, logging_steps=10, **SHARED, **knobs)
    started = time.perf_counter()
    train_or_resume(cfg, print, f"train {folder.name}")
    summary = json.loads((folder / "train_summary.json").read_text())
    resumed = summary.get("resumed") or {}
    write_json(folder / "wall.json", {"train_s": time.perf_counter() - started + (resumed.get("train_s") or 0),
                                      "steps": summary["steps"], "resumed_at": resumed.get("step", 0)})
    for checkpoint in folder.glob("checkpoint-*"):      # kept for a resume only: the adapter is in the folder
        shutil.rmtree(checkpoint)
    return folder


def batch_size(scoring: str) -> int:
    """Records per forward pass: 16 scored by choice and 8 by generation on a CPU, 4x that on a GPU (one run of
    this small model leaves most of one idle)."""
    import torch

    return (16 if scoring == "choice" else 8) * (4 if torch.cuda.is_available() else 1)


def attack_run(args: argparse.Namespace, paths: dict[str, Path], folder: Path, model: Any, tokenizer: Any,
               bound: float | None = None) -> Path:
    """The model's own worst instructions on dev (choice scoring for classification, generation elsewhere):
    ``worst.yaml``; with ``bound``, ``near.yaml``, the worst within that hard distortion of the raw instruction,
    searched with the same budget and starting from the unbounded search's scored candidates (a candidate's dev
    score does not depend on the bound)."""
    from anit.evaluation.attack import attack_model
    from anit.evaluation.config import AttackConfig
    from anit.noise.rewrite import Rewriter

    name = "worst" if bound is None else "near"
    target = folder / f"{name}.yaml"
    if target.exists():
        return target
    import yaml

    dev = read_jsonl(paths["dev"])
    rewriter = Rewriter(cache_path=args.work / "data" / "rewrites.json", k=args.rewrites) if args.rewrites else None
    merged: dict[str, Any] = {}
    started = time.perf_counter()
    for scoring, budget, records in (("choice", args.budget_tc, [r for r in dev if r["task"] == "tc"]),
                                     ("generate", args.budget_ext, [r for r in dev if r["task"] != "tc"])):
        unbounded = folder / f"attack-{scoring}"
        out = unbounded if bound is None else folder / f"near-{scoring}"
        cfg = AttackConfig(data=str(paths["dev"]), adapter=str(folder), budget=budget, top_k=args.top_k,
                           rewrites=args.rewrites, noises=ATTACK_NOISES, max_distortion=bound, scoring=scoring,
                           batch_size=batch_size(scoring), out=str(out), seed=0,
                           reuse=None if bound is None else str(unbounded))
        attack_model(model, tokenizer, records, config=cfg, name="smollm2-135m", rewriter=rewriter)
        merged.update(yaml.safe_load((out / "worst.yaml").read_text()))
    wall = folder / "attack_wall.json"
    write_json(wall, {**(json.loads(wall.read_text()) if wall.exists() else {}),
                      f"{'attack' if bound is None else 'near'}_s": time.perf_counter() - started})
    target.write_text(yaml.safe_dump(merged, sort_keys=False, allow_unicode=True, width=1000), encoding="utf-8")
    return target


def evaluations(paths: dict[str, Path], folder: Path) -> list[tuple[str, list[dict[str, Any]], list[str]]]:
    """(scoring, test records, instructions) of a run's evaluations: raw, the held-out pool, the pooled noisy set,
    the worst and the near-worst instructions; generation for every dataset, and choice for classification."""
    test = read_jsonl(paths["test"])
    which = ["raw", "unseen-pool", "noisy", str(folder / "worst.yaml"), str(folder / "near.yaml")]
    return [("generate", test, which), ("choice", [r for r in test if r["task"] == "tc"], which)]


def evaluated(folder: Path, scoring: str, records: list[dict[str, Any]], which: list[str]) -> bool:
    """Whether the run's evaluation under ``scoring`` holds every condition of ``which`` (a condition added to the
    protocol later, such as the near worst case, is scored on resuming, the earlier predictions kept)."""
    from anit.evaluation.run import conditions

    path = folder / f"eval-{scoring}" / "metrics.json"
    if not path.exists() or not all(Path(w).exists() for w in which if w.endswith(".yaml")):
        return False
    held = json.loads(path.read_text())["conditions"]
    return all(c in held for w in which for c in conditions(records, w))


def finished(paths: dict[str, Path], folder: Path) -> bool:
    return all(evaluated(folder, scoring, records, which) for scoring, records, which in evaluations(paths, folder))


def eval_run(paths: dict[str, Path], folder: Path, model: Any, tokenizer: Any) -> None:
    """Score test under every condition of :func:`evaluations` that the run's evaluation does not hold yet."""
    from anit.evaluation.run import EvalOptions, evaluate

    for scoring, records, which in evaluations(paths, folder):
        if evaluated(folder, scoring, records, which):
            continue
        out = folder / f"eval-{scoring}"
        started = time.perf_counter()
        evaluate(model, tokenizer, records, which, out, EvalOptions(batch_size(scoring), None, scoring),
                 reuse=True)
        wall = out / "wall.json"
        earlier = json.loads(wall.read_text()).get("eval_s", 0.0) if wall.exists() else 0.0
        write_json(wall, {"eval_s": earlier + time.perf_counter() - started})


TIERS = (("it", "anit"), ("it-matched",))
"""Methods that run on every seed before the next tier: the two the verdict compares, then the control that can
overturn it (it at anit's compute: on seed 0 it scored higher raw and dropped less than anit on 2 of 3 judged
datasets). The other methods follow, seed by seed."""


def run_order(methods: list[str], seeds: list[int]) -> list[tuple[str, int]]:
    tiers = [[m for m in methods if m in tier] for tier in TIERS]
    rest = [m for m in methods if not any(m in tier for tier in TIERS)]
    return [(m, s) for tier in tiers for s in seeds for m in tier] + [(m, s) for s in seeds for m in rest]


def load_stack() -> None:
    """Import now every module the runs import later: a benchmark lasts hours, and a module edited meanwhile (a
    checkout that moves on) would otherwise be imported in its new version beside the old ones already loaded."""
    import peft  # noqa: F401

    import anit.compare  # noqa: F401
    import anit.evaluation.attack  # noqa: F401
    import anit.evaluation.config  # noqa: F401
    import anit.evaluation.run  # noqa: F401
    import anit.noise.rewrite  # noqa: F401
    import anit.training.run  # noqa: F401


def worker_commands(argv: list[str], order: list[tuple[str, int]]) -> list[list[str]]:
    """One worker per run of ``order``: this script's ``argv`` narrowed to that method and seed (the last
    ``--methods`` and ``--seeds`` win)."""
    return [[sys.executable, "-m", "bench.robustness", *argv, "--methods", method, "--seeds", str(seed), "--jobs",
             "1", "--worker"] for method, seed in order]


def archives(name: str) -> Path:
    """Where the runs of the summary ``name`` are archived in the repository (:mod:`bench.archive`)."""
    return DOCS / "benchmarks" / "runs" / name


def restore_runs(args: argparse.Namespace) -> None:
    """Unpack the archived runs of this benchmark that the work folder lacks (a fresh checkout has none)."""
    held = args.work / "protocol.json"
    protocol = json.loads(held.read_text()) if held.exists() else None
    for line in archive.restore(args.work, archives(args.name), protocol):
        print(line, file=sys.stderr)


def archive_run(args: argparse.Namespace, folder: Path) -> None:
    """Pack one finished run into the repository's archive."""
    protocol = json.loads((args.work / "protocol.json").read_text())
    target = archives(args.name) / f"{folder.name}.json.gz"
    archive.stamp(folder, args.work, target)
    archive.pack(folder, target, archive.header(args.work, protocol, folder))
    archive.keep_rewrites(args.work, archives(args.name))


def archive_runs(args: argparse.Namespace, paths: dict[str, Path]) -> None:
    """Pack every finished run this work folder ran (not one it restored): those a benchmark that stopped before
    archiving them finished."""
    for folder in sorted((args.work / "runs").glob("*-*")):
        if folder.is_dir() and not archive.restored(folder) and finished(paths, folder):
            archive_run(args, folder)


def fresh(folder: Path, paths: dict[str, Path]) -> None:
    """Remove a restored run that this protocol would score under more conditions: its archive holds no adapter to
    score them with, so the run starts again."""
    if archive.restored(folder) and not finished(paths, folder):
        print(f"{folder.name}: its archive lacks conditions this protocol scores, and no adapter; running it again",
              file=sys.stderr)
        shutil.rmtree(folder)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.summarise_only:
        restore_runs(args)
        if all(p.exists() for p in data_paths(args.work).values()):
            archive_runs(args, data_paths(args.work))
        page = DOCS / "benchmarks" / f"{args.name}.md"
        if not scored_runs(args.work, "generate"):
            if page.with_suffix(".json").exists():      # runs that predate the archive: their summary is all there is
                republish(args.name)
                print(f"{args.work}: no run scored on test, and {archives(args.name)} holds no archive of one; "
                      f"{page} is rewritten from {page.with_suffix('.json').name}")
                return
            if page.exists():
                raise SystemExit(f"{args.work}: no run scored on test, and {archives(args.name)} holds no archive of "
                                 f"one; {page} is left as it is")
    else:
        load_stack()
        check_protocol(args)
        paths = build_data(args)
        if args.prepare_only:
            print("data in " + ", ".join(str(p) for p in paths.values()))
            return
        if not args.worker:             # the parent of --jobs workers does it for them
            restore_runs(args)
            archive_runs(args, paths)
        order = run_order(args.methods, args.seeds)
        if not args.worker:                 # where and how it ran, kept though a deadline stops it before the summary
            write_json(args.work / "machine.json", {**machine(), "jobs": args.jobs})
            write_json(args.work / "command.json", {"command": this_command(argv)})
        if args.jobs > 1:
            try:
                in_parallel(worker_commands(sys.argv[1:] if argv is None else argv, order), args.jobs)
            finally:
                summarise(args.work, vars(args), args.name)
            return
        scorer = None
        for method, seed in order:
            fresh(args.work / "runs" / f"{method}-{seed}", paths)
            folder = train_run(args, paths, method, seed)
            if finished(paths, folder):
                continue
            scorer = scorer or Scorer()
            model = scorer.model(folder)
            attack_run(args, paths, folder, model, scorer.tokenizer)
            attack_run(args, paths, folder, model, scorer.tokenizer, bound=args.near)
            eval_run(paths, folder, model, scorer.tokenizer)
            archive_run(args, folder)
            if not args.worker:
                summarise(args.work, vars(args), args.name)
    if not args.worker:
        summarise(args.work, vars(args), args.name)


if __name__ == "__main__":
    run_benchmark(main, resumable=True)
