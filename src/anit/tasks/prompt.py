"""The prompt text a model sees, built in one place so that training, evaluation, attacks and rewrites match.

The instruction (the only part noise touches) comes first, then the untouched context::

    Instruction: Identify every named entity in the text and give its type.
    Question: Which named entities does the text mention?
    Format: type: entity; type: entity (or none)
    Options: person, location, organization, miscellaneous
    Text: EU rejects German call to boycott British lamb .
    Answer: organization: EU; miscellaneous: German; miscellaneous: British

For a chat model the five lines are the user turn and the answer is the assistant turn; for a plain one the
``Answer:`` cue follows and the answer comes after a space.
"""

from __future__ import annotations

from typing import Any

FIELDS = ("Instruction", "Question", "Format", "Options", "Text")


def context_block(record: dict[str, Any], instruction: str | None = None) -> str:
    """Instruction, Question, Format, Options and Text lines: the user turn of the chat variant."""
    options = record.get("options") or []
    values = (instruction if instruction is not None else record["instruction"], record["question"],
              record["format"], ", ".join(options), record["input"])
    return "\n".join(f"{name}: {value}" for name, value in zip(FIELDS, values))


def uses_chat(tokenizer: Any, mode: str) -> bool:
    """``mode`` is ``chat``, ``plain`` or ``auto`` (chat when the tokenizer has a chat template)."""
    if mode == "auto":
        return bool(getattr(tokenizer, "chat_template", None))
    return mode == "chat"


def as_model_input(tokenizer: Any, user_text: str, chat: bool, plain_suffix: str = "") -> str:
    """The text before the answer: the chat template's user turn and generation cue, or plain text."""
    if chat:
        return tokenizer.apply_chat_template([{"role": "user", "content": user_text}], tokenize=False,
                                             add_generation_prompt=True)
    return user_text + plain_suffix


def task_prompt(tokenizer: Any, record: dict[str, Any], instruction: str | None, chat: bool) -> str:
    """The text before a task's answer; training and evaluation both build it here so they match."""
    return as_model_input(tokenizer, context_block(record, instruction), chat, "\nAnswer:")


def answer_text(answer: str, chat: bool) -> str:
    """The answer as it follows the prompt: the assistant turn, or after ``Answer:`` with a space."""
    return answer if chat else " " + answer
