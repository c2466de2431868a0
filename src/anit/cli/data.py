"""``anit data list|stats|prepare``: the registered datasets, their split sizes, and instruction records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import typer

from anit.cli.listing import DATA_DIR_HELP, lines
from anit.cli.options import command_from
from anit.config import option
from anit.data import DATASETS, load_examples
from anit.data.base import data_root, split_path
from anit.data.prepare import mixture, prepare as prepare_records
from anit.errors import AnitError
from anit.jsonl import write_jsonl
from anit.plugins import Pluggable

app = typer.Typer(help="Datasets: list them, count their splits, and prepare instruction records.",
                  no_args_is_help=True)


@dataclass
class PrepareConfig(Pluggable):
    dataset: list[str] = option(["sst2"], "Registered dataset name(s) (see `anit data list`); several make a "
                                          "multi-task mixture.", check=DATASETS.get)
    split: str = option("train", "Split to read: train, dev or test.")
    limit: Optional[int] = option(None, "Keep this many examples, drawn with --seed (default: all).", min=1)
    limit_per_dataset: Optional[int] = option(None, "In a mixture, this many examples of each dataset (balanced), "
                                                    "drawn with --seed (default: all of each).", min=1)
    seed: int = option(3407, "Seed of the --limit draw.")
    data_dir: Optional[str] = option(None, DATA_DIR_HELP, path=True)
    path: Optional[str] = option(None, "Read this file instead of the split's file under --data-dir.", path=True)
    source: str = option("files", "Where to read from: local files, or the Hugging Face hub.", choices=("files", "hf"))
    skip_bad: bool = option(False, "Skip and count malformed records instead of stopping at the first.")
    out: str = option("prepared.jsonl", "Output JSONL file.", path=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(set(self.dataset)) != len(self.dataset):
            raise AnitError("field 'dataset': a dataset is named twice")
        if len(self.dataset) > 1 and self.path:
            raise AnitError("field 'path': reads one dataset's file; a mixture reads each dataset from --data-dir")


@dataclass
class DataListConfig(Pluggable):
    data_dir: Optional[str] = option(None, DATA_DIR_HELP, path=True)


@app.command("list")
@command_from(DataListConfig)
def list_(cfg: DataListConfig) -> None:
    """Print each registered dataset: name, task, splits (absent ones marked), description."""
    for line in lines("datasets", cfg.data_dir):
        typer.echo(line)


@dataclass
class StatsConfig(Pluggable):
    dataset: list[str] = option([], "Only these datasets (repeatable; default: all).", check=DATASETS.get)
    data_dir: Optional[str] = option(None, DATA_DIR_HELP, path=True)


@app.command()
@command_from(StatsConfig)
def stats(cfg: StatsConfig) -> None:
    """Print the number of examples of every split found (sentences for NER and SciERC, rows elsewhere)."""
    root = data_root(cfg.data_dir)
    for name in cfg.dataset or DATASETS.names():
        spec = DATASETS.get(name)
        for split in spec.files:
            if not split_path(spec, split, root).exists():
                typer.echo(f"{name}\t{split}\tabsent")
                continue
            examples, _ = load_examples(name, split, data_dir=root)
            typer.echo(f"{name}\t{split}\t{len(examples)}")


@app.command()
@command_from(PrepareConfig)
def prepare(cfg: PrepareConfig) -> None:
    """Write one instruction record per example: id, dataset, task, instruction, question, format,
    options, input, output (the gold answer string) and gold (the gold structure). Several --dataset make one
    balanced, shuffled multi-task file (--limit-per-dataset of each)."""
    mixed = len(cfg.dataset) > 1
    each = cfg.limit_per_dataset or (None if mixed else cfg.limit)
    parts = []
    for name in cfg.dataset:
        part, bad = prepare_records(name, cfg.split, each, cfg.seed, data_dir=cfg.data_dir, path=cfg.path,
                                    skip_bad=cfg.skip_bad, source=cfg.source)
        parts.append(part)
        if cfg.skip_bad:
            typer.echo(f"{name}: skipped {bad.count} bad record(s)" + (f"; first: {bad.first}" if bad.first else ""))
    records = mixture(parts, cfg.seed) if mixed else parts[0]
    if mixed and cfg.limit is not None:
        records = records[:cfg.limit]
    count = write_jsonl(cfg.out, records)
    sizes = ", ".join(f"{name} {len(part)}" for name, part in zip(cfg.dataset, parts))
    typer.echo(f"wrote {count} records to {cfg.out}" + (f" ({sizes})" if mixed else ""))
