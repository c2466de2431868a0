"""``anit train`` and ``anit export``: fine-tune with LoRA/QLoRA by a method, and merge an adapter."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

from anit.cli.options import command_from
from anit.config import option
from anit.errors import AnitError, DataError
from anit.evaluation.config import trained_with
from anit.plugins import Pluggable
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


@dataclass
class ExportConfig(Pluggable):
    adapter: Optional[str] = option(None, "Trained adapter folder (from `anit train`).", path=True)
    out: Optional[str] = option(None, "Folder for the model (safetensors, with its tokenizer).", path=True)
    model: Optional[str] = option(None, "The base model (default: the adapter's). Without --adapter: the base to "
                                        "write (a preset such as smollm2-135m), e.g. for a server to apply adapters "
                                        "to.", path=True)
    merge: bool = option(True, "Merge the LoRA weights into the base.")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.out:
            raise AnitError("export: give --out, the folder to write the model to")
        if self.adapter is None and not self.model:
            raise AnitError("export: give --adapter (a trained adapter to merge) or --model (a base to write)")
        self.trained = trained_with(self.adapter) if self.adapter is not None else None
        if self.adapter is not None and self.trained is None and not self.model:
            raise AnitError(f"--adapter {self.adapter}: no anit_config.yaml says its base model; give --model")


@command_from(ExportConfig)
def export(cfg: ExportConfig) -> None:
    """Write the base model with the adapter merged in (or, with --model and no --adapter, the base alone) as
    safetensors with its tokenizer: a folder vLLM, SGLang or transformers load as it is."""
    from anit.models import load_model, load_tokenizer

    if cfg.adapter is None:
        load_model(cfg.model, "float32").save_pretrained(cfg.out, safe_serialization=True)
        load_tokenizer(cfg.model).save_pretrained(cfg.out)
        typer.echo(f"wrote {cfg.model} to {cfg.out}")
        return
    from anit.evaluation.run import with_adapter

    name = cfg.model or cfg.trained.model
    base = load_model(name, "float32", None, bool(cfg.trained and cfg.trained.trust_remote_code))
    with_adapter(base, cfg.adapter, cfg.merge).save_pretrained(cfg.out, safe_serialization=True)
    saved = (Path(cfg.adapter) / "tokenizer_config.json").exists()     # anit saves it; other tools may not
    load_tokenizer(cfg.adapter if saved else name).save_pretrained(cfg.out)
    typer.echo(f"wrote {'merged ' if cfg.merge else ''}model to {cfg.out}")
