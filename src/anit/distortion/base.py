"""Distortion scorers: how far a noisy instruction drifts from its raw one, in [0, 1] (0 = identical).

Each scorer is registered under a name and belongs to a family, ``hard`` (rule-based) or ``soft``
(model-based); ``hard`` and ``soft`` on the command line name each family's default. Add your own::

    @register_scorer("length_ratio", family="hard")
    def length_ratio(raw: str, noisy: str) -> float: ...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from anit.errors import AnitError
from anit.registry import Registry

DEFAULTS = {"hard": "word_edit", "soft": "minilm"}


@dataclass(frozen=True)
class Scorer:
    """``score`` maps lists of raw and noisy texts to scores; pair scorers are wrapped to do so."""

    name: str
    family: str
    score: Callable[[Sequence[str], Sequence[str]], list[float]]
    description: str


SCORERS: Registry[Scorer] = Registry("distortion scorer")


def _summary(fn: Callable) -> str:
    """The first line of a function's docstring, or its name when it has none."""
    lines = (fn.__doc__ or "").strip().splitlines()
    return lines[0] if lines else fn.__name__


def register_scorer(name: str, family: str, description: str = "") -> Callable[[Callable[[str, str], float]], Any]:
    """Register a pure pair function ``(raw, noisy) -> float in [0, 1]``."""

    def decorator(fn: Callable[[str, str], float]) -> Callable[[str, str], float]:
        SCORERS.add(name, Scorer(name, family, lambda raws, noisys: [fn(r, n) for r, n in zip(raws, noisys)],
                                 description or _summary(fn)))
        return fn

    return decorator


def register_batch_scorer(name: str, family: str, description: str = "") -> Callable[[Callable], Any]:
    """Register a pure batch function ``(raws, noisys) -> scores in [0, 1]``, for scorers that vectorise."""

    def decorator(fn: Callable[[Sequence[str], Sequence[str]], list[float]]) -> Callable:
        SCORERS.add(name, Scorer(name, family, fn, description or _summary(fn)))
        return fn

    return decorator


def resolve_scorers(names: Sequence[str]) -> list[Scorer]:
    """Scorers for ``names``, where ``hard`` and ``soft`` stand for each family's default."""
    out: list[Scorer] = []
    for name in names:
        try:
            scorer = SCORERS.get(DEFAULTS.get(name, name))
        except AnitError as err:
            raise AnitError(f"{err}; or {', '.join(DEFAULTS)}: each family's default") from None
        if scorer not in out:
            out.append(scorer)
    if not out:
        raise AnitError("no distortion scorer requested")
    return out
