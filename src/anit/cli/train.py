"""``anit train`` and ``anit export``: fine-tune with LoRA/QLoRA by a method, and merge an adapter."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from anit.cli.options import command_from
from anit.config import load_config
from anit.errors import AnitError, DataError
from anit.training.config import TrainConfig


@command_from(TrainConfig)
def train(cfg: TrainConfig) -> None:
    """Fine-tune a causal LM with LoRA on instruction records by a registered method: it, noisy_it, neftune, fgm,
    anit (NRM) or your own (plugins)."""
    if not Path(cfg.data).exists():
        raise DataError(cfg.data, None, "file not found")
    from anit.training.run import latest_checkpoint, train as run

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


def export(adapter: Optional[Path] = typer.Option(None, help="Trained adapter folder (from `anit train`)."),
           out: Path = typer.Option(..., help="Folder for the model (safetensors, with its tokenizer)."),
           model: Optional[str] = typer.Option(None, help="Without --adapter: the base model to write (a preset "
                                                          "such as smollm2-135m), e.g. for a server to apply "
                                                          "adapters to."),
           merge: bool = typer.Option(True, "--merge/--no-merge", help="Merge the LoRA weights into the base.")
           ) -> None:
    """Write the base model with the adapter merged in (or, with --model and no --adapter, the base alone) as
    safetensors with its tokenizer: a folder vLLM, SGLang or transformers load as it is."""
    from anit.models import load_model, load_tokenizer

    if adapter is None:
        if not model:
            raise AnitError("export: give --adapter (a trained adapter to merge) or --model (a base to write)")
        load_model(model, "float32").save_pretrained(str(out), safe_serialization=True)
        load_tokenizer(model).save_pretrained(str(out))
        typer.echo(f"wrote {model} to {out}")
        return
    from anit.evaluation.run import with_adapter

    if not (adapter / "anit_config.yaml").exists():
        raise AnitError(f"--adapter {adapter}: no anit_config.yaml; give the output_dir of `anit train`")
    cfg = load_config(TrainConfig, adapter / "anit_config.yaml")
    base = load_model(model or cfg.model, "float32", None, cfg.trust_remote_code)
    with_adapter(base, adapter, merge).save_pretrained(str(out), safe_serialization=True)
    load_tokenizer(str(adapter)).save_pretrained(str(out))
    typer.echo(f"wrote {'merged ' if merge else ''}model to {out}")
