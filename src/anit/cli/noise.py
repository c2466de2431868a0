"""``anit noise list|build|show``: noise the instructions of prepared records and score their distortion."""

from __future__ import annotations

import random
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

from anit.cli.listing import lines
from anit.cli.options import command_from
from anit.config import option
from anit.distortion import resolve_scorers
from anit.errors import AnitError
from anit.jsonl import write_jsonl
from anit.noise.build import NoiseSpec, format_summary, noise_records, score_records, summary
from anit.noise.rewrite import Rewriter
from anit.plugins import Pluggable
from anit.records import NO_NOISY, NOISE, noise_type_of, read_records

app = typer.Typer(help="Noisy instructions and their semantic distortion.", no_args_is_help=True)


@dataclass
class NoiseConfig(Pluggable):
    input: str = option("prepared.jsonl", "Records: from `anit data prepare`, or your own JSONL (the README's Data).",
                        flag="--in", path=True)
    noise: list[str] = option(["random_replace:0.2"], "Noise types with rates, name:rate (repeatable).",
                              check=NoiseSpec.parse)
    mix: str = option("per-type", "per-type: one noisy copy per type; per-example: one type drawn per record.",
                      choices=("per-type", "per-example"))
    mode: str = option("fixed", "fixed: k = ceil(rate x words); random: k drawn from 1..that.",
                       choices=("fixed", "random"))
    distortion: list[str] = option(["hard"], "Scorers to run: hard, soft, or any registered name (repeatable).",
                                   check=lambda name: resolve_scorers([name]))
    seed: int = option(3407, "Seed: same seed, same noisy instructions, on every machine.")
    out: str = option("noisy.jsonl", "Output JSONL (written atomically).", path=True)
    force: bool = option(False, "Re-noise records that already have a noisy instruction.")
    rewrite_model: str = option("smollm2-135m", "Model that writes paraphrase/opposite noise (preset, id or path).",
                                path=True)
    rewrite_cache: Optional[str] = option(None, "Cache file of model rewrites (default: <out>.rewrites.json).",
                                          path=True)
    rewrites: int = option(8, "Distinct model rewrites per instruction (paraphrase/opposite); each record draws one.",
                           min=1)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.specs = [NoiseSpec.parse(text) for text in self.noise]
        if any(scorer.name == "openai" for scorer in resolve_scorers(self.distortion)):
            from anit.distortion.soft import OpenAIEmbeddings

            OpenAIEmbeddings.from_env()


@app.command("list")
@command_from(Pluggable)
def list_(cfg: Pluggable) -> None:
    """Print every registered noise type and distortion scorer, one per line, name first."""
    for kind in ("noises", "scorers"):
        for line in lines(kind):
            typer.echo(line)


@app.command()
@command_from(NoiseConfig)
def build(cfg: NoiseConfig) -> None:
    """Add noisy_instruction, noise_type, noise_rate and distortion scores to each record, and print a
    per-type summary of the scores."""
    records = read_records(cfg.input, NOISE)
    held = sum("noisy_instruction" in r for r in records)
    if held and not cfg.force:
        typer.echo(f"note: {held} record(s) already hold a noisy instruction and keep it (the --noise asked for is "
                   "not applied to them); --force re-noises them", err=True)
    empty = sum(not r["instruction"].strip() for r in records)
    if empty:
        typer.echo(f"note: {empty} record(s) have an empty instruction; noise leaves them unchanged", err=True)
    cache = Path(cfg.rewrite_cache or f"{cfg.out}.rewrites.json")
    rewriter = Rewriter(cfg.rewrite_model, cache_path=cache, seed=cfg.seed, k=cfg.rewrites)
    noisy = noise_records(records, cfg.specs, cfg.mix, cfg.mode, cfg.seed, cfg.force, rewriter)
    score_records(noisy, resolve_scorers(cfg.distortion))
    count = write_jsonl(cfg.out, noisy)
    typer.echo(format_summary(summary(noisy)))
    for kind, text, reason in rewriter.failures:
        typer.echo(f"{kind}: rejected for {text!r}: {reason}")
    for reason, n in sorted(rewriter.rejections.items()):
        typer.echo(f"model rewrites rejected: {n} x {reason}")
    typer.echo(f"wrote {count} records to {cfg.out}")


@dataclass
class ShowConfig(Pluggable):
    input: str = option("noisy.jsonl", "Noisy records (JSONL, from `anit noise build`).", flag="--in", path=True)
    n: int = option(5, "How many pairs to show.", min=1)
    seed: int = option(0, "Seed of the sample.")
    width: int = option(60, "Column width.", min=10)


@app.command()
@command_from(ShowConfig)
def show(cfg: ShowConfig) -> None:
    """Print a few raw/noisy instruction pairs side by side with their scores."""
    records = [r for r in read_records(cfg.input, NOISE) if "noisy_instruction" in r]
    if not records:
        raise AnitError(f"{cfg.input}: {NO_NOISY}")
    for record in random.Random(cfg.seed).sample(records, min(cfg.n, len(records))):
        left = textwrap.wrap(record["instruction"], cfg.width) or [""]
        right = textwrap.wrap(record["noisy_instruction"], cfg.width) or [""]
        scores = ", ".join(f"{k}={v:.3f}" for k, v in record.get("distortion", {}).items())
        rate = f":{record['noise_rate']}" if "noise_rate" in record else ""
        typer.echo(f"[{noise_type_of(record)}{rate}] {scores}")
        for i in range(max(len(left), len(right))):
            a = left[i] if i < len(left) else ""
            b = right[i] if i < len(right) else ""
            typer.echo(f"  {a.ljust(cfg.width)} | {b}")
        typer.echo("")
