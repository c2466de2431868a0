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
    from anit.report.build import glance_for_terminal

    report = run(cfg, typer.echo)
    glance = glance_for_terminal(report)
    if glance:
        typer.echo("\n" + glance)
    typer.echo(f"\nreport: {report} (and report.html beside it)")
