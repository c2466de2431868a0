"""The answer format shared by relation and aspect-sentiment triplets: ``a | b | c; a | b | c``.

Which slot holds the label differs (RE: the middle, ``head | relation | tail``; ABSA: the last,
``aspect | opinion | sentiment``), so both tasks build their format and parser from here.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

from anit.tasks import metrics
from anit.tasks.base import NONE_ANSWER, answer_region, canonical, is_none, items, squash

Triplet = tuple[str, str, str]


def format_triplets(triplets: list[Any]) -> str:
    if not triplets:
        return NONE_ANSWER
    return "; ".join(" | ".join(squash(part) for part in triplet) for triplet in triplets)


def triplet_parser(label_slot: int, aliases: dict[str, str] | None = None
                   ) -> Callable[[str, Sequence[str] | None], list[Triplet] | None]:
    aliases = aliases or {}

    def parse(text: str, options: Sequence[str] | None = None) -> list[Triplet] | None:
        region = answer_region(text)
        if is_none(region):
            return []
        found: list[Triplet] = []
        for item in items(region):
            if item.startswith("(") and item.endswith(")"):
                item = item[1:-1]
            parts = [squash(part) for part in item.split("|")]
            if len(parts) != 3 or not all(parts):
                continue
            label = parts[label_slot]
            parts[label_slot] = canonical(aliases.get(label.lower(), label), options)
            found.append((parts[0], parts[1], parts[2]))
        return found or None

    return parse


SCORING = {"format_answer": format_triplets, "metric": metrics.set_f1, "primary": "f1",
           "record_counts": functools.partial(metrics.item_counts, as_set=True)}
"""How both triplet tasks write and score answers: sets of triplets per sentence (see ``metrics``)."""
