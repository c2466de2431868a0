"""``anit eval``, ``anit attack`` and ``anit report``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

from anit.cli.options import command_from
from anit.config import option
from anit.errors import AnitError
from anit.evaluation.config import AttackConfig, EvalConfig, open_model
from anit.plugins import Pluggable
from anit.records import EVALUATION, read_records


@command_from(EvalConfig)
def eval_(cfg: EvalConfig) -> None:
    """Generate answers (or rank options), parse and score them per instruction condition, with paired gaps to
    raw, their bootstrap intervals and the spread over each family of instructions."""
    from anit.evaluation.run import (EvalOptions, check_scoring, condition_pairs, evaluate, limit_records,
                                     searched_on, transfers)

    records = limit_records(read_records(cfg.data, EVALUATION), cfg.limit)
    check_scoring([r for r, _ in condition_pairs(records, cfg.instructions, cfg.data)], cfg.scoring)
    model, tokenizer, style, name = open_model(cfg, typer.echo)
    transfer = transfers(cfg.instructions, name, cfg.adapter)
    for stem, found in transfer.items():
        typer.echo(f"note: {stem}: these instructions were searched on {searched_on(found)}, not on this model: the "
                   "transfer setting (metrics.json says so under 'transfer')")
    summary = evaluate(model, tokenizer, records, cfg.instructions, Path(cfg.out),
                       EvalOptions(cfg.batch_size, cfg.max_new_tokens, cfg.scoring, cfg.sample, cfg.temperature,
                                   cfg.seed, style), transfer=transfer)
    for condition, per_dataset in summary["conditions"].items():
        for dataset, metrics in per_dataset.items():
            shown = {k: round(v, 4) for k, v in metrics.items() if k in ("accuracy", "macro_f1", "f1", "unparseable")}
            gap = summary["gaps"].get(dataset, {}).get(condition)
            interval = f"\tgap {gap['gap']:+.3f} [{gap['low']:+.3f}, {gap['high']:+.3f}]" if gap else ""
            typer.echo(f"{condition}\t{dataset}\t{shown}{interval}")
    for family, per_dataset in summary["sensitivity"].items():
        for dataset, s in per_dataset.items():
            worst = (f"{s['pdr_worst']:.3f}" if s["pdr_worst"] is not None
                     else "- (raw not scored: add --instructions raw)" if s["raw"] is None
                     else "- (raw scores 0 on its records)")
            n = s["instructions"]
            typer.echo(f"{family}\t{dataset}\t{n} instruction{'s' * (n != 1)}: mean {s['mean']:.3f} ± {s['std']:.3f}"
                       f", worst {s['worst']:.3f}, PDR of the worst {worst}")
    typer.echo(f"results in {cfg.out}")


@command_from(AttackConfig)
def attack(cfg: AttackConfig) -> None:
    """Search the instructions that lower the dev score most (noise types at several rates and seeds, model
    rewrites, the held-out pool, your file, and compositions), within a budget of candidate evaluations per task.
    Writes worst.yaml, which `anit eval --instructions` takes to score test under the worst ones."""
    from anit.evaluation.attack import attack_model, check_reuse
    from anit.evaluation.run import check_scoring, instruction_file, limit_records

    records = limit_records(read_records(cfg.data, EVALUATION), cfg.limit)
    check_scoring(records, cfg.scoring)
    user = instruction_file(Path(cfg.instructions), {r["task"] for r in records}) if cfg.instructions else {}
    check_reuse(cfg, records)
    model, tokenizer, style, name = open_model(cfg, typer.echo)
    report = attack_model(model, tokenizer, records, config=cfg, name=name, style=style, user=user)
    for task, result in report["tasks"].items():
        typer.echo(f"{task}: raw dev score {result['raw_dev_score']:.3f} on {result['dev_records']} records; "
                   f"{result['evaluated']} candidates ({result['stopped_early']} stopped early"
                   + (f", {result['evaluated'] - result['newly_scored']} scored before"
                      if result["newly_scored"] < result["evaluated"] else "")
                   + f") in {result['seconds']:.0f} s")
        if result["raw_instructions"] > 1:
            typer.echo(f"  note: the {task} records carry {result['raw_instructions']} different instructions; the "
                       f"attack perturbed the most common one: {result['raw_instruction']}")
        if result["own"]:
            typer.echo(f"  your instructions: {result['own_scored']} of {result['own']} scored first"
                       + ("" if result["own_scored"] == result["own"] else f" (--budget {cfg.budget} ran out)"))
        if cfg.max_distortion is not None:
            typer.echo(f"  {result['outside_bound']} candidates beyond distortion {cfg.max_distortion:g} were not "
                       "scored")
        if result["at_floor"]:
            typer.echo(f"  the worst {cfg.top_k} score 0, the lowest possible, so the search stopped after "
                       f"{result['evaluated']} of {cfg.budget} candidates")
        if not result["raw_dev_score"]:
            typer.echo("  note: the raw instruction scores 0 on dev, so no candidate can score lower and this ranking "
                       "finds no worst case (use more dev records, or a model that scores above 0); PDR is undefined")
        elif result["ranked"] and result["ranked"][0]["dev_score"] >= result["raw_dev_score"]:
            typer.echo("  note: no candidate scored below the raw instruction on dev; the worst listed are the "
                       "lowest found (a larger --budget or more dev records may find lower ones)")
        for row in result["ranked"][:cfg.top_k]:
            pdr = "-" if row["pdr"] is None else f"{row['pdr']:.3f}"
            typer.echo(f"  {row['dev_score']:.3f}  PDR {pdr}  [{row['origin']}]  {row['instruction']}")
    typer.echo(f"worst instructions in {Path(cfg.out) / 'worst.yaml'}")


@dataclass
class ReportConfig(Pluggable):
    results: list[str] = option([], "Result folders (searched recursively for metrics.json).", path=True,
                                argument=True)
    out: str = option("report", "Report folder.", path=True)
    baseline: Optional[str] = option(None, "A method as the tables name it (e.g. it, or seed0/it): every other one "
                                           "is compared with it, paired on the same records (raw and worst-case PDR "
                                           "differences). With one folder per seed (seed0/it, seed1/it), the "
                                           "method's folder name (it) compares each method with the baseline of its "
                                           "own seed, averaged over seeds.")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.results:
            raise AnitError("report: give at least one result folder (anit report results/ --out report/)")


@command_from(ReportConfig)
def report(cfg: ReportConfig) -> None:
    """Write report.md and report.html: methods x conditions per dataset, gaps, score by distortion, plots."""
    from anit.report.build import write_report

    typer.echo(f"report: {write_report([Path(r) for r in cfg.results], Path(cfg.out), cfg.baseline)}")
