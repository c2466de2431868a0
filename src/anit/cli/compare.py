"""``anit compare``: train every method on every seed, attack and score each, and report each against the baseline
of its own seed (:mod:`anit.compare`)."""

from __future__ import annotations

import typer

from anit.cli.options import command_from
from anit.compare import CompareConfig


@command_from(CompareConfig)
def compare(cfg: CompareConfig) -> None:
    """Is a method more robust than the baseline on your data? Trains each method per seed, attacks each model on dev
    for its own worst instructions, scores it on test (raw, noisy, held-out, its worst) and reports each against
    the baseline of its seed, paired on the same records; done stages are kept, a rerun continues."""
    from anit.compare import compare as run

    report = run(cfg, typer.echo)
    text = report.read_text(encoding="utf-8")
    glance = text.split("\n## At a glance", 1)[1].split("\n## ", 1)[0] if "\n## At a glance" in text else ""
    table = [line for line in glance.splitlines() if line.startswith("|")]
    short = [line[2:].replace("**", "") for line in glance.splitlines() if line.startswith("- **")]
    if table:
        typer.echo("\nAt a glance" + glance.splitlines()[0] + "\n" + "\n".join(short + table))
    typer.echo(f"\nreport: {report} (and report.html beside it)")
