"""Aspect sentiment triplet extraction: ASTE-Data-V2 (14lap, 14res, 15res, 16res).

One sentence per line, 0-based indices over the whitespace tokens::

    Boot time is super fast , around anywhere from 35 seconds to 1 minute .####[([0, 1], [4], 'POS')]
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator

from anit.data.base import DatasetSpec, Example, register_dataset
from anit.jsonl import numbered_lines
from anit.errors import BadRecords, DataError

SENTIMENTS = {"POS": "positive", "NEG": "negative", "NEU": "neutral"}


def _span(tokens: list[str], indices: list[int]) -> str:
    if not indices or not all(isinstance(i, int) and 0 <= i < len(tokens) for i in indices):
        raise ValueError(f"token indices {indices!r} outside 0..{len(tokens) - 1}")
    return " ".join(tokens[min(indices):max(indices) + 1])


def read_aste(path: Path, spec: DatasetSpec, bad: BadRecords) -> Iterator[Example]:
    for number, line in numbered_lines(path, bad):
        if not line.strip():
            continue
        sentence, sep, labels = line.partition("####")
        if not sep:
            bad(DataError(path, number, "expected 'sentence####[([aspect idx], [opinion idx], 'POS'), ...]'"))
            continue
        tokens = sentence.split()
        try:
            triplets = ast.literal_eval(labels.strip())
            gold = []
            for aspect, opinion, polarity in triplets:
                if polarity not in SENTIMENTS:
                    raise ValueError(f"unknown sentiment {polarity!r}; expected POS, NEG or NEU")
                gold.append((_span(tokens, aspect), _span(tokens, opinion), SENTIMENTS[polarity]))
        except (ValueError, SyntaxError, TypeError) as err:
            bad(DataError(path, number, f"bad triplet list: {err}"))
            continue
        yield Example(id=f"{spec.name}-{path.stem}-{number}", text=" ".join(tokens), gold=gold)


def _aste(subset: str) -> DatasetSpec:
    return DatasetSpec(
        name=f"aste_{subset}", task="absa", reader=read_aste, labels=tuple(SENTIMENTS.values()),
        files={s: f"aste_v2/{subset}/{s}_triplets.txt" for s in ("train", "dev", "test")},
        description=f"ASTE-Data-V2 {subset}: (aspect, opinion, sentiment) triplets",
    )


for _subset in ("14lap", "14res", "15res", "16res"):
    register_dataset(lambda subset=_subset: _aste(subset))
