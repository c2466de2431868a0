"""The ``anit`` command: ``data``, ``noise``, ``train``, ``eval``, ``report``, ``export`` and ``demo``."""

from __future__ import annotations

import sys

import typer

from anit.errors import AnitError

app = typer.Typer(help="Adversarial Noisy Instruction Tuning: noisy instructions, distortion scores, "
                       "NRM training and robust evaluation.", no_args_is_help=True, add_completion=False)


def _register() -> None:
    from anit.cli import data, demo, evaluate, noise, train

    app.add_typer(data.app, name="data")
    app.add_typer(noise.app, name="noise")
    app.command("train")(train.train)
    app.command("export")(train.export)
    app.command("eval")(evaluate.eval_)
    app.command("report")(evaluate.report)
    app.command("demo")(demo.demo)


_register()


def main() -> None:
    """Entry point: user errors print one line and exit 2; internal bugs keep their traceback."""
    try:
        app(standalone_mode=False)
    except AnitError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except Exception as err:
        import click

        if isinstance(err, click.ClickException):
            err.show()
            sys.exit(err.exit_code)
        raise
