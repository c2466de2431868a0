"""Batched generation, shared by model-written noise and evaluation (the prompt text is ``anit.tasks.prompt``'s).

Prompts are grouped so that a batch shares as long an opening as possible (a task's system turn and
instruction), then sorted by length so that batches pad little. The tokens a whole batch shares run
through the model once and their KV cache is copied to every row; each row's own tokens follow,
left-padded. Generation is greedy by default and stops at EOS or (optionally) the end of the first line.
"""

from __future__ import annotations

import copy
import itertools
import os
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from tqdm.auto import tqdm

@contextmanager
def inference(model: Any) -> Iterator[None]:
    """Eval mode (no dropout) without autograd; the model's own mode comes back afterwards."""
    import torch

    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            yield
    finally:
        model.train(was_training)


MIN_SHARED = 8
"""Fewer shared tokens than this are not worth a separate prefix pass."""


def batch_order(rows: Sequence[Sequence[int]]) -> list[int]:
    """Row indices grouped by their opening tokens (half the shortest row), longest first within a group."""
    if not rows:
        return []
    head = min(map(len, rows)) // 2
    return sorted(range(len(rows)), key=lambda i: (tuple(rows[i][:head]), -len(rows[i])))


def length_batches(rows: Sequence[Sequence[int]], batch_size: int, waste: float = 0.2, least: int = 256
                   ) -> list[list[int]]:
    """``batch_order``'s order cut into batches for one forward pass each (no decoding): at ``batch_size`` rows,
    where the opening changes, and where one more row would make padding more than ``waste`` of the batch's own
    tokens (once the batch holds ``least`` of them: smaller matrix products run slower per token)."""
    order = batch_order(rows)
    head = min(map(len, rows)) // 2 if rows else 0
    batches: list[list[int]] = []
    for _, members in itertools.groupby(order, key=lambda i: tuple(rows[i][:head])):
        group = list(members)
        opening = len(os.path.commonprefix([list(rows[i]) for i in group])) if len(group) > 1 else 0
        batch: list[int] = []
        width = real = 0
        for i in group:
            own = len(rows[i]) - opening
            if batch and (len(batch) == batch_size
                          or (real >= least and width * (len(batch) + 1) > (1 + waste) * (real + own))):
                batches.append(batch)
                batch = []
            if not batch:
                width, real = own, 0
            batch.append(i)
            real += own
        batches.append(batch)
    return batches


def shared_length(rows: Sequence[Sequence[int]], min_shared: int = MIN_SHARED) -> int:
    """How many leading tokens every row shares, leaving each row one token of its own (0 below ``min_shared``)."""
    if len(rows) < 2:
        return 0
    shared = min(len(os.path.commonprefix([list(r) for r in rows])), min(map(len, rows)) - 1)
    return shared if shared >= min_shared else 0


@dataclass
class Batch:
    """Model inputs for token rows: the shared prefix, then each row's own tokens left-padded.

    ``cache`` holds the model's KV cache of the first ``cached`` tokens, one copy per row (None when
    nothing is shared); the model still has to run ``input_ids[:, cached:]``.
    """

    input_ids: Any
    attention_mask: Any
    cache: Any
    cached: int

    @property
    def position_ids(self) -> Any:
        return (self.attention_mask.cumsum(-1) - 1).clamp(min=0)


def sliding_window(model: Any) -> int | None:
    """The attention window of a model with sliding-window layers (Gemma 2/3, Mistral), else None."""
    config = model.config
    config = config.get_text_config() if hasattr(config, "get_text_config") else config
    window = getattr(config, "sliding_window", None)
    layer_types = getattr(config, "layer_types", None)
    if layer_types is not None and "sliding_attention" not in layer_types:
        return None
    if getattr(config, "use_sliding_window", True) is False:
        return None
    return window


class Openings:
    """KV caches of the openings batches share (system turn, instruction), kept across batches and calls so that an
    opening runs once however many batches follow it (each is computed alone, as without reuse, so reuse changes
    no number). Valid while the model's weights stay as they are: make one per evaluation or attack. ``ran``
    counts the opening tokens run."""

    def __init__(self, keep: int = 8) -> None:
        self.keep, self.ran = keep, 0
        self.held: OrderedDict[tuple[int, ...], Any] = OrderedDict()

    def cache(self, model: Any, opening: Sequence[int], rows: int) -> Any:
        """A KV cache of ``opening`` (its own copy) repeated for ``rows`` rows."""
        import torch

        key = tuple(opening)
        if key not in self.held:
            ids = torch.tensor([key], dtype=torch.long, device=next(model.parameters()).device)
            with torch.inference_mode():
                self.held[key] = model(input_ids=ids, use_cache=True).cache
            self.ran += len(key)
        self.held.move_to_end(key)
        entry = self.held[key]
        while len(self.held) > self.keep:
            self.held.popitem(last=False)
        cache = copy.deepcopy(entry) if key in self.held else entry   # an entry no longer held needs no copy
        cache.batch_repeat_interleave(rows)
        return cache


def prepare_batch(model: Any, rows: Sequence[Sequence[int]], pad_id: int, extra_tokens: int = 0,
                  openings: Openings | None = None) -> Batch:
    """``extra_tokens``: how many tokens will follow (generation budget, option length); ``openings`` the shared
    openings to reuse (default: none kept).

    A sliding-window layer would count the padding between the shared prefix and a row's own tokens
    against its window, so prefixes are shared there only while the whole sequence fits in the window.
    """
    import torch

    device = next(model.parameters()).device
    shared = shared_length(rows)
    window = sliding_window(model)
    if window is not None and shared + max(len(r) - shared for r in rows) + extra_tokens > window:
        shared = 0
    tails = [list(r[shared:]) for r in rows]
    width = shared + max(map(len, tails))
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    ids[:, :shared] = torch.tensor(list(rows[0][:shared]), dtype=torch.long)
    mask[:, :shared] = 1
    for k, tail in enumerate(tails):
        ids[k, width - len(tail):] = torch.tensor(tail, dtype=torch.long)
        mask[k, width - len(tail):] = 1
    ids, mask = ids.to(device), mask.to(device)
    cache = (openings or Openings(keep=0)).cache(model, rows[0][:shared], len(rows)) if shared else None
    return Batch(ids, mask, cache, shared)


def generate(model: Any, tokenizer: Any, prompts: Sequence[str], max_new_tokens: int, batch_size: int = 8,
             do_sample: bool = False, temperature: float = 1.0, top_p: float = 1.0, seed: int = 0,
             stop_at_newline: bool = True, progress: str | None = None, openings: Openings | None = None
             ) -> list[str]:
    """Continuations of ``prompts`` in their original order (special tokens removed); ``openings`` as for
    ``prepare_batch``."""
    import torch

    rows = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    order = batch_order(rows)
    outputs: list[str] = [""] * len(prompts)
    kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens, "do_sample": do_sample,
                              "pad_token_id": tokenizer.pad_token_id}
    if do_sample:
        kwargs.update(temperature=temperature, top_p=top_p)
    else:
        kwargs.update(temperature=None, top_p=None, top_k=None)
    if stop_at_newline:
        kwargs.update(stop_strings=["\n"], tokenizer=tokenizer)
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    with inference(model):
        for batch in tqdm(batches, desc=progress, disable=progress is None, leave=False):
            if do_sample:
                torch.manual_seed(seed + batch[0])
            inputs = prepare_batch(model, [rows[i] for i in batch], tokenizer.pad_token_id, max_new_tokens,
                                   openings)
            out = model.generate(input_ids=inputs.input_ids, attention_mask=inputs.attention_mask,
                                 cache=inputs.cache, **kwargs)
            for row, i in enumerate(batch):
                text = tokenizer.decode(out[row, inputs.input_ids.shape[1]:], skip_special_tokens=True)
                outputs[i] = text.split("\n")[0] if stop_at_newline else text
    return outputs
