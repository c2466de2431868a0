"""Errors a user can cause: one line naming the file, line and field at fault, and no traceback."""

from __future__ import annotations

from pathlib import Path


class AnitError(Exception):
    """A mistake in the user's input or options; the CLI prints it as one line and exits 2."""


def shown(text: str, limit: int = 200) -> str:
    """``text`` as an error message quotes it: at most ``limit`` characters (a 5 MB bad line stays one line)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


class DataError(AnitError):
    """A bad record in a data file: where it is, and what was expected there."""

    def __init__(self, path: str | Path, line: int | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> tuple:           # raised in a worker process (anit.parallel), rebuilt in its parent
        return DataError, (self.path, self.line, self.problem)


class BadRecords:
    """Either stop at the first bad record (default) or skip and count them (``--skip-bad``)."""

    def __init__(self, skip: bool = False) -> None:
        self.skip = skip
        self.count = 0
        self.first: DataError | None = None

    def __call__(self, error: DataError) -> None:
        if not self.skip:
            raise error
        self.count += 1
        self.first = self.first or error
