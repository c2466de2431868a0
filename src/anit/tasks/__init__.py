"""Task families: importing this registers ner, re, tc and absa."""

from anit.tasks import absa, classification, ner, relation  # noqa: F401  (registration)
from anit.tasks.base import TASKS, Task, chat_messages, context_block, render_prompt

__all__ = ["TASKS", "Task", "chat_messages", "context_block", "render_prompt"]
