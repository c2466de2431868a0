"""``anit data list|stats|prepare``: the registered datasets, their split sizes, and instruction records."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

from anit.config import load_config, option
from anit.data import DATASETS, default_data_dir, load_examples
from anit.data.base import split_path
from anit.data.prepare import sample, to_record
from anit.jsonl import write_jsonl

app = typer.Typer(help="Datasets: list them, count their splits, and prepare instruction records.",
                  no_args_is_help=True)

DATA_DIR_HELP = "Folder holding the datasets (default: $ANIT_DATA_DIR, else ../shared/data beside the checkout)."


@dataclass
class PrepareConfig:
    dataset: str = option("sst2", "Registered dataset name (see `anit data list`).")
    split: str = option("train", "Split to read: train, dev or test.")
    limit: Optional[int] = option(None, "Keep this many examples, drawn with --seed (default: all).", min=0)
    seed: int = option(3407, "Seed of the --limit draw.")
    data_dir: Optional[str] = option(None, DATA_DIR_HELP)
    path: Optional[str] = option(None, "Read this file instead of the split's file under --data-dir.")
    source: str = option("files", "Where to read from: local files, or the Hugging Face hub.", choices=("files", "hf"))
    skip_bad: bool = option(False, "Skip and count malformed records instead of stopping at the first.")
    out: str = option("prepared.jsonl", "Output JSONL file.")

    def __post_init__(self) -> None:
        DATASETS.get(self.dataset)


def _data_dir(value: Optional[Path]) -> Path:
    return value if value is not None else default_data_dir()


@app.command("list")
def list_(data_dir: Optional[Path] = typer.Option(None, help=DATA_DIR_HELP)) -> None:
    """Print each registered dataset: name, task, splits (absent ones marked), description."""
    root = _data_dir(data_dir)
    for name in DATASETS:
        spec = DATASETS.get(name)
        splits = " ".join(s if split_path(spec, s, root).exists() else f"{s}(absent)" for s in spec.files)
        typer.echo(f"{name}\ttask={spec.task}\tsplits={splits}\t{spec.description}")


@app.command()
def stats(data_dir: Optional[Path] = typer.Option(None, help=DATA_DIR_HELP),
          dataset: Optional[list[str]] = typer.Option(None, help="Only these datasets (repeat the option).")) -> None:
    """Print the number of examples of every split found (sentences for NER and SciERC, rows elsewhere)."""
    root = _data_dir(data_dir)
    for name in dataset or DATASETS.names():
        spec = DATASETS.get(name)
        for split in spec.files:
            if not split_path(spec, split, root).exists():
                typer.echo(f"{name}\t{split}\tabsent")
                continue
            examples, _ = load_examples(name, split, data_dir=root)
            typer.echo(f"{name}\t{split}\t{len(examples)}")


@app.command()
def prepare(
    dataset: Optional[str] = typer.Option(None, help="Registered dataset name (see `anit data list`)."),
    split: Optional[str] = typer.Option(None, help="Split: train, dev or test."),
    limit: Optional[int] = typer.Option(None, help="Keep N examples drawn with --seed, in file order."),
    seed: Optional[int] = typer.Option(None, help="Seed of the --limit draw (default 3407)."),
    data_dir: Optional[str] = typer.Option(None, help=DATA_DIR_HELP),
    path: Optional[str] = typer.Option(None, help="Read this file instead of the split's file."),
    source: Optional[str] = typer.Option(None, help="files (default) or hf (Hugging Face hub; needs network)."),
    skip_bad: Optional[bool] = typer.Option(None, "--skip-bad", help="Skip and count malformed records."),
    out: Optional[str] = typer.Option(None, help="Output JSONL (written atomically)."),
    config: Optional[Path] = typer.Option(None, help="YAML file of these fields; options given here override it."),
) -> None:
    """Write one instruction record per example: id, dataset, task, instruction, question, format,
    options, input, output (the gold answer string) and gold (the gold structure)."""
    cfg = load_config(PrepareConfig, config, dict(dataset=dataset, split=split, limit=limit, seed=seed,
                                                  data_dir=data_dir, path=path, source=source,
                                                  skip_bad=skip_bad, out=out))
    spec = DATASETS.get(cfg.dataset)
    examples, bad = load_examples(cfg.dataset, cfg.split, data_dir=cfg.data_dir, path=cfg.path,
                                  skip_bad=cfg.skip_bad, source=cfg.source)
    chosen = sample(examples, cfg.limit, cfg.seed)
    count = write_jsonl(cfg.out, (to_record(example, spec) for example in chosen))
    typer.echo(f"wrote {count} records to {cfg.out}")
    if cfg.skip_bad:
        typer.echo(f"skipped {bad.count} bad record(s)" + (f"; first: {bad.first}" if bad.first else ""))
