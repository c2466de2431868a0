"""What every task family shares: the Task record, the registry, and the answer-splitting helpers (the prompt
text lives in ``prompt.py``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from anit.registry import Registry

NONE_ANSWER = "none"
_STOP = re.compile(r"\n\s*\n|\n\s*(?:Instruction|Question|Format|Options|Text|Answer)\s*:", re.IGNORECASE)


@dataclass(frozen=True)
class Task:
    """A task family: its wording, its answer format, its parser and its metric."""

    name: str
    question: str
    format: str
    instructions: tuple[str, ...]
    format_answer: Callable[[Any], str]
    parse_answer: Callable[[str, Sequence[str] | None], Any]
    metric: Callable[[list[Any], list[Any], Sequence[str]], dict[str, float]]
    max_new_tokens: int
    primary: str
    """The key of ``metric``'s result that tables, gaps and attacks compare."""
    record_counts: Callable[[Any, Any], tuple[float, ...]]
    """One record's counts towards ``primary`` (see ``anit.evaluation.robustness``)."""

    def __post_init__(self) -> None:
        if isinstance(self.instructions, str) or not self.instructions or not all(
                isinstance(text, str) and text.strip() for text in self.instructions):
            raise ValueError(f"task {self.name!r}: instructions must be a tuple of one or more texts (the raw one "
                             f"first, then held-out ones), got {self.instructions!r}")

    def correct(self, parsed: Any, gold: Any) -> bool:
        """Whether an answer is entirely right: the label, or exactly the gold items."""
        counts = self.record_counts(parsed, gold)
        if self.primary == "accuracy":
            return counts[0] == 1
        return parsed is not None and counts[0] == counts[1] == counts[2]

    @property
    def default_instruction(self) -> str:
        return self.instructions[0]

    @property
    def unseen_instructions(self) -> tuple[str, ...]:
        return self.instructions[1:]


TASKS: Registry[Task] = Registry("task")


def answer_region(text: str) -> str:
    """The part of a generation that holds the answer: before a blank line or an echoed prompt field."""
    text = text.strip()
    if text.lower().startswith("answer:"):
        text = text[len("answer:"):]
    return _STOP.split(text, maxsplit=1)[0].strip()


def squash(text: str) -> str:
    """Collapse runs of whitespace; the text itself is never otherwise rewritten."""
    return " ".join(text.split())


def is_none(text: str) -> bool:
    return squash(text).strip(" .!").lower() in (NONE_ANSWER, "none.", "no entities", "no triplets", "")


def items(text: str) -> list[str]:
    """Answer items split on ``;`` and new lines, stripped, empties dropped."""
    return [squash(part) for part in re.split(r"[;\n]", text) if squash(part)]


def canonical(label: str, options: Sequence[str] | None) -> str:
    """Map a label onto the options case- and separator-insensitively; unknown labels are kept."""
    label = squash(label)
    if options:
        key = _label_key(label)
        for option in options:
            if _label_key(option) == key:
                return option
    return label


def _label_key(label: str) -> str:
    return re.sub(r"[\s_\-]+", " ", label.lower()).strip()
