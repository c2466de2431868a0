"""One small generic registry: what users extend (noise types, scorers, datasets, tasks) lives in one.

Example::

    NOISES = Registry("noise type")

    @NOISES.register("shout")
    def shout(instruction, rate, rng): ...

    NOISES.get("shout")  # the function; an unknown name lists the known ones
"""

from __future__ import annotations

import difflib
from typing import Callable, Generic, Iterable, Iterator, TypeVar

from anit.errors import AnitError

T = TypeVar("T")


def did_you_mean(name: object, known: Iterable[object]) -> str:
    """``; did you mean 'x'?`` with the known value closest to ``name`` (the same but for case first), or ""."""
    known = [str(k) for k in known]
    close = ([k for k in known if k.lower() == str(name).lower()]
             or difflib.get_close_matches(str(name), known, n=1))
    return f"; did you mean {close[0]!r}?" if close else ""


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            self.add(name, obj)
            return obj

        return decorator

    def add(self, name: str, obj: T) -> None:
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = obj

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise AnitError(self.unknown(name)) from None

    def unknown(self, name: str) -> str:
        """What is said of a ``name`` not registered: the known names, the closest one, and how to add your own."""
        known = ", ".join(sorted(self._items)) or "(none)"
        return (f"unknown {self.kind} {name!r}; known: {known}{did_you_mean(name, self._items)} (your own: name the "
                "module that registers it with --plugins)")

    def names(self) -> list[str]:
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)
