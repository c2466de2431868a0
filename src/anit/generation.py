"""Batched generation and the prompt text a model sees, shared by model-written noise and evaluation.

Prompts are left-padded, sorted by length so that batches pad little, generated with the KV cache,
greedy by default, and cut at EOS or (optionally) at the end of the first answer line.
"""

from __future__ import annotations

from typing import Any, Sequence

from tqdm.auto import tqdm

from anit.tasks.base import context_block


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


def generate(model: Any, tokenizer: Any, prompts: Sequence[str], max_new_tokens: int, batch_size: int = 8,
             do_sample: bool = False, temperature: float = 1.0, top_p: float = 1.0, seed: int = 0,
             stop_at_newline: bool = True, progress: str | None = None) -> list[str]:
    """Continuations of ``prompts`` in their original order (special tokens removed)."""
    import torch

    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]), reverse=True)
    outputs: list[str] = [""] * len(prompts)
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens, "do_sample": do_sample,
                              "pad_token_id": tokenizer.pad_token_id}
    if do_sample:
        kwargs.update(temperature=temperature, top_p=top_p)
    else:
        kwargs.update(temperature=None, top_p=None, top_k=None)
    if stop_at_newline:
        kwargs.update(stop_strings=["\n"], tokenizer=tokenizer)
    try:
        batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
        for batch in tqdm(batches, desc=progress, disable=progress is None, leave=False):
            if do_sample:
                torch.manual_seed(seed + batch[0])
            enc = tokenizer([prompts[i] for i in batch], return_tensors="pt", padding=True,
                            add_special_tokens=False).to(device)
            with torch.inference_mode():
                out = model.generate(**enc, **kwargs)
            for row, i in enumerate(batch):
                text = tokenizer.decode(out[row, enc["input_ids"].shape[1]:], skip_special_tokens=True)
                outputs[i] = text.split("\n")[0] if stop_at_newline else text
    finally:
        tokenizer.padding_side = side
        model.train(was_training)
    return outputs
