"""``anit eval`` and ``anit report``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from anit.config import load_config
from anit.evaluation.run import EvalOptions, eval_precision, evaluate, load_for_eval
from anit.jsonl import read_jsonl
from anit.models import DEFAULT_MODEL
from anit.training.config import TrainConfig


def eval_(
    model: Optional[str] = typer.Option(None, help="Base model: preset, id or path (default: the adapter's "
                                                   "training model, else smollm2-135m)."),
    adapter: Optional[str] = typer.Option(None, help="Trained adapter folder (omit for zero-shot)."),
    data: Path = typer.Option(..., help="Test records (prepared or noisy JSONL)."),
    instructions: list[str] = typer.Option(["raw"], help="raw, noisy, unseen or a YAML/JSON file (repeatable)."),
    limit: Optional[int] = typer.Option(None, help="Evaluate the first N records."),
    out: Path = typer.Option(Path("results"), help="Output folder."),
    batch_size: int = typer.Option(8, help="Generation batch size."),
    max_new_tokens: Optional[int] = typer.Option(None, help="Default: fitted to each task."),
    scoring: str = typer.Option("generate", help="generate, or choice (rank tc labels by log-likelihood)."),
    sample: bool = typer.Option(False, "--sample", help="Sample instead of greedy decoding."),
    temperature: float = typer.Option(1.0, help="Sampling temperature."),
    seed: int = typer.Option(0, help="Sampling seed."),
    prompt_style: Optional[str] = typer.Option(None, help="auto, chat or plain (default: the adapter's, else auto)."),
    dtype: Optional[str] = typer.Option(None, help="auto, float32, bfloat16 or float16 (default: the adapter's, "
                                                   "else auto)."),
    quantization: Optional[str] = typer.Option(None, help="4bit, 8bit or none (default: the adapter's; QLoRA "
                                                          "adapters are scored on the same quantised base)."),
) -> None:
    """Generate answers, parse them with the task's parser and score them, per instruction condition."""
    import torch

    records = read_jsonl(data, ("id", "task", "dataset", "instruction", "question", "format", "options", "input",
                                "gold"))
    if limit is not None:
        records = records[:limit]
    trained = load_config(TrainConfig, Path(adapter) / "anit_config.yaml") if adapter and \
        (Path(adapter) / "anit_config.yaml").exists() else None
    model = model or (trained.model if trained else DEFAULT_MODEL)
    prompt_style = prompt_style or (trained.prompt_style if trained else "auto")
    dtype, quantization, note = eval_precision(trained, dtype, quantization, torch.cuda.is_available())
    if note:
        typer.echo(f"note: {note}")
    model_obj, tokenizer = load_for_eval(model, adapter, dtype=dtype, quantization=quantization)
    summary = evaluate(model_obj, tokenizer, records, instructions, out,
                       EvalOptions(batch_size, max_new_tokens, scoring, sample, temperature, seed, prompt_style))
    for condition, per_dataset in summary["conditions"].items():
        for dataset, metrics in per_dataset.items():
            shown = {k: round(v, 4) for k, v in metrics.items() if k in ("accuracy", "macro_f1", "f1", "unparseable")}
            typer.echo(f"{condition}\t{dataset}\t{shown}")
    typer.echo(f"results in {out}")


def report(dirs: list[Path] = typer.Argument(..., help="Result folders (searched recursively for metrics.json)."),
           out: Path = typer.Option(Path("report"), help="Report folder.")) -> None:
    """Write report.md and report.html: methods x conditions per dataset, gaps, score by distortion, plots."""
    from anit.report.build import write_report

    typer.echo(f"report: {write_report(dirs, out)}")
