"""Examples to instruction records (``anit.records`` says what a record holds), the JSONL every later stage reads."""

from __future__ import annotations

import random
from typing import Any

from anit.data.base import DATASETS, BadRecords, DatasetSpec, Example, load_examples
from anit.tasks import TASKS



def to_record(example: Example, spec: DatasetSpec, instruction: str | None = None) -> dict[str, Any]:
    task = TASKS.get(spec.task)
    gold = example.gold if isinstance(example.gold, str) else [list(item) for item in example.gold]
    return {
        "id": example.id,
        "dataset": spec.name,
        "task": spec.task,
        "instruction": instruction or task.default_instruction,
        "question": task.question,
        "format": task.format,
        "options": list(spec.labels),
        "input": example.text,
        "output": task.format_answer(example.gold),
        "gold": gold,
    }


def sample(examples: list[Example], limit: int | None, seed: int) -> list[Example]:
    """``limit`` examples drawn with ``seed``, kept in file order; all of them when no limit."""
    if limit is None or limit >= len(examples):
        return examples
    keep = sorted(random.Random(seed).sample(range(len(examples)), limit))
    return [examples[i] for i in keep]


def mixture(parts: list[list[dict[str, Any]]], seed: int) -> list[dict[str, Any]]:
    """Records of several datasets in one seeded shuffle (multi-task training and evaluation files)."""
    records = [record for part in parts for record in part]
    random.Random(seed).shuffle(records)
    return records


def prepare(dataset: str, split: str, limit: int | None = None, seed: int = 3407, exclude: frozenset[str] = frozenset(),
            **source: Any) -> tuple[list[dict[str, Any]], BadRecords]:
    """A split's records: read (``source``: ``data_dir``, ``path``, ``skip_bad``, ``source`` as ``load_examples``
    takes them), examples whose id is in ``exclude`` dropped, ``limit`` drawn with ``seed``, made records.

        records, _ = prepare("sst2", "dev", limit=64, data_dir="../shared/data")
    """
    examples, bad = load_examples(dataset, split, **source)
    kept = [e for e in examples if e.id not in exclude] if exclude else examples
    spec = DATASETS.get(dataset)
    return [to_record(e, spec) for e in sample(kept, limit, seed)], bad
