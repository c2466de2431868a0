"""The ``anit`` command: ``data``, ``noise``, ``train``, ``eval``, ``attack``, ``report``, ``compare``, ``export``,
``demo`` and ``list``."""

from __future__ import annotations

import sys

import typer

from anit.errors import AnitError

app = typer.Typer(help="Adversarial Noisy Instruction Tuning: noisy instructions, distortion scores, "
                       "NRM training and robust evaluation.", no_args_is_help=True, add_completion=False)


STACK = ("torch", "transformers", "peft", "accelerate")
"""The packages `anit --version` names beside anit's own (what a bug report needs)."""


def versions() -> str:
    """``anit 0.1.0 (Python 3.11.7; torch 2.13.0+cpu, ...)``: anit's version and the stack it runs on, as installed
    (a package not installed is left out)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from anit import __version__

    found = []
    for name in STACK:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    return f"anit {__version__} (Python {platform.python_version()}; {', '.join(found)})"


def _show_version(asked: bool) -> None:
    if asked:
        typer.echo(versions())
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                       help="Print anit's version and the stack it runs on, then exit.")) -> None:
    """Adversarial Noisy Instruction Tuning: noisy instructions, distortion scores, NRM training and robust
    evaluation."""


def _register() -> None:
    from anit.cli import compare, data, demo, evaluate, listing, noise, train

    app.add_typer(data.app, name="data")
    app.add_typer(noise.app, name="noise")
    app.command("train")(train.train)
    app.command("export")(train.export)
    app.command("eval")(evaluate.eval_)
    app.command("attack")(evaluate.attack)
    app.command("report")(evaluate.report)
    app.command("compare")(compare.compare)
    app.command("demo")(demo.demo)
    app.command("list")(listing.list_)


_register()


INTERRUPTED = 130
KNOWN_WARNINGS = (
    (FutureWarning, r"`is_gradient_checkpointing` is deprecated", r"transformers\.modeling_utils"),
    (FutureWarning, r"`gradient_checkpointing_enable` is deprecated", r"transformers\.modeling_utils"),
    (UserWarning, r"Could not find a config file in .* will assume that the vocabulary was not modified",
     r"peft\.utils\.save_and_load"),
)
"""Harmless warnings transformers and peft raise on every run with the embedded model (peft asks transformers for a
renamed method; the GGUF model folder holds no config.json): each silenced at its source module, nothing else."""


def quiet_known_warnings() -> None:
    import warnings

    for category, message, module in KNOWN_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)


def main() -> None:
    """Entry point: user errors print one line and exit 2; Ctrl-C exits 130 with one line; internal bugs keep their
    traceback. (Run without standalone mode, typer turns Ctrl-C into a returned 130, not an exception.)"""
    quiet_known_warnings()
    try:
        code = app(standalone_mode=False)
    except AnitError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        code = INTERRUPTED
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except Exception as err:
        usage_errors = tuple(cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "ClickException")
        if isinstance(err, usage_errors):
            err.show()
            sys.exit(err.exit_code)
        raise
    if code == INTERRUPTED:
        print("interrupted", file=sys.stderr)
    if isinstance(code, int) and code:
        sys.exit(code)
