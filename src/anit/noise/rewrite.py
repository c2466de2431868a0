"""Model-written noise: ``paraphrase`` keeps the instruction's intent, ``opposite`` inverts it.

The rewriting model loads through the same code as training (default: the embedded SmolLM2 instruct
model). Each instruction gets ``k`` distinct rewrites (greedy first, then seeded samples), cached on disk by
model, kind and instruction, so a rerun does not regenerate; each record draws one of them with its own seed.
An output that is empty, equal to the input, runaway-long, a duplicate, an echo of the rewriting request, or (for
``opposite``) free of any negation or reversal is rejected and counted; what still fails is reported and the
instruction is left unchanged.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from anit.generation import generate
from anit.tasks.prompt import as_model_input, uses_chat
from anit.jsonl import write_json
from anit.noise.operators import NOISES, NoiseType, Noisy

PROMPTS = {
    "paraphrase": ("Rewrite the following task instruction using different words but keeping exactly the same "
                   "meaning. Reply with the rewritten instruction only.\n\nInstruction: {instruction}"),
    "opposite": ("Rewrite the following task instruction so that it asks for the opposite of what it asks now. "
                 "Reply with the rewritten instruction only.\n\nInstruction: {instruction}"),
}
_PREFIX = re.compile(r"^\s*(?:rewritten instruction|instruction|paraphrase|answer)\s*:\s*", re.IGNORECASE)


def clean(output: str) -> str:
    """The first non-empty line, without a label prefix or wrapping quotes."""
    line = next((ln for ln in output.splitlines() if ln.strip()), "")
    return _PREFIX.sub("", line).strip().strip('"\'“”').strip()


def rejection(original: str, candidate: str, max_ratio: float = 3.0) -> str | None:
    """Why ``candidate`` is not a usable rewrite of ``original``, or None when it is."""
    if not candidate:
        return "empty output"
    if " ".join(candidate.lower().split()).strip(" .") == " ".join(original.lower().split()).strip(" ."):
        return "identical to the input"
    if len(candidate.split()) > max_ratio * max(len(original.split()), 1) + 10:
        return "runaway-long output"
    return None


ECHO_WORDS = 5
"""Consecutive words of the rewriting request (not of the instruction) that make an output an echo of it."""


def _grams(text: str, n: int) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def echo_rejection(kind: str, original: str, candidate: str, n: int = ECHO_WORDS) -> str | None:
    """Why ``candidate`` talks about the rewriting instead of being an instruction: it repeats ``n`` consecutive
    words of the request the rewriter was sent that the instruction itself does not hold ("To rewrite the task,
    I'll rephrase it to ask for the opposite of what it asks now")."""
    request = _grams(PROMPTS[kind].format(instruction=""), n) - _grams(original, n)
    return "echoes the rewriting request" if _grams(candidate, n) & request else None


REVERSAL = re.compile(r"\b(?:not|no|never|nothing|none|neither|nor|without|except|avoid\w*|ignor\w*|refus\w*|"
                      r"opposite|revers\w*|contrar\w*|instead|incorrect\w*|wrong\w*|false\w*|unrelated|"
                      r"irrelevant|least|mis\w+|\w+n't)\b", re.IGNORECASE)
"""Words that negate or reverse a request; an ``opposite`` rewrite without one kept the request's meaning."""


def opposite_rejection(candidate: str) -> str | None:
    """Why ``candidate`` is not an opposite instruction: it holds no negation or reversal word (``REVERSAL``).

    The 135M rewriter often returns a paraphrase when asked for the opposite; this rule catches that without a
    second model (a similarity threshold cannot: an instruction and its negation embed close together).
    """
    return None if REVERSAL.search(candidate) else "no negation or reversal (kept the meaning)"


@dataclass
class Rewriter:
    """Batched, cached, validated rewriting of instructions by a causal LM: ``k`` distinct rewrites per
    instruction (the greedy one first, then seeded samples), each record drawing one of them."""

    model_name: str = "smollm2-135m"
    cache_path: Path | None = None
    batch_size: int = 8
    retries: int = 2
    max_new_tokens: int = 64
    seed: int = 0
    k: int = 8
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    rejections: Counter = field(default_factory=Counter)
    _model: Any = None
    _tokenizer: Any = None
    _cache: dict[str, list[str]] | None = None

    def _key(self, kind: str, instruction: str) -> str:
        return hashlib.sha256(f"{self.model_name}\0{kind}\0{instruction}".encode()).hexdigest()

    def _load_cache(self) -> dict[str, list[str]]:
        if self._cache is None:
            path = self.cache_path
            self._cache = {}
            if path and path.exists():
                try:
                    held = json.loads(path.read_text(encoding="utf-8"))
                    if not isinstance(held, dict):
                        raise ValueError("not a mapping")
                    self._cache = {key: [value] if isinstance(value, str) else
                                   dict(value) if isinstance(value, dict) else list(value)
                                   for key, value in held.items()}
                except (ValueError, TypeError) as err:
                    print(f"note: rewrite cache {path} is corrupted ({err}); rebuilding it", file=sys.stderr)
        return self._cache

    def _load_model(self) -> None:
        if self._model is None:
            from anit.models import gpu_map, load_model, load_tokenizer

            self._tokenizer = load_tokenizer(self.model_name)
            self._model = load_model(self.model_name, device_map=gpu_map())

    def _accept(self, kind: str, original: str, candidate: str, held: list[str]) -> str | None:
        reason = (rejection(original, candidate) or echo_rejection(kind, original, candidate)
                  or (opposite_rejection(candidate) if kind == "opposite" else None))
        if reason is None and candidate in held:
            reason = "duplicate of an earlier rewrite"
        return reason

    def variants(self, kind: str, instructions: Sequence[str]) -> dict[str, list[str]]:
        """Up to ``k`` distinct accepted rewrites of each instruction; what the cache lacks is generated, once: an
        instruction whose retries ran out short of ``k`` is marked tried and not generated again for this ``k``."""
        cache = self._load_cache()
        unique = list(dict.fromkeys(instructions))
        held = {text: cache.setdefault(self._key(kind, text), []) for text in unique}
        tried = cache.setdefault("tried", {})
        todo = sorted(text for text in unique if len(held[text]) < self.k and
                      tried.get(self._key(kind, text), 0) < self.k)
        if todo:
            self._load_model()
            chat = uses_chat(self._tokenizer, "auto")
            reasons: dict[str, str] = {}
            for attempt in range(self.retries + 1):
                sample = attempt > 0 or any(held[t] for t in todo)
                asked = [t for t in todo for _ in range(2 * (self.k - len(held[t])) if sample else 1)]
                prompts = [as_model_input(self._tokenizer, PROMPTS[kind].format(instruction=t), chat,
                                          "\nRewritten instruction:") for t in asked]
                outputs = generate(self._model, self._tokenizer, prompts, self.max_new_tokens, self.batch_size,
                                   do_sample=sample, temperature=0.9, seed=self.seed + attempt,
                                   stop_at_newline=False, progress=f"{kind} (try {attempt + 1})")
                for text, output in zip(asked, outputs):
                    if len(held[text]) >= self.k:
                        continue
                    candidate = clean(output)
                    reason = self._accept(kind, text, candidate, held[text])
                    if reason:
                        reasons[text] = reason
                        self.rejections[reason] += 1
                    else:
                        held[text].append(candidate)
                todo = [t for t in todo if len(held[t]) < self.k]
                if not todo:
                    break
            self.failures.extend((kind, text, reasons[text]) for text in todo if not held[text])
            tried.update({self._key(kind, text): self.k for text in todo})
            if self.cache_path:
                write_json(self.cache_path, cache)
        return {text: held[text][:self.k] for text in unique}

    def rewrite(self, kind: str, instructions: Sequence[str], draws: Sequence[int] | None = None) -> list[Noisy]:
        """One rewrite per instruction: variant ``draws[i] % count`` (the first without ``draws``)."""
        table = self.variants(kind, instructions)
        results = []
        for i, text in enumerate(instructions):
            options = table[text]
            if not options:
                results.append(Noisy(text, 0, "model rewrite rejected after retries; left unchanged"))
                continue
            rewritten = options[(draws[i] if draws is not None else 0) % len(options)]
            results.append(Noisy(rewritten, len(rewritten.split())))
        return results


for _kind, _text in (("paraphrase", "a language model rewrites the instruction, keeping its intent"),
                     ("opposite", "a language model rewrites the instruction to ask for the opposite")):
    NOISES.add(_kind, NoiseType(_kind, Rewriter.rewrite, _text, batched=True))
