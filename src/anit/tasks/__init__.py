"""Task families: importing this registers ner, re, tc and absa."""

from anit.tasks import absa, classification, ner, relation  # noqa: F401  (registration)
from anit.tasks.base import TASKS, Task
from anit.tasks.prompt import answer_text, context_block, task_prompt, uses_chat

__all__ = ["TASKS", "Task", "answer_text", "context_block", "task_prompt", "uses_chat"]
