"""``anit compare``: is a method more robust than the baseline on *your* data? Every method is trained once per seed,
each trained model is attacked on dev for its own worst instructions (and, with ``near``, its worst close to the
raw wording), scored on test under raw, noisy, held-out and those worst instructions, and compared with the
baseline of its own seed (``anit report --baseline``), paired on the same records.

    out/seed<s>/<method>/adapter      the adapter (``anit train``)
    out/seed<s>/<method>/attack       its attack on dev (``anit attack``; worst.yaml), and near/ with ``near``
    out/seed<s>/<method>/worst-of-<baseline>.yaml   with ``transfer``: the baseline's worst, scored on this model too
    out/results/seed<s>/<method>      its evaluation on test (``anit eval``)
    out/report                        report.md and report.html, opening with the answer
    out/data                          with ``noise``: the train and test records noised here

Every setting is checked and every file read before any model loads. Each stage is kept once done and skipped on
a rerun with the same settings (:mod:`anit.stages`); a training run stopped midway resumes from its latest
checkpoint, an attack from its candidate cache. ``jobs`` runs several at once, each in a worker process on a GPU of
its own where there are GPUs (:mod:`anit.parallel`); the rewrites their attacks draw are written before they start,
so every worker reads the same ones.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from anit.config import load_config, option
from anit.errors import AnitError, DataError
from anit.noise.build import NoiseSpec
from anit.plugins import Pluggable
from anit.training.config import known_method


CHECKPOINTS = 6
"""Checkpoints a run saves where its train config's save_steps would save none before the run ends (500 by default,
as in transformers, against a few hundred steps; a run by epochs counted in steps on one process): a comparison
stopped midway resumes each run from its last."""


@dataclass
class CompareConfig(Pluggable):
    train: str = option("train.jsonl", "Training records; noisy ones (`anit noise build`, or --noise) for every "
                                       "method but it.", path=True)
    dev: str = option("dev.jsonl", "Dev records each trained model is attacked on (never the test records).", path=True)
    test: str = option("test.jsonl", "Test records every model is scored on.", path=True)
    methods: list[str] = option(["it", "anit"], "Training methods (see `anit train --help`); the first is the "
                                                "baseline every other one is compared with.", check=known_method)
    seeds: list[int] = option([0, 1, 2], "Training seeds: every method trains once per seed and is compared with "
                                         "the baseline trained on the same seed.")
    model: str = option("smollm2-135m", "Base model: preset, Hugging Face id or path.", path=True)
    train_config: Optional[str] = option(None, "A YAML of `anit train`'s fields shared by every run (lr, lora_*, "
                                               "nrm_*, max_steps, ...); model, method, data, seed and output_dir "
                                               "are set here.", path=True)
    max_steps: Optional[int] = option(None, "Training steps per run (default: the train config's).", min=1)
    budget: int = option(100, "Attack: candidate instructions scored per task on dev.", min=1)
    attack_scoring: str = option("generate", "Attack: generate, or choice (label tasks only: faster).",
                                 choices=("generate", "choice"))
    rewrites: int = option(8, "Attack: model-written paraphrases and opposites per task instruction (0: none).",
                           min=0)
    rewrite_model: str = option("smollm2-135m", "Attack: the model that writes the paraphrases and opposites.",
                                path=True)
    top_k: int = option(3, "Attack: worst instructions per task each model is scored under on test.", min=1)
    near: Optional[float] = option(None, "Also each model's worst within this hard distortion of the raw "
                                         "instruction (a second, bounded attack, e.g. 0.35: typos and a few words).",
                                   min=0.0, max=1.0)
    transfer: bool = option(False, "Also score every model under the baseline's worst instructions of its seed "
                                   "(searched on the baseline, not on the model scored): do the instructions that "
                                   "hurt the baseline most hurt the others as much? (family worst-of-<baseline>)")
    instructions: list[str] = option(["raw", "noisy", "unseen-pool"], "Test conditions besides each model's own "
                                                                      "worst instructions (as `anit eval`'s).",
                                                                      path=True)
    noise: list[str] = option([], "Noise (TYPE:RATE, as `anit noise build --noise`; repeat it) giving every train "
                                  "and test record without a noisy instruction one, a type drawn per record, "
                                  "scored by the distortion the methods read; written to out/data/. Without it, "
                                  "train (for every method but it) and test (for the noisy condition) must hold "
                                  "noisy ones.", check=NoiseSpec.parse)
    noise_seed: int = option(3407, "Seed of --noise: the same noisy records for every method and training seed.")
    scoring: str = option("generate", "Test scoring: generate (the paper's protocol) or choice.",
                          choices=("generate", "choice"))
    batch_size: int = option(8, "Records per forward pass.", min=1)
    jobs: int = option(1, "Runs at once, each in a process of its own with cores/jobs CPU threads and, where there "
                          "are GPUs, a GPU of its own (round robin over those visible).", min=1)
    out: str = option("runs/compare", "Working folder: a folder per seed and method, results/ and report/.", path=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.methods or len(set(self.methods)) != len(self.methods):
            raise AnitError(f"methods: {self.methods}; give two or more different ones, the baseline first")
        if len(self.methods) < 2:
            raise AnitError(f"methods: only {self.methods[0]}; name the baseline and at least one method to compare")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise AnitError(f"seeds: {self.seeds}; give one or more different seeds")


@dataclass
class Plan:
    """What a comparison runs, checked: the dev and test records, the digests of their files (what a stage's key
    names them by) and each run's training config."""

    dev: list[dict[str, Any]]
    test: list[dict[str, Any]]
    runs: dict[tuple[int, str], Any]
    digests: dict[str, str]


def run_folder(cfg: CompareConfig, seed: int, method: str) -> Path:
    return Path(cfg.out) / f"seed{seed}" / method


def plan(cfg: CompareConfig, say: Callable[[str], None] = print) -> Plan:
    """Every check that needs no model: the files and their records, the methods, each run's training config, the
    scoring of dev and test, and the test conditions; with ``noise``, the train and test records noised first (a
    model-written type loads the rewriter, after every other setting is checked)."""
    from dataclasses import replace

    from anit.evaluation.run import check_scoring, condition_pairs
    from anit.records import EVALUATION, NO_NOISY, TRAINING, read_records
    from anit.stages import file_digest
    from anit.training.config import TrainConfig
    from anit.training.run import load_records

    records = read_records(cfg.train, TRAINING)
    dev, test = read_records(cfg.dev, EVALUATION), read_records(cfg.test, EVALUATION)
    check_scoring(dev, cfg.attack_scoring)
    check_scoring(test, cfg.scoring)
    runs = {}
    for seed in cfg.seeds:
        for method in cfg.methods:
            fields = {"model": cfg.model, "method": method, "data": cfg.train, "seed": seed,
                      "output_dir": str(run_folder(cfg, seed, method) / "adapter")}
            if cfg.max_steps:
                fields["max_steps"] = cfg.max_steps
            run = load_config(TrainConfig, cfg.train_config, fields)
            steps = run.planned_steps(len(records))
            if steps <= run.save_steps:     # no checkpoint before its end: a stopped run would restart
                run = replace(run, save_steps=max(1, steps // CHECKPOINTS))
            runs[(seed, method)] = run
    test_path = cfg.test
    if cfg.noise:
        scorers = sorted({run.distortion_key for run in runs.values()})
        records, train_path = noised(cfg, records, "train", scorers, say)
        test, test_path = noised(cfg, test, "test", scorers, say)
        runs = {key: replace(run, data=train_path) for key, run in runs.items()}
    hint = "; or give --noise TYPE:RATE and compare noises them"
    condition_pairs(test, cfg.instructions, test_path, hint)
    for run in runs.values():
        try:
            load_records(run, records)     # what the method needs of them: noisy ones, a distortion
        except DataError as err:
            raise DataError(err.path, err.line, err.problem + (hint if err.problem == NO_NOISY else "")) from None
    return Plan(dev, test, runs, {"dev": file_digest(cfg.dev), "test": file_digest(test_path)})


def noised(cfg: CompareConfig, records: list[dict[str, Any]], split: str, scorers: list[str],
           say: Callable[[str], None]) -> tuple[list[dict[str, Any]], str]:
    """``records`` where each without a noisy instruction has one (``cfg.noise``, a type drawn per record, seeded
    by ``noise_seed``), scored by ``scorers``, and the file they are written to: ``out/data/<split>.jsonl``, the
    same bytes on a rerun, so the stages done on them are kept."""
    from anit.jsonl import write_jsonl
    from anit.noise.build import build_noisy

    path = Path(cfg.out) / "data" / f"{split}.jsonl"
    bare = sum("noisy_instruction" not in r for r in records)
    noisy = build_noisy(records, cfg.noise, cfg.noise_seed, scorers, rewriter=rewriter_of(cfg, for_noise=True))
    write_jsonl(path, noisy)
    say(f"noise: {bare} of {len(records)} {split} records noised ({', '.join(cfg.noise)}; distortion "
        f"{', '.join(scorers)}) -> {path}")
    return noisy, str(path)


def train_run(train_cfg: Any, say: Callable[[str], None], label: str) -> bool:
    """Train one run unless it is done with these settings; resume it where a stopped run with the same settings
    left a checkpoint; start it afresh where the folder holds a run with other settings. Returns whether it
    trained."""
    from dataclasses import replace

    from anit.stages import digest, file_digest, stage
    from anit.training.run import latest_checkpoint, train

    out = Path(train_cfg.output_dir)
    key = {"config": vars(train_cfg), "data": file_digest(train_cfg.data)}
    started = out / "started.stamp"

    def run() -> None:
        again = started.exists() and started.read_text() == digest(key) and latest_checkpoint(out) is not None
        if not again and out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True, exist_ok=True)
        started.write_text(digest(key))
        train(replace(train_cfg, resume=again))

    return stage(out / "train_summary.json", key, run, label, say)


def compare(cfg: CompareConfig, say: Callable[[str], None] = print) -> Path:
    """Run the comparison (:func:`plan` first), writing the report after every run (a stopped comparison leaves
    one of the runs it finished); returns report.md's path. With ``jobs`` above 1 the runs go to worker processes,
    each on a GPU of its own where there are GPUs (:mod:`anit.parallel`); they print what they do themselves."""
    from anit.parallel import run_all

    checked = plan(cfg, say)
    if cfg.jobs > 1 and len(checked.runs) > 1:
        say(f"{len(checked.runs)} runs, {cfg.jobs} at a time")
        if cfg.rewrites:
            from anit.evaluation.attack import rewrite_ahead
            from anit.evaluation.config import FAMILIES

            rewrite_ahead(checked.dev, rewriter_of(cfg), FAMILIES)      # one set of rewrites for every worker
        # the transfer needs the baseline's attack of the run's seed: where it is not there yet, a second wave
        late = [(seed, method) for seed, method in checked.runs if cfg.transfer and method != cfg.methods[0]
                and not borrowed(cfg, seed).exists()]
        for wave in ({run: run not in late for run in checked.runs}, dict.fromkeys(late, True)):
            if wave:
                run_all({f"{method}, seed {seed}": (one_run, (cfg, checked, seed, method, None, transfer))
                         for (seed, method), transfer in wave.items()}, cfg.jobs, ended=lambda label: report(cfg))
    else:
        for seed, method in checked.runs:
            one_run(cfg, checked, seed, method, say)
            report(cfg)                                   # so far, if stopped
    return report(cfg)


def report(cfg: CompareConfig) -> Path:
    """The report of the runs scored so far, against the baseline once one of its runs is scored (in parallel, another
    method may end first); returns report.md's path."""
    from anit.report.build import write_report

    out = Path(cfg.out)
    ended = any((out / "results" / f"seed{seed}" / cfg.methods[0] / "metrics.json").exists() for seed in cfg.seeds)
    return write_report([out / "results"], out / "report", baseline=cfg.methods[0] if ended else None)


def rewriter_of(cfg: CompareConfig, for_noise: bool = False) -> Any:
    """The rewriter every attack of the comparison draws paraphrases and opposites from, cached in ``out`` (the one
    ``noise`` writes its model-written types with ``for_noise``: with its default rewrites where the attacks take
    none)."""
    from anit.noise.rewrite import Rewriter

    k = cfg.rewrites or (Rewriter.k if for_noise else 0)
    return Rewriter(cfg.rewrite_model, cache_path=Path(cfg.out) / "rewrites.json", k=k)


def borrowed(cfg: CompareConfig, seed: int) -> Path:
    """The baseline's worst instructions on ``seed``, which ``transfer`` scores every model of that seed under."""
    return run_folder(cfg, seed, cfg.methods[0]) / "worst.yaml"


def one_run(cfg: CompareConfig, checked: Plan, seed: int, method: str,
            say: Optional[Callable[[str], None]] = None, transfer: bool = True) -> None:
    """Train one method on one seed, then attack and score it (what is done with these settings is kept); with
    ``cfg.transfer`` and ``transfer`` also under the baseline's worst instructions of its seed, which must be there."""
    from anit.plugins import load_plugins

    load_plugins(cfg.plugins)             # in a worker process, the methods and tasks they register
    say, out = say or print, Path(cfg.out)
    rewriter = rewriter_of(cfg) if cfg.rewrites else None
    train_cfg = checked.runs[(seed, method)]
    label, folder = f"{method}, seed {seed}", run_folder(cfg, seed, method)
    result = out / "results" / f"seed{seed}" / method
    if train_run(train_cfg, say, f"train {label}"):
        for stale in (folder / "attack", folder / "near", result):    # what the adapter trained before found
            shutil.rmtree(stale, ignore_errors=True)
    score_run(cfg, checked, folder, train_cfg, result, rewriter, say, label,
              borrowed(cfg, seed) if cfg.transfer and transfer else None)


def score_run(cfg: CompareConfig, checked: Plan, folder: Path, train_cfg: Any, result: Path, rewriter: Any,
              say: Callable[[str], None], label: str, transfer: Optional[Path] = None) -> None:
    """Attack one trained model on dev (and within ``near``), then score it on test under the conditions, its own
    worst instructions and the ``transfer`` file's (the baseline's, copied as ``worst-of-<baseline>.yaml``); the
    model loads once, and only for a stage that runs."""
    import functools

    from anit.evaluation.attack import attack_model
    from anit.evaluation.config import AttackConfig, ModelOptions, open_model
    from anit.evaluation.run import EvalOptions, evaluate, transfers
    from anit.stages import stage

    adapter = (Path(train_cfg.output_dir) / "train_summary.json").read_text()
    model = functools.cache(lambda: open_model(ModelOptions(adapter=train_cfg.output_dir, batch_size=cfg.batch_size),
                                               say))
    worst = {"worst": folder / "attack" / "worst.yaml"}
    if cfg.near is not None:
        worst["near"] = folder / "near" / "worst.yaml"
    for case, found in worst.items():
        attack = AttackConfig(adapter=train_cfg.output_dir, data=cfg.dev, budget=cfg.budget, scoring=cfg.attack_scoring,
                              rewrites=cfg.rewrites, top_k=cfg.top_k, rewrite_model=cfg.rewrite_model,
                              seed=train_cfg.seed, batch_size=cfg.batch_size,
                              max_distortion=cfg.near if case == "near" else None,
                              reuse=str(folder / "attack") if case == "near" else None, out=str(found.parent))

        def search(attack: AttackConfig = attack) -> None:
            net, tokenizer, style, name = model()
            attack_model(net, tokenizer, checked.dev, config=attack, name=name, style=style, rewriter=rewriter)

        stage(found, {"attack": vars(attack), "adapter": adapter, **checked.digests}, search,
              f"attack {label}" + (f" within distortion {cfg.near:g}" if case == "near" else ""), say)
        shutil.copyfile(found, folder / f"{case}.yaml")      # its stem names the conditions: worst-tc-0, near-tc-0
    if transfer is not None:
        worst[f"worst-of-{cfg.methods[0]}"] = transfer
        shutil.copyfile(transfer, folder / f"worst-of-{cfg.methods[0]}.yaml")
    which = list(cfg.instructions) + [str(folder / f"{case}.yaml") for case in worst]

    settings = {"scoring": cfg.scoring, "adapter": adapter, **checked.digests}

    def score() -> None:
        held = result / "settings.json"
        if result.exists() and (not held.exists() or json.loads(held.read_text()) != settings):
            shutil.rmtree(result)       # predictions of other data or scoring: none of them is kept
        result.mkdir(parents=True, exist_ok=True)
        held.write_text(json.dumps(settings))
        net, tokenizer, style, name = model()
        evaluate(net, tokenizer, checked.test, which, result,       # reuse: what a stopped or earlier one scored
                 EvalOptions(cfg.batch_size, None, cfg.scoring, seed=train_cfg.seed, prompt_style=style), reuse=True,
                 transfer=transfers(which, name, train_cfg.output_dir))

    stage(result / "metrics.json", {"which": which, "worst": [p.read_text() for p in worst.values()], **settings},
          score, f"evaluate {label}", say)
