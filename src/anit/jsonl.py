"""JSON Lines in and out; writes are atomic so an interrupted run leaves no half file."""

from __future__ import annotations

import glob
import gzip
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from anit.errors import AnitError, BadRecords, DataError


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(path: Path) -> None:
    """Remove the temporary files an earlier, killed writer of ``path`` left beside it (its process is gone)."""
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 2:].split(".", 1)[0]
        if not (pid.isdigit() and _alive(int(pid))):
            tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds. The file gets the
    permissions the umask gives a new file (not mkstemp's 0600), and temporary files a killed run left are removed."""
    path = Path(path)
    if path.is_dir():
        raise AnitError(f"{path}: is a folder; give a file name to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    count = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def write_json(path: str | Path, obj: Any) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def numbered_lines(path: Path, bad: BadRecords | None = None) -> Iterator[tuple[int, str]]:
    """(line number, text without newline) of a UTF-8 file, plain or gzip, a leading byte-order mark dropped; a line
    of bad bytes names its line, and with ``bad`` skipping (``--skip-bad``) it is counted and left out."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError as err:
                error = DataError(path, number, f"not UTF-8 ({err.reason} at byte {err.start})")
                if bad is None:
                    raise error from None
                bad(error)
                continue
            yield number, text


def read_jsonl(path: str | Path, required: Iterable[str] = (),
               check: Callable[[dict[str, Any]], str | None] | None = None) -> list[dict[str, Any]]:
    """Every record of a JSONL file; a malformed line, a missing field or what ``check`` finds names file and line.
    A UTF-8 byte-order mark at the start is accepted."""
    path = Path(path)
    if not path.exists():
        raise DataError(path, None, "file not found")
    required = tuple(required)
    records = []
    for number, text in numbered_lines(path):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as err:
            raise DataError(path, number, f"not valid JSON ({err.msg}); expected one object per line") from None
        if not isinstance(record, dict):
            raise DataError(path, number, "expected a JSON object")
        missing = [name for name in required if name not in record]
        if missing:
            raise DataError(path, number, f"missing field(s) {', '.join(missing)}")
        found = check(record) if check else None
        if found:
            raise DataError(path, number, found)
        records.append(record)
    return records
