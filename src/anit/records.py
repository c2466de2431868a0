"""The record every stage reads and extends, in one place: its fields, their types, and one check.

A prepared record (``anit data prepare``)::

    {"id": "sst2-dev-1", "dataset": "sst2", "task": "tc", "instruction": "Classify the text ...",
     "question": "Which label ...", "format": "one label from the options", "options": ["negative", "positive"],
     "input": "it 's a charming ...", "output": "positive", "gold": "positive"}

A record written by hand may leave out ``question``, ``format``, ``instruction`` and ``gold``: its task supplies
them (:func:`completed`). ``anit noise build`` adds ``noisy_instruction``, ``noise_type``, ``noise_rate``,
``noise_changed``, ``noise_note`` and ``distortion`` ({scorer: score}).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from anit.jsonl import read_jsonl
from anit.tasks import TASKS

TYPES: dict[str, tuple[type, ...]] = {
    "id": (str, int), "dataset": (str,), "task": (str,), "instruction": (str,), "question": (str,),
    "format": (str,), "options": (list,), "input": (str,), "output": (str,), "gold": (str, list),
    "noisy_instruction": (str,), "noise_type": (str,), "noise_rate": (int, float), "distortion": (dict,),
}
PREPARED = ("id", "dataset", "task", "instruction", "question", "format", "options", "input", "output", "gold")
"""What ``anit data prepare`` writes."""
TRAINING = tuple(f for f in PREPARED if f not in ("dataset", "gold"))
"""What training reads (a record needs its answer text, not its gold structure)."""
EVALUATION = tuple(f for f in PREPARED if f != "output")
"""What evaluation and attacks read (they score against ``gold``)."""
NOISE = ("id", "instruction")
"""What noising reads."""
NO_NOISY = "no record has a noisy_instruction; build them with `anit noise build`"
"""What records without noisy instructions are told where a method or the noisy condition needs them."""

OWN_NOISE = "own"


def noise_type_of(record: dict[str, Any]) -> str:
    """The noise type a record's noisy instruction is counted under: its ``noise_type``, or ``own`` for one the user
    wrote themselves (a ``noisy_instruction`` without a ``noise_type``; eval scores it as ``noisy-own``)."""
    return record.get("noise_type", OWN_NOISE)


_NAMES = {str: "text", int: "a number", float: "a number", list: "a list", dict: "a mapping"}


def problem(record: dict[str, Any], fields: Iterable[str]) -> str | None:
    """What is wrong with ``record`` for a stage that reads ``fields`` (plus any noise fields it holds), or None."""
    fields = tuple(fields)
    task = record.get("task")
    if "task" in fields and isinstance(task, str) and task not in TASKS:
        return f"field 'task': {TASKS.unknown(task)}"
    missing = [name for name in fields if name not in record]
    if missing:
        return f"missing field(s) {', '.join(missing)}"
    for name in fields + tuple(f for f in TYPES if f in record and f not in fields):
        value, allowed = record[name], TYPES.get(name)
        if allowed and (not isinstance(value, allowed) or isinstance(value, bool)):
            got = "null" if value is None else type(value).__name__
            wanted = " or ".join(dict.fromkeys(_NAMES[t] for t in allowed))
            return f"field {name!r}: expected {wanted}, got {got}"
    gold, options = record.get("gold"), record.get("options")
    if "gold" in fields and isinstance(gold, str) and options and gold not in options:
        return f"field 'gold': {gold!r} is not among the options ({', '.join(map(str, options))}): no answer is right"
    return None


def completed(record: dict[str, Any]) -> dict[str, Any]:
    """``record``, in place, with what its registered task supplies where the record lacks it: ``question`` and
    ``format`` (the task's wording), ``instruction`` (its raw instruction) and ``gold`` (its parser's reading of
    ``output``, which gives back exactly the gold of every prepared record). So a record written by hand needs only
    ``id``, ``dataset``, ``task``, ``options``, ``input`` and ``output``."""
    name = record.get("task")
    if not isinstance(name, str) or name not in TASKS:
        return record
    task = TASKS.get(name)
    record.setdefault("question", task.question)
    record.setdefault("format", task.format)
    record.setdefault("instruction", task.default_instruction)
    output, options = record.get("output"), record.get("options")
    if "gold" not in record and isinstance(output, str) and (options is None or isinstance(options, list)):
        gold = task.parse_answer(output, options)
        if gold is not None:
            record["gold"] = json.loads(json.dumps(gold))       # tuples as lists, as a prepared record holds them
    return record


def read_records(path: str | Path, fields: Iterable[str]) -> list[dict[str, Any]]:
    """The records of a JSONL file, each :func:`completed` and checked for ``fields``; a bad one stops with
    ``file:line: field ...``."""
    fields = tuple(fields)
    return read_jsonl(path, check=lambda record: problem(completed(record), fields))
