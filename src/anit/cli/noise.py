"""``anit noise list|build|show``: noise the instructions of prepared records and score their distortion."""

from __future__ import annotations

import random
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

from anit.cli.options import PLUGINS, command_from
from anit.config import option
from anit.distortion import DEFAULTS, SCORERS, resolve_scorers
from anit.jsonl import write_jsonl
from anit.noise import NOISES
from anit.noise.build import NoiseSpec, format_summary, noise_records, score_records, summary
from anit.noise.rewrite import Rewriter
from anit.plugins import Pluggable, load_plugins
from anit.records import NOISE, read_records

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
def list_(plugins: Optional[list[str]] = PLUGINS) -> None:
    """Print every registered noise type and distortion scorer, one per line, name first."""
    load_plugins(plugins or [])
    for name in NOISES:
        typer.echo(f"{name}\tnoise\t{NOISES.get(name).description}")
    for name in SCORERS:
        scorer = SCORERS.get(name)
        default = f" (default {scorer.family})" if DEFAULTS.get(scorer.family) == name else ""
        typer.echo(f"{name}\tscorer:{scorer.family}{default}\t{scorer.description}")


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


@app.command()
def show(input_: Path = typer.Option(..., "--in", help="Noisy records (JSONL)."),
         n: int = typer.Option(5, help="How many pairs to show."),
         seed: int = typer.Option(0, help="Seed of the sample."),
         width: int = typer.Option(60, help="Column width.")) -> None:
    """Print a few raw/noisy instruction pairs side by side with their scores."""
    if n < 1:
        raise typer.BadParameter(f"{n}: show at least 1 pair", param_hint="--n")
    records = [r for r in read_records(input_, NOISE) if "noisy_instruction" in r]
    for record in random.Random(seed).sample(records, min(n, len(records))):
        left = textwrap.wrap(record["instruction"], width) or [""]
        right = textwrap.wrap(record["noisy_instruction"], width) or [""]
        scores = ", ".join(f"{k}={v:.3f}" for k, v in record.get("distortion", {}).items())
        typer.echo(f"[{record['noise_type']}:{record['noise_rate']}] {scores}")
        for i in range(max(len(left), len(right))):
            a = left[i] if i < len(left) else ""
            b = right[i] if i < len(right) else ""
            typer.echo(f"  {a.ljust(width)} | {b}")
        typer.echo("")
