"""Training examples: tokenised prompts with loss on the answer tokens only, noisy with some probability.

Each record is encoded twice, with its raw and with its noisy instruction. Each time the example is
drawn (per epoch), it uses the noisy one with probability ``noise_rate``; a raw instruction has
distortion 0. Truncation never cuts the answer: the input text is shortened instead, and counted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Sequence

import torch

from anit.errors import AnitError, DataError
from anit.records import NO_NOISY
from anit.tasks.prompt import answer_text, task_prompt, uses_chat

INSTRUCTION_CUE = "Instruction: "


@dataclass
class Encoded:
    input_ids: list[int]
    labels: list[int]
    instruction_mask: list[int]
    prompt_mask: list[int]


def encode(tokenizer: Any, record: dict[str, Any], instruction: str, chat: bool, max_length: int
           ) -> tuple[Encoded, bool]:
    """Token ids, answer-only labels and the instruction's token mask; True if the input was shortened."""
    answer = tokenizer(answer_text(record["output"], chat), add_special_tokens=False)["input_ids"]
    answer = answer + [tokenizer.eos_token_id]
    shortened = False
    for _ in range(8):
        prompt = task_prompt(tokenizer, record, instruction, chat)
        enc = tokenizer(prompt, add_special_tokens=False, return_offsets_mapping=True)
        overflow = len(enc["input_ids"]) + len(answer) - max_length
        if overflow <= 0:
            break
        text_ids = tokenizer(record["input"], add_special_tokens=False)["input_ids"]
        keep = len(text_ids) - overflow - 2
        if keep <= 0 or not record["input"]:
            raise AnitError(f"max_length {max_length} is too small to hold the prompt and answer of record "
                            f"{record['id']!r} ({len(enc['input_ids']) + len(answer)} tokens without its text); "
                            "raise max_length")
        record = {**record, "input": tokenizer.decode(text_ids[:keep], skip_special_tokens=True)}
        shortened = True
    else:
        raise AnitError(f"could not shorten record {record['id']!r} to max_length {max_length}")
    start = prompt.find(INSTRUCTION_CUE + instruction) + len(INSTRUCTION_CUE)
    end = start + len(instruction)
    instruction_mask = [int(s < end and e > start) for s, e in enc["offset_mapping"]]
    ids = list(enc["input_ids"])
    return Encoded(ids + answer, [-100] * len(ids) + answer, instruction_mask + [0] * len(answer),
                   [1] * len(ids) + [0] * len(answer)), shortened


def check_records(records: Sequence[dict[str, Any]], path: str, needs_noise: bool, distortion_key: str | None) -> None:
    """What the records' fields cannot say alone: there are some, noisy ones where the method needs them, and the
    distortion score the method reads (fields and types are checked as the file is read: ``anit.records``)."""
    if not records:
        raise DataError(path, None, "no training records")
    for line, record in enumerate(records, start=1):
        if distortion_key and "noisy_instruction" in record and distortion_key not in record.get("distortion", {}):
            raise DataError(path, line, f"no distortion score {distortion_key!r}; run `anit noise build "
                                        f"--distortion {distortion_key}` or set distortion_key")
    if needs_noise and not any("noisy_instruction" in r for r in records):
        raise DataError(path, None, NO_NOISY)


class InstructionDataset(torch.utils.data.Dataset):
    """Pre-tokenised raw and noisy variants; ``epoch`` (set by the trainer) re-draws the choice."""

    def __init__(self, records: Sequence[dict[str, Any]], tokenizer: Any, rates: dict[str, float], seed: int,
                 max_length: int, prompt_style: str = "auto", distortion_key: str = "word_edit") -> None:
        chat = uses_chat(tokenizer, prompt_style)
        self.seed, self.epoch, self.shortened = seed, 0, 0
        self.tasks = sorted({record["task"] for record in records})
        self.task_of: list[int] = [self.tasks.index(record["task"]) for record in records]
        self.items: list[tuple[Encoded, Encoded | None, float, float]] = []
        for record in records:
            raw, cut = encode(tokenizer, record, record["instruction"], chat, max_length)
            self.shortened += cut
            noisy, d = None, 0.0
            if "noisy_instruction" in record:
                noisy, cut = encode(tokenizer, record, record["noisy_instruction"], chat, max_length)
                self.shortened += cut
                d = float(record.get("distortion", {}).get(distortion_key, 0.0))
            self.items.append((raw, noisy, d, rates.get(record["task"], 0.0)))

    def __len__(self) -> int:
        return len(self.items)

    def lengths(self) -> list[int]:
        """Per example, the longer of its raw and noisy encodings (stable across noise draws)."""
        return [max(len(raw.input_ids), len(noisy.input_ids) if noisy else 0) for raw, noisy, _, _ in self.items]

    def uses_noisy(self, index: int) -> bool:
        raw, noisy, _, rate = self.items[index]
        return noisy is not None and random.Random(f"{self.seed}:{index}:{self.epoch}").random() < rate

    def __getitem__(self, index: int) -> dict[str, Any]:
        raw, noisy, d, _ = self.items[index]
        use = self.uses_noisy(index)
        chosen = noisy if use and noisy is not None else raw
        return {"input_ids": chosen.input_ids, "labels": chosen.labels, "instruction_mask": chosen.instruction_mask,
                "prompt_mask": chosen.prompt_mask, "distortion": d if use else 0.0, "task": self.task_of[index]}


class LengthGroupedSampler(torch.utils.data.Sampler):
    """Random order, then longest-first within windows of 50 batches, so batches pad little.

    Seeded by (seed, epoch) through ``set_epoch`` (the Trainer calls it), so a resumed run sees the
    same order as a straight one, also across epoch boundaries.
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int, window_batches: int = 50) -> None:
        self.lengths, self.window, self.seed, self.epoch = list(lengths), batch_size * window_batches, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self):
        order = torch.randperm(len(self.lengths), generator=torch.Generator().manual_seed(self.seed + self.epoch))
        order = order.tolist()
        for start in range(0, len(order), self.window):
            yield from sorted(order[start:start + self.window], key=lambda i: -self.lengths[i])


@dataclass
class Collator:
    """Right-pads a batch; padding gets attention 0, label -100 and mask 0."""

    pad_token_id: int

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        width = max(len(f["input_ids"]) for f in features)

        def pad(key: str, value: int) -> torch.Tensor:
            return torch.tensor([f[key] + [value] * (width - len(f[key])) for f in features])

        return {
            "input_ids": pad("input_ids", self.pad_token_id),
            "attention_mask": torch.tensor([[1] * len(f["input_ids"]) + [0] * (width - len(f["input_ids"]))
                                            for f in features]),
            "labels": pad("labels", -100),
            "instruction_mask": pad("instruction_mask", 0),
            "prompt_mask": pad("prompt_mask", 0),
            "distortion": torch.tensor([float(f["distortion"]) for f in features]),
            "task": torch.tensor([int(f.get("task", 0)) for f in features]),
        }
