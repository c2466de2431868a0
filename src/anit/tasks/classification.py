"""Text classification: answers one label from the options.

    Text: it 's a charming and often affecting journey .
    Answer: positive
"""

from __future__ import annotations

import re
from typing import Sequence

from anit.tasks import metrics
from anit.tasks.base import TASKS, Task, answer_region, canonical, squash

INSTRUCTIONS = (
    "Classify the text into one of the given categories.",
    "Please read the following text and decide which of the provided labels best describes it.",
    "Assign the most appropriate class from the options to the input text.",
    "Determine the category of the text; answer with exactly one of the options.",
    "Your task is text classification: choose the label that fits the passage.",
    "Which of the listed labels applies to this text? Pick one.",
    "Categorise the given text using one label from the option list.",
)


def format_answer(label: str) -> str:
    return squash(label)


def parse_answer(text: str, options: Sequence[str] | None = None) -> str | None:
    """The option the answer names: an exact match first, else the earliest option mentioned."""
    region = answer_region(text)
    if not options:
        return squash(region) or None
    exact = canonical(region.strip(" .!\"'"), options)
    if exact in options:
        return exact
    best: tuple[int, int, str] | None = None
    lowered = region.lower()
    for option in options:
        match = re.search(rf"(?<!\w){re.escape(option.lower())}(?!\w)", lowered)
        if match and (best is None or (match.start(), -len(option)) < best[:2]):
            best = (match.start(), -len(option), option)
    return best[2] if best else None


TASK = TASKS.register("tc")(Task(
    name="tc",
    question="Which label from the options fits the text?",
    format="one label from the options",
    instructions=INSTRUCTIONS,
    format_answer=format_answer,
    parse_answer=parse_answer,
    metric=metrics.classification,
    primary="accuracy",
    record_counts=metrics.label_counts,
    max_new_tokens=8,
))
