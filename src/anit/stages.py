"""Pipeline stages a rerun skips (``anit demo``, ``anit compare``): a stage writes its output, then a stamp beside
it, the digest of the settings and inputs it ran with; a rerun whose settings digest to the same stamp takes the
output as it is."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any, Callable


def digest(key: Any) -> str:
    """SHA-256 of ``key`` as canonical JSON (paths and other objects as their text)."""
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def stamp_of(out: Path) -> Path:
    return out.with_name(out.name + ".stamp")


def done(out: Path, key: Any) -> bool:
    """Whether ``out`` was written by a stage that ran with ``key``."""
    stamp = stamp_of(out)
    return out.exists() and stamp.exists() and stamp.read_text() == digest(key)


def stage(out: Path, key: Any, run: Callable[[], None], label: str, say: Callable[[str], None] = print) -> bool:
    """Run ``run`` (which writes ``out``) unless ``out`` is there from a run with the same ``key``; says which, and
    how long it took. Returns whether it ran."""
    if done(out, key):
        say(f"[cached] {label}")
        return False
    started = time.perf_counter()
    run()
    stamp_of(out).write_text(digest(key))
    say(f"[done]   {label} ({time.perf_counter() - started:.0f} s)")
    return True
