"""A benchmark run's record in the repository, so that a fresh checkout summarises and resumes a benchmark whose
work folder is gone (runs/ is not committed, and a CPU protocol takes many sessions).

Each finished run of the robustness benchmark is packed into ``docs/benchmarks/runs/<name>/<run>.json.gz``: the
files its summary reads (training summary, wall times, worst instructions, every evaluation's metrics and
predictions) with the protocol, the machine and a digest of the data they were scored on. No record text goes in:
a prediction keeps its record id, dataset, condition, instruction, correctness and distortion, and its parsed
answer and gold have every string replaced by a short digest (:func:`digest`), which keeps what every metric and
comparison of the summary computes from them (equal strings stay equal, different ones stay different). The model's
generation and the record's input are dropped. Adapters are not kept: a restored run is summarised, not extended.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

KEPT = ("train_summary.json", "machine.json", "wall.json", "attack_wall.json", "worst.yaml", "near.yaml",
        "eval-*/metrics.json", "eval-*/wall.json", "eval-*/*.predictions.jsonl")
"""The files of a run folder its summary reads (and ``train_summary.json``, by which a resumed benchmark knows the
run trained; ``machine.json``, where it ran: :func:`stamp`); predictions are redacted (:func:`redact`)."""
DROPPED = ("input", "generation")
"""Prediction fields not kept: the record's text and the model's answer text."""
RESTORED = "restored.json"
"""The mark of a run folder unpacked from its archive (it holds no adapter)."""
FORMAT = 1
REWRITES = "rewrites.json"
"""The model rewrites a benchmark's attacks draw their paraphrase and opposite candidates from (``data/`` of its work
folder), kept beside its runs: each run of the benchmark, on any machine and under any later rewriting rules,
searches the same candidates (:func:`keep_rewrites`, :func:`restore`)."""


def digest(value: Any) -> Any:
    """``value`` with each string replaced by the first 12 hex digits of its SHA-256, lists and dicts walked and
    everything else kept: equality between digested values is equality between the originals (to one in 2**48)."""
    if isinstance(value, str):
        return hashlib.sha256(value.encode("utf-8")).hexdigest()[:12]
    if isinstance(value, (list, tuple)):
        return [digest(v) for v in value]
    if isinstance(value, dict):
        return {k: digest(v) for k, v in value.items()}
    return value


def redact(row: dict[str, Any]) -> dict[str, Any]:
    """A prediction row without its texts (DROPPED), its parsed answer and gold digested."""
    return {k: digest(v) if k in ("parsed", "gold") else v for k, v in row.items() if k not in DROPPED}


def data_digest(data: Path) -> str | None:
    """SHA-256 of the dev and test files a run was attacked and scored on (None where they are not here)."""
    files = [data / "dev.jsonl", data / "test.jsonl"]
    if not all(f.exists() for f in files):
        return None
    h = hashlib.sha256()
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()


def _kept(folder: Path) -> list[Path]:
    return sorted({p for pattern in KEPT for p in folder.glob(pattern) if p.is_file()})


def pack(folder: Path, target: Path, header: dict[str, Any]) -> Path:
    """Write ``folder``'s kept files, redacted, with ``header`` (protocol, machine, command, data) to ``target``;
    the same run packs to the same bytes."""
    files = {}
    for path in _kept(folder):
        text = path.read_text(encoding="utf-8")
        if path.name.endswith(".predictions.jsonl"):
            text = "".join(json.dumps(redact(json.loads(line)), ensure_ascii=False) + "\n"
                           for line in text.splitlines() if line.strip())
        files[path.relative_to(folder).as_posix()] = text
    body = json.dumps({"format": FORMAT, "run": folder.name, **header, "files": files}, ensure_ascii=False,
                      sort_keys=True).encode("utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")      # written beside, then moved: a reader never sees half of it
    with part.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as out:
        out.write(body)
    os.replace(part, target)
    return target


def read(archive: Path) -> dict[str, Any]:
    with gzip.open(archive, "rt", encoding="utf-8") as f:
        return json.load(f)


def unpack(packed: dict[str, Any], folder: Path, source: Path) -> Path:
    """Write an archive's files into the run folder ``folder``, marked as restored from ``source``; an archive that
    predates the run's own ``machine.json`` gives it the machine of its header."""
    for name, text in packed["files"].items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if "machine.json" not in packed["files"] and packed.get("machine") is not None:
        (folder / "machine.json").write_text(json.dumps(packed["machine"], indent=2) + "\n", encoding="utf-8")
    (folder / RESTORED).write_text(json.dumps({"from": str(source)}) + "\n", encoding="utf-8")
    return folder


def restored(folder: Path) -> bool:
    return (folder / RESTORED).exists()


def agrees(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two protocols agree on every field both record (one that predates a field does not record it, as a
    work folder's protocol.json does not: :func:`bench.robustness.check_protocol`)."""
    return all(a[key] == b[key] for key in a.keys() & b.keys())


def restore(work: Path, archives: Path, protocol: dict[str, Any] | None) -> list[str]:
    """Unpack into ``work/runs`` each archive in ``archives`` whose run the work folder lacks, and say (one line
    each) which archives are left out: those of another protocol than ``protocol`` (the work folder's; None: the
    first archive's, which a fresh work folder then takes) or scored on other data than the work folder holds. Also
    writes the work folder's protocol, machine and command where it has none, and its rewrite cache from the
    archive's (:data:`REWRITES`) where it has none."""
    said = []
    held = data_digest(work / "data")
    kept, cache = archives / REWRITES, work / "data" / REWRITES
    if kept.exists() and not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kept, cache)
    for path in sorted(archives.glob("*.json.gz")):
        packed = read(path)
        if protocol is None:
            protocol = packed["protocol"]
        if not agrees(packed["protocol"], protocol):
            said.append(f"{path}: left out, its protocol {packed['protocol']} is not this work folder's {protocol}")
            continue
        held = held or packed["data"]
        if packed["data"] != held:
            said.append(f"{path}: left out, its runs were scored on other dev and test data than {work / 'data'}")
            continue
        for name, key in (("protocol.json", "protocol"), ("machine.json", "machine"), ("command.json", "command")):
            if not (work / name).exists() and packed.get(key) is not None:
                (work / name).parent.mkdir(parents=True, exist_ok=True)
                value = packed[key] if key != "command" else {"command": packed[key]}
                (work / name).write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
        folder = work / "runs" / packed["run"]
        if not folder.exists():
            unpack(packed, folder, path)
    return said


def keep_rewrites(work: Path, archives: Path) -> None:
    """Copy the work folder's rewrite cache (:data:`REWRITES`) beside the archived runs, where it grew."""
    cache, kept = work / "data" / REWRITES, archives / REWRITES
    if cache.exists() and (not kept.exists() or kept.read_bytes() != cache.read_bytes()):
        archives.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cache, kept)


def stamp(folder: Path, work: Path, archived: Path) -> None:
    """Give a finished run of ``work`` its own ``machine.json`` (where it ran) unless it has one: from its archive
    ``archived`` where one exists (a run archived before runs held their own), else the work folder's, which names
    the machine of the benchmark's latest start, the one that finished the run. ``work``'s is rewritten at every
    start, so a page of runs finished over several sessions names each run's machine from its own."""
    own = folder / "machine.json"
    if own.exists():
        return
    found = read(archived).get("machine") if archived.exists() else _held(work, "machine.json")
    if found is not None:
        own.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")


def _held(work: Path, name: str) -> Any:
    path = work / name
    return json.loads(path.read_text()) if path.exists() else None


def header(work: Path, protocol: dict[str, Any], folder: Path | None = None) -> dict[str, Any]:
    """What an archive of the run ``folder`` of ``work`` carries besides its files (the machine: the run's own where
    it has one, else the work folder's)."""
    command = _held(work, "command.json")
    own = _held(folder, "machine.json") if folder is not None else None
    return {"protocol": protocol, "machine": own or _held(work, "machine.json"),
            "command": command and command["command"], "data": data_digest(work / "data")}
