"""``anit train`` and ``anit export``: fine-tune with LoRA/QLoRA by a method, and merge an adapter."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from anit.config import load_config, parse_sets
from anit.errors import DataError
from anit.training.config import TrainConfig


def train(
    model: Optional[str] = typer.Option(None, help="Preset (smollm2-135m, gemma3-270m), Hugging Face id or path."),
    method: Optional[str] = typer.Option(None, help="it, noisy_it, neftune, fgm or anit."),
    data: Optional[str] = typer.Option(None, help="Training records (JSONL from `anit noise build`)."),
    eval_data: Optional[str] = typer.Option(None, help="Records for the eval loss during training."),
    max_steps: Optional[int] = typer.Option(None, help="Optimizer steps (overrides --epochs)."),
    epochs: Optional[float] = typer.Option(None, help="Epochs when --max-steps is not given."),
    output_dir: Optional[str] = typer.Option(None, help="Checkpoints, logs and the final adapter."),
    resume: Optional[bool] = typer.Option(None, "--resume", help="Continue from the latest checkpoint."),
    init_adapter: Optional[str] = typer.Option(None, help="Start from a trained adapter (transfer)."),
    sample_fraction: Optional[float] = typer.Option(None, help="Keep the first fraction of the training data."),
    nrm_variant: Optional[str] = typer.Option(None, help="exact or fast NRM step."),
    quantization: Optional[str] = typer.Option(None, help="4bit or 8bit QLoRA (CUDA only)."),
    seed: Optional[int] = typer.Option(None, help="Seed (default 42)."),
    config: Optional[Path] = typer.Option(None, help="YAML of TrainConfig fields; options here override it."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Any other field: --set lr=2e-4 (repeatable)."),
) -> None:
    """Fine-tune a causal LM with LoRA on instruction records: it, noisy_it, neftune, fgm or anit (NRM)."""
    overrides = dict(model=model, method=method, data=data, eval_data=eval_data, max_steps=max_steps, epochs=epochs,
                     output_dir=output_dir, resume=resume, init_adapter=init_adapter,
                     sample_fraction=sample_fraction, nrm_variant=nrm_variant, quantization=quantization, seed=seed)
    overrides.update(parse_sets(set_))
    cfg = load_config(TrainConfig, config, overrides)
    if not Path(cfg.data).exists():
        raise DataError(cfg.data, None, "file not found")
    from anit.training.run import check_output_dir, latest_checkpoint, train as run

    check_output_dir(cfg)
    try:
        summary = run(cfg)
    except KeyboardInterrupt:
        latest = latest_checkpoint(Path(cfg.output_dir))
        if latest is not None:
            typer.echo(f"interrupted after {latest.name}; the same command with --resume continues from there",
                       err=True)
        raise
    if summary.get("finished_before"):
        typer.echo(f"{cfg.output_dir} already finished {summary['steps']} steps; nothing to resume, nothing changed")
        return
    typer.echo(f"trained {cfg.method} for {summary['steps']} steps (loss {summary['train_loss']:.4f}); "
               f"{summary['shortened_inputs']} inputs shortened; adapter in {cfg.output_dir}")


def export(adapter: Path = typer.Option(..., help="Trained adapter folder (from `anit train`)."),
           out: Path = typer.Option(..., help="Folder for the merged model (safetensors)."),
           merge: bool = typer.Option(True, "--merge/--no-merge", help="Merge the LoRA weights into the base.")
           ) -> None:
    """Write the base model with the adapter merged in, as safetensors, with its tokenizer."""
    from peft import PeftModel

    from anit.models import load_model, load_tokenizer

    cfg = load_config(TrainConfig, adapter / "anit_config.yaml")
    base = load_model(cfg.model, "float32", None, cfg.trust_remote_code)
    model = PeftModel.from_pretrained(base, str(adapter))
    if merge:
        model = model.merge_and_unload()
    model.save_pretrained(str(out), safe_serialization=True)
    load_tokenizer(str(adapter)).save_pretrained(str(out))
    typer.echo(f"wrote {'merged ' if merge else ''}model to {out}")
