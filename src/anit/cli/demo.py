"""``anit demo``: the main job, end to end on the embedded default model (SmolLM2-135M-Instruct, CPU).

prepare SST-2 -> noisy instructions and distortion -> train ``it`` and ``anit`` -> attack zero-shot, it and anit on
dev for each one's own worst instructions (``anit attack``, choice scoring) -> evaluate each by generation on test
under the raw instruction, noisy ones, each of the six held-out ones and its worst ones -> report, and an aligned
table in the terminal. Each stage is skipped on a rerun when its inputs and settings are unchanged, and says how
long it took when it ran.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import typer

from anit.cli.options import command_from
from anit.config import option
from anit.data import default_data_dir
from anit.data.prepare import prepare
from anit.jsonl import read_jsonl, write_jsonl
from anit.plugins import Pluggable
from anit.stages import stage

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "sample_data"
NOISES = ("random_replace:0.3", "truncate_random:0.3", "char_typo:0.3", "synonym_replace:0.3")


def aligned(rows: list[list[str]]) -> str:
    """A table for a terminal: every column as wide as its widest cell, header included."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths)] + lines[1:])


@dataclass
class DemoConfig(Pluggable):
    out: str = option("runs/demo", "Working folder (stages are cached here).", path=True)
    data_dir: Optional[str] = option(None, "Datasets folder (default: $ANIT_DATA_DIR or ../shared/data; a bundled "
                                           "sample when absent).", path=True)
    model: str = option("smollm2-135m", "Model preset, id or path.", path=True)
    tiny: bool = option(False, "A few examples and steps: a smoke run for CI.")
    steps: int = option(30, "Training steps per method.", min=1)
    seed: int = option(3407, "Seed of sampling, noise and training.")


@command_from(DemoConfig)
def demo(cfg: DemoConfig) -> None:
    """Run the whole ANIT pipeline on a small budget and print the results table and the report path."""
    from anit.evaluation.attack import attack_model
    from anit.evaluation.config import AttackConfig
    from anit.evaluation.run import EvalOptions, evaluate, with_adapter
    from anit.models import gpu_map, load_model, load_tokenizer
    from anit.noise.build import build_noisy
    from anit.noise.rewrite import Rewriter
    from anit.report.build import collect, glance_for_terminal, write_report
    from anit.report.tables import datasets_of, summary_table
    from anit.training.config import TrainConfig
    from anit.training.run import train

    out, model, seed = Path(cfg.out), cfg.model, cfg.seed
    root = Path(cfg.data_dir) if cfg.data_dir else default_data_dir()
    if not (root / "sst2" / "train.tsv").exists():
        typer.echo(f"no SST-2 under {root}; using the bundled sample")
        root = SAMPLE
    sizes = ({"train": 16, "dev": 8, "test": 8, "steps": 2, "budget": 4, "rewrites": 0} if cfg.tiny else
             {"train": 120, "dev": 32, "test": 48, "steps": cfg.steps, "budget": 24, "rewrites": 2})
    datasets = ["sst2"]
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for split in ("train", "dev", "test"):
        path = out / f"{split}.prepared.jsonl"

        def prepare_split(path: Path = path, split: str = split) -> None:
            records = []
            for name in datasets:
                records += prepare(name, split, sizes[split], seed, data_dir=root)[0]
            write_jsonl(path, records)

        stage(path, {"root": root, "datasets": datasets, "size": sizes[split], "seed": seed}, prepare_split,
              f"prepare {split}", typer.echo)
        if split == "dev":          # the attacks search plain dev records: a candidate is the instruction itself
            files[split] = path
            continue
        noisy = out / f"{split}.noisy.jsonl"

        def build(src: Path = path, dst: Path = noisy) -> None:
            write_jsonl(dst, build_noisy(read_jsonl(src), NOISES, seed, ("hard", "soft")))

        stage(noisy, {"in": path.read_text(), "noises": NOISES, "seed": seed}, build, f"noise {split}", typer.echo)
        files[split] = noisy
    for method in ("it", "anit"):
        run_dir = out / "train" / method
        cfg = TrainConfig(model=model, method=method, data=str(files["train"]), output_dir=str(run_dir),
                          max_steps=sizes["steps"], batch_size=4, lr=2e-4, max_length=256, seed=seed,
                          report_to=["none"], save_steps=max(sizes["steps"], 1), logging_steps=1)
        stage(run_dir / "train_summary.json", {"cfg": vars(cfg), "data": files["train"].read_text()},
              lambda cfg=cfg: train(cfg), f"train {method}", typer.echo)
    tokenizer, rewriter = load_tokenizer(model), Rewriter(cache_path=out / "rewrites.json", k=sizes["rewrites"],
                                                         seed=seed)
    base = functools.cache(lambda: load_model(model, device_map=gpu_map()))

    @functools.lru_cache(maxsize=1)         # one model at a time, loaded where its attack or evaluation runs
    def net(adapter: Path | None) -> Any:
        return with_adapter(copy.deepcopy(base()), adapter) if adapter else base()

    dev, test = read_jsonl(files["dev"]), read_jsonl(files["test"])
    for method in ("zero-shot", "it", "anit"):
        adapter = None if method == "zero-shot" else out / "train" / method
        trained = (adapter / "train_summary.json").read_text() if adapter else None
        attack = out / "attack" / method
        settings = AttackConfig(data=str(files["dev"]), budget=sizes["budget"], top_k=2, rewrites=sizes["rewrites"],
                                scoring="choice", seed=seed, out=str(attack))
        stage(attack / "worst.yaml", {"dev": files["dev"].read_text(), "adapter": trained, "cfg": vars(settings)},
              lambda settings=settings, adapter=adapter: attack_model(net(adapter), tokenizer, dev, config=settings,
                                                                     name=model, rewriter=rewriter),
              f"attack {method} (its worst instructions on dev)", typer.echo)
        result, worst = out / "eval" / method, attack / "worst.yaml"
        stage(result / "metrics.json", {"test": files["test"].read_text(), "adapter": trained,
                                        "worst": worst.read_text()},
              lambda result=result, worst=worst, adapter=adapter: evaluate(
                  net(adapter), tokenizer, test, ["raw", "noisy", "unseen-pool", str(worst)], result,
                  EvalOptions(batch_size=8)),
              f"evaluate {method}", typer.echo)
    report = write_report([out / "eval", out / "train"], out / "report", baseline="it")
    results = collect([out / "eval"])[0]
    for dataset in datasets_of(results):
        table = aligned(summary_table(results, dataset))
        typer.echo(f"\n{dataset} (accuracy by generation; PDR = 1 - worst/raw)\n{table}")
    glance = glance_for_terminal(report)
    if glance:
        typer.echo("\n" + glance)
    typer.echo(f"\nreport: {report} (and report.html beside it)\nworst: each model under its own worst "
               f"instructions, found by `anit attack` on {sizes['dev']} dev records ({sizes['budget']} candidates). "
               f"The demo trains SST-2 only: at its budget of {sizes['steps']} steps an extraction task (CoNLL-2003) "
               "scores F1 0 for every method, which shows nothing; `python -m bench.robustness` trains the "
               "four-dataset mixture longer, on three seeds.")
