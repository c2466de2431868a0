"""``anit list``: every name a command looks up in a registry (datasets, tasks, noise types, distortion scorers,
training methods), your own from ``--plugins`` among them. One line per name, tab-separated, kind first::

    method	anit	uses=noisy,distortion,adversarial	The Noise Response Method: ...

``anit data list`` and ``anit noise list`` print their kinds' lines without the kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

import typer

from anit.cli.options import command_from
from anit.config import option
from anit.plugins import Pluggable

DATA_DIR_HELP = "Folder holding the datasets (default: $ANIT_DATA_DIR, else ../shared/data beside the checkout)."


def _datasets(data_dir: Optional[str]) -> Iterator[str]:
    from anit.data import DATASETS
    from anit.data.base import data_root, split_path
    from anit.errors import DataError

    try:
        root = data_root(data_dir)
    except DataError as missing:
        typer.echo(f"note: {missing}; every split is marked absent", err=True)
        root = Path(missing.path)
    for name in DATASETS:
        spec = DATASETS.get(name)
        splits = " ".join(s if split_path(spec, s, root).exists() else f"{s}(absent)" for s in spec.files)
        yield f"{name}\ttask={spec.task}\tsplits={splits}\t{spec.description}"


def _tasks(data_dir: Optional[str]) -> Iterator[str]:
    from anit.tasks import TASKS

    for name in TASKS:
        task = TASKS.get(name)
        yield f"{name}\tmetric={task.primary}\tinstructions={len(task.instructions)}\t{task.question}"


def _noises(data_dir: Optional[str]) -> Iterator[str]:
    from anit.noise import NOISES

    for name in NOISES:
        noise = NOISES.get(name)
        yield f"{name}\tnoise:{'model' if noise.batched else 'rule'}\t{noise.description}"


def _scorers(data_dir: Optional[str]) -> Iterator[str]:
    from anit.distortion import DEFAULTS, SCORERS

    for name in SCORERS:
        scorer = SCORERS.get(name)
        default = f" (default {scorer.family})" if DEFAULTS.get(scorer.family) == name else ""
        yield f"{name}\tscorer:{scorer.family}{default}\t{scorer.description}"


def _methods(data_dir: Optional[str]) -> Iterator[str]:
    from anit.training.methods import METHODS

    for name in METHODS:
        method = METHODS.get(name)
        uses = [word for word, used in (("noisy", method.noisy), ("distortion", method.needs_distortion),
                                        ("hook", method.hook is not None), ("adversarial", method.beta is not None))
                if used]
        yield f"{name}\tuses={','.join(uses) or 'raw'}\t{method.description}"


KINDS: dict[str, tuple[str, Callable[[Optional[str]], Iterator[str]]]] = {
    "datasets": ("dataset", _datasets),
    "tasks": ("task", _tasks),
    "noises": ("noise", _noises),
    "scorers": ("scorer", _scorers),
    "methods": ("method", _methods),
}
"""Each kind `anit list` takes: the word its lines start with, and its lines (given the data folder)."""


def lines(kind: str, data_dir: Optional[str] = None) -> Iterator[str]:
    """The lines of one kind (see KINDS), without the kind."""
    return KINDS[kind][1](data_dir)


@dataclass
class ListConfig(Pluggable):
    kinds: list[str] = option([], f"What to list: {', '.join(KINDS)} (default: all of them).", argument=True,
                              choices=tuple(KINDS))
    data_dir: Optional[str] = option(None, DATA_DIR_HELP, path=True)


@command_from(ListConfig)
def list_(cfg: ListConfig) -> None:
    """Print every registered dataset, task, noise type, distortion scorer and training method (yours from
    --plugins too), one per line: kind, name, what it uses or holds, description."""
    for kind in cfg.kinds or KINDS:
        word = KINDS[kind][0]
        for line in lines(kind, cfg.data_dir):
            typer.echo(f"{word}\t{line}")
