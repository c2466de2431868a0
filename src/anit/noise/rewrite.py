"""Model-written noise: ``paraphrase`` keeps the instruction's intent, ``opposite`` inverts it.

The rewriting model loads through the same code as training (default: the embedded SmolLM2 instruct
model). Rewrites are generated in batches and cached on disk, keyed by model, kind and instruction, so
a rerun does not regenerate. An output that is empty, equal to the input, or runaway-long is rejected
and retried with sampling; what still fails is reported and the instruction is left unchanged.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from anit.generation import as_model_input, generate, uses_chat
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


@dataclass
class Rewriter:
    """Batched, cached, validated rewriting of instructions by a causal LM."""

    model_name: str = "smollm2-135m"
    cache_path: Path | None = None
    batch_size: int = 8
    retries: int = 2
    max_new_tokens: int = 64
    seed: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    _model: Any = None
    _tokenizer: Any = None
    _cache: dict[str, str] | None = None

    def _key(self, kind: str, instruction: str) -> str:
        return hashlib.sha256(f"{self.model_name}\0{kind}\0{instruction}".encode()).hexdigest()

    def _load_cache(self) -> dict[str, str]:
        if self._cache is None:
            path = self.cache_path
            self._cache = json.loads(path.read_text(encoding="utf-8")) if path and path.exists() else {}
        return self._cache

    def _load_model(self) -> None:
        if self._model is None:
            from anit.models import gpu_map, load_model, load_tokenizer

            self._tokenizer = load_tokenizer(self.model_name)
            self._model = load_model(self.model_name, device_map=gpu_map())

    def rewrite(self, kind: str, instructions: Sequence[str]) -> list[Noisy]:
        cache = self._load_cache()
        todo = sorted({text for text in instructions if self._key(kind, text) not in cache})
        if todo:
            self._load_model()
            chat = uses_chat(self._tokenizer, "auto")
            reasons: dict[str, str] = {}
            for attempt in range(self.retries + 1):
                prompts = [as_model_input(self._tokenizer, PROMPTS[kind].format(instruction=t), chat,
                                          "\nRewritten instruction:") for t in todo]
                outputs = generate(self._model, self._tokenizer, prompts, self.max_new_tokens, self.batch_size,
                                   do_sample=attempt > 0, temperature=0.9, seed=self.seed + attempt,
                                   stop_at_newline=False, progress=f"{kind} (try {attempt + 1})")
                left = []
                for text, output in zip(todo, outputs):
                    candidate = clean(output)
                    reasons[text] = rejection(text, candidate) or ""
                    if reasons[text]:
                        left.append(text)
                    else:
                        cache[self._key(kind, text)] = candidate
                todo = left
                if not todo:
                    break
            self.failures.extend((kind, text, reasons[text]) for text in todo)
            if self.cache_path:
                write_json(self.cache_path, cache)
        results = []
        for text in instructions:
            rewritten = cache.get(self._key(kind, text))
            results.append(Noisy(rewritten, len(rewritten.split())) if rewritten else
                           Noisy(text, 0, "model rewrite rejected after retries; left unchanged"))
        return results


for _kind, _text in (("paraphrase", "a language model rewrites the instruction, keeping its intent"),
                     ("opposite", "a language model rewrites the instruction to ask for the opposite")):
    NOISES.add(_kind, NoiseType(_kind, Rewriter.rewrite, _text, batched=True))
