"""``anit demo``: the main job, end to end on the embedded default model (SmolLM2-135M-Instruct, CPU).

prepare SST-2 (and CoNLL-2003 when the shared data is there) -> noisy instructions and distortion ->
train ``it`` and ``anit`` -> evaluate zero-shot, it and anit under raw, noisy and unseen instructions ->
report. Each stage is skipped on a rerun when its inputs and settings are unchanged.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable

import typer

from anit.data import DATASETS, default_data_dir, load_examples
from anit.data.prepare import sample, to_record
from anit.jsonl import read_jsonl, write_jsonl

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "sample_data"
NOISES = ("random_replace:0.3", "truncate_random:0.3", "char_typo:0.3", "synonym_replace:0.3")


def _stage(out: Path, key: dict[str, Any], run: Callable[[], None], label: str) -> None:
    stamp = out.with_name(out.name + ".stamp")
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
    if out.exists() and stamp.exists() and stamp.read_text() == digest:
        typer.echo(f"[cached] {label}")
        return
    typer.echo(f"[run] {label}")
    run()
    stamp.write_text(digest)


def demo(out: Path = typer.Option(Path("runs/demo"), help="Working folder (stages are cached here)."),
         data_dir: Path = typer.Option(None, help="Datasets folder (default: $ANIT_DATA_DIR or ../shared/data; "
                                                  "a bundled sample when absent)."),
         model: str = typer.Option("smollm2-135m", help="Model preset, id or path."),
         tiny: bool = typer.Option(False, "--tiny", help="A few examples and steps: a smoke run for CI."),
         steps: int = typer.Option(30, help="Training steps per method."),
         seed: int = typer.Option(3407, help="Seed of sampling, noise and training.")) -> None:
    """Run the whole ANIT pipeline on a small budget and print the results table and the report path."""
    from anit.distortion import resolve_scorers
    from anit.evaluation.run import EvalOptions, evaluate
    from anit.models import gpu_map, load_model, load_tokenizer
    from anit.noise.build import NoiseSpec, noise_records, score_records
    from anit.report.build import collect, tables, write_report
    from anit.training.config import TrainConfig
    from anit.training.run import train

    root = data_dir or default_data_dir()
    if not (root / "sst2" / "train.tsv").exists():
        typer.echo(f"no SST-2 under {root}; using the bundled sample")
        root = SAMPLE
    sizes = {"train": 16, "test": 8, "steps": 2} if tiny else {"train": 120, "test": 48, "steps": steps}
    datasets = ["sst2"] + (["conll2003"] if not tiny and (root / "conll2003").exists() else [])
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for split in ("train", "test"):
        path = out / f"{split}.prepared.jsonl"

        def prepare(path: Path = path, split: str = split) -> None:
            records = []
            for name in datasets:
                spec = DATASETS.get(name)
                examples, _ = load_examples(name, split, data_dir=root)
                limit = sizes[split] if name == "sst2" else sizes[split] // 3
                records += [to_record(e, spec) for e in sample(examples, limit, seed)]
            write_jsonl(path, records)

        _stage(path, {"root": root, "datasets": datasets, "sizes": sizes, "seed": seed}, prepare, f"prepare {split}")
        noisy = out / f"{split}.noisy.jsonl"

        def build(src: Path = path, dst: Path = noisy) -> None:
            records = noise_records(read_jsonl(src), [NoiseSpec.parse(n) for n in NOISES], "per-example", "fixed", seed)
            score_records(records, resolve_scorers(["hard", "soft"]))
            write_jsonl(dst, records)

        _stage(noisy, {"in": path.read_text(), "noises": NOISES, "seed": seed}, build, f"noise {split}")
        files[split] = noisy
    for method in ("it", "anit"):
        run_dir = out / "train" / method
        cfg = TrainConfig(model=model, method=method, data=str(files["train"]), output_dir=str(run_dir),
                          max_steps=sizes["steps"], batch_size=4, lr=2e-4, max_length=256, seed=seed,
                          report_to=["none"], save_steps=max(sizes["steps"], 1), logging_steps=1)
        _stage(run_dir / "train_summary.json", {"cfg": vars(cfg), "data": files["train"].read_text()},
               lambda cfg=cfg: train(cfg), f"train {method}")
    tokenizer, base = load_tokenizer(model), None
    records = read_jsonl(files["test"])
    for method in ("zero-shot", "it", "anit"):
        result = out / "eval" / method
        adapter = None if method == "zero-shot" else out / "train" / method

        def run_eval(result: Path = result, adapter: Path | None = adapter) -> None:
            nonlocal base
            from peft import PeftModel

            base = base if base is not None else load_model(model, device_map=gpu_map())
            net = PeftModel.from_pretrained(base, str(adapter)) if adapter else base
            evaluate(net, tokenizer, records, ["raw", "noisy", "unseen"], result, EvalOptions(batch_size=8))
            base = net.unload() if adapter else base

        key = {"test": files["test"].read_text(), "adapter": (adapter / "train_summary.json").read_text()
               if adapter else None}
        _stage(result / "metrics.json", key, run_eval, f"evaluate {method}")
    report = write_report([out / "eval", out / "train"], out / "report")
    for dataset, rows in tables(collect([out / "eval"])[0]).items():
        typer.echo(f"\n{dataset}")
        for row in rows:
            typer.echo("  ".join(cell.ljust(12) for cell in row))
    typer.echo(f"\nreport: {report}")
