"""Named entity recognition: answers ``type: entity; type: entity`` or ``none``.

    Text: EU rejects German call to boycott British lamb .
    Answer: organization: EU; miscellaneous: German; miscellaneous: British
"""

from __future__ import annotations

from typing import Any, Sequence

from anit.tasks import metrics
from anit.tasks.base import TASKS, NONE_ANSWER, Task, answer_region, canonical, is_none, items, squash

INSTRUCTIONS = (
    "Identify every named entity in the text and label it with one of the given entity types.",
    "Please find all named entities mentioned in the following text and classify each by its type.",
    "Extract the names of people, places, organizations and other entities from the text, with their types.",
    "Read the text and list each named entity together with the category it belongs to.",
    "Tag the named entities in the sentence below using only the entity types provided.",
    "Your task is to recognise named entities in the input and assign each one an entity type.",
    "Go through the text, pick out every proper name or named expression, and state its entity type.",
)


def format_answer(entities: list[Any]) -> str:
    if not entities:
        return NONE_ANSWER
    return "; ".join(f"{squash(kind)}: {squash(text)}" for kind, text in entities)


def parse_answer(text: str, options: Sequence[str] | None = None) -> list[tuple[str, str]] | None:
    """Pairs in order, duplicates kept; ``None`` when nothing in the text reads as an answer."""
    region = answer_region(text)
    if is_none(region):
        return []
    found = []
    for item in items(region):
        kind, sep, entity = item.partition(":")
        if sep and squash(kind) and squash(entity) and not is_none(entity):
            found.append((canonical(kind, options), squash(entity)))
    return found or None


TASK = TASKS.register("ner")(Task(
    name="ner",
    question="Which named entities does the text mention, and of which type is each?",
    format="type: entity; type: entity (answer none if there are no entities)",
    instructions=INSTRUCTIONS,
    format_answer=format_answer,
    parse_answer=parse_answer,
    metric=metrics.micro_f1,
    primary="f1",
    record_counts=metrics.item_counts,
    max_new_tokens=96,
))
