"""Rule-based noise types: pure, seeded functions ``(instruction, rate, rng, mode) -> Noisy``.

Each touches only the instruction. Word-level types change k words, with k = ceil(rate x words) in
``fixed`` mode or a random k in [1, that] in ``random`` mode::

    >>> random_replace("Classify the text into one of the categories.", 0.2, random.Random(3)).text
    'Classify the text into yellow of the categories.'

A noise never returns the raw instruction unchanged unless it is too short to change; then
``Noisy.note`` says so. ``char_typo`` puts one keyboard typo into each of k words.
"""

from __future__ import annotations

import math
import random
import string
from dataclasses import dataclass
from typing import Callable, Sequence

from anit.noise import lexicon
from anit.registry import Registry


@dataclass(frozen=True)
class Noisy:
    text: str
    changed: int
    note: str | None = None


@dataclass(frozen=True)
class NoiseType:
    """A registered noise: ``apply`` for rule-based ones; model-based ones set ``batched``."""

    name: str
    apply: Callable[..., Noisy]
    description: str
    batched: bool = False


NOISES: Registry[NoiseType] = Registry("noise type")
MODES = ("fixed", "random")


def register_noise(name: str, description: str) -> Callable[[Callable[..., Noisy]], Callable[..., Noisy]]:
    def decorator(fn: Callable[..., Noisy]) -> Callable[..., Noisy]:
        NOISES.add(name, NoiseType(name, fn, description))
        return fn

    return decorator


def count(n_words: int, rate: float, rng: random.Random, mode: str = "fixed") -> int:
    """How many words to touch: ceil(rate x n) (at least 1 for a positive rate), or a random 1..that."""
    if n_words == 0 or rate <= 0:
        return 0
    k = max(1, math.ceil(rate * n_words - 1e-9))
    return rng.randint(1, k) if mode == "random" else k


def _too_short(instruction: str, why: str = "too short to change") -> Noisy:
    return Noisy(instruction, 0, f"instruction {why}; left unchanged")


def _replace(instruction: str, rate: float, rng: random.Random, mode: str, pool: Sequence[str]) -> Noisy:
    words = instruction.split()
    k = count(len(words), rate, rng, mode)
    if k == 0:
        return _too_short(instruction)
    for position in rng.sample(range(len(words)), k):
        new = rng.choice(pool)
        while new.lower() == words[position].lower():
            new = rng.choice(pool)
        words[position] = new
    return Noisy(" ".join(words), k)


@register_noise("random_replace", "replace k words with random words of a 50,000-word English vocabulary")
def random_replace(instruction: str, rate: float, rng: random.Random, mode: str = "fixed") -> Noisy:
    return _replace(instruction, rate, rng, mode, lexicon.vocabulary())


@register_noise("frequent_replace", "replace k words with words from the 2,000 most frequent English words")
def frequent_replace(instruction: str, rate: float, rng: random.Random, mode: str = "fixed") -> Noisy:
    return _replace(instruction, rate, rng, mode, lexicon.frequent_words())


@register_noise("rare_replace", "replace k words with rare English words (frequency ranks 20,000-50,000)")
def rare_replace(instruction: str, rate: float, rng: random.Random, mode: str = "fixed") -> Noisy:
    return _replace(instruction, rate, rng, mode, lexicon.rare_words())


def _cut_positions(n: int, k: int, where: str, rng: random.Random) -> list[int]:
    if where == "front":
        return list(range(k))
    if where == "rear":
        return list(range(n - k, n))
    return sorted(rng.sample(range(n), k))


def _truncate(instruction: str, rate: float, rng: random.Random, mode: str, where: str) -> Noisy:
    words = instruction.split()
    if len(words) < 2:
        return _too_short(instruction)
    k = min(count(len(words), rate, rng, mode), len(words) - 1)
    cut = set(_cut_positions(len(words), k, where, rng))
    return Noisy(" ".join(w for i, w in enumerate(words) if i not in cut), k)


def _truncate_shuffle(instruction: str, rate: float, rng: random.Random, mode: str, where: str) -> Noisy:
    words = instruction.split()
    if len(words) < 2:
        return _too_short(instruction)
    k = min(count(len(words), rate, rng, mode), len(words) - 1)
    cut = _cut_positions(len(words), k, where, rng)
    moved = [words[i] for i in cut]
    rest = [w for i, w in enumerate(words) if i not in set(cut)]
    slots = [i for i in range(1, len(rest)) if rest[:i] + moved + rest[i:] != words] or \
            [i for i in range(len(rest) + 1) if rest[:i] + moved + rest[i:] != words]
    if not slots:
        return _too_short(instruction, "has no other order of its words")
    at = rng.choice(slots)
    return Noisy(" ".join(rest[:at] + moved + rest[at:]), k)


def _pad(instruction: str, rate: float, rng: random.Random, mode: str, where: str) -> Noisy:
    words = instruction.split()
    k = count(max(len(words), 1), rate, rng, mode)
    extra = [rng.choice(lexicon.vocabulary()) for _ in range(k)]
    if where == "front":
        out = extra + words
    elif where == "rear":
        out = words + extra
    else:
        half = (k + 1) // 2
        out = extra[:half] + words + extra[half:]
    return Noisy(" ".join(out), k)


_PLACES = {"front": "the front", "rear": "the rear", "random": "random positions"}
for _where, _place in _PLACES.items():
    register_noise(f"truncate_{_where}", f"drop k words from {_place} of the instruction")(
        lambda instruction, rate, rng, mode="fixed", where=_where: _truncate(instruction, rate, rng, mode, where))
    register_noise(f"truncate_shuffle_{_where}",
                   f"cut k words from {_place} and re-insert them at a random interior position")(
        lambda instruction, rate, rng, mode="fixed", where=_where:
        _truncate_shuffle(instruction, rate, rng, mode, where))
for _where, _text in (("front", "before"), ("rear", "after"), ("context", "split before and after")):
    register_noise(f"pad_{_where}", f"add k random words {_text} the instruction")(
        lambda instruction, rate, rng, mode="fixed", where=_where: _pad(instruction, rate, rng, mode, where))


@register_noise("pad_unrelated", "add k words of unrelated natural text (WordNet example sentences) before or after")
def pad_unrelated(instruction: str, rate: float, rng: random.Random, mode: str = "fixed") -> Noisy:
    words = instruction.split()
    k = count(max(len(words), 1), rate, rng, mode)
    sentences = lexicon.unrelated_sentences()
    extra: list[str] = []
    while len(extra) < k:
        extra.extend(rng.choice(sentences).split())
    extra = extra[:k]
    out = extra + words if rng.random() < 0.5 else words + extra
    return Noisy(" ".join(out), k)


def _lexical(instruction: str, rate: float, rng: random.Random, mode: str,
             lookup: Callable[[str], tuple[str, ...]], kind: str) -> Noisy:
    words = instruction.split()
    candidates = []
    for i, word in enumerate(words):
        core = word.strip(".,;:!?\"'()")
        if core.isalpha() and len(core) > 2 and core.lower() not in lexicon.stop_words() and lookup(core):
            candidates.append((i, core))
    if not candidates:
        return _too_short(instruction, f"has no word with a WordNet {kind}")
    k = min(count(len(words), rate, rng, mode), len(candidates))
    for i, core in rng.sample(candidates, k):
        new = rng.choice(lookup(core))
        if core[0].isupper():
            new = new[0].upper() + new[1:]
        words[i] = words[i].replace(core, new, 1)
    return Noisy(" ".join(words), k)


@register_noise("synonym_replace", "replace k content words with WordNet synonyms (words without one are kept)")
def synonym_replace(instruction: str, rate: float, rng: random.Random, mode: str = "fixed") -> Noisy:
    return _lexical(instruction, rate, rng, mode, lexicon.synonyms, "synonym")


@register_noise("antonym_replace", "replace k content words with WordNet antonyms (words without one are kept)")
def antonym_replace(instruction: str, rate: float, rng: random.Random, mode: str = "fixed") -> Noisy:
    return _lexical(instruction, rate, rng, mode, lexicon.antonyms, "antonym")


_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_POSITION = {c: (r, i) for r, row in enumerate(_ROWS) for i, c in enumerate(row)}


def adjacent_keys(char: str) -> str:
    """Keys next to ``char`` on a staggered QWERTY keyboard: ``g`` -> ``tyfhvb``."""
    lower = char.lower()
    if lower not in _POSITION:
        return ""
    row, col = _POSITION[lower]
    spots = [(row - 1, col), (row - 1, col + 1), (row, col - 1), (row, col + 1), (row + 1, col - 1), (row + 1, col)]
    near = [_ROWS[r][c] for r, c in spots if 0 <= r < 3 and 0 <= c < len(_ROWS[r])]
    return "".join(k.upper() if char.isupper() else k for k in near)


def typo(word: str, rng: random.Random) -> str:
    """One keyboard-adjacent substitution, insertion, deletion or transposition inside ``word``."""
    letters = [i for i, c in enumerate(word) if c.lower() in _POSITION]
    if not letters:
        return word + rng.choice(_ROWS[0])
    i = rng.choice(letters)
    ops = ["substitute", "insert"] + (["delete"] if len(word) > 1 else []) + \
          (["transpose"] if i + 1 < len(word) and word[i] != word[i + 1] else [])
    op = rng.choice(ops)
    if op == "substitute":
        return word[:i] + rng.choice(adjacent_keys(word[i])) + word[i + 1:]
    if op == "insert":
        return word[:i + 1] + rng.choice(adjacent_keys(word[i])) + word[i + 1:]
    if op == "delete":
        return word[:i] + word[i + 1:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


@register_noise("char_typo",
                "one keyboard typo (adjacent-key substitution, insertion, deletion, transposition) in k words")
def char_typo(instruction: str, rate: float, rng: random.Random, mode: str = "fixed") -> Noisy:
    words = instruction.split()
    k = count(len(words), rate, rng, mode)
    if k == 0:
        return _too_short(instruction)
    for position in rng.sample(range(len(words)), k):
        words[position] = typo(words[position], rng)
    return Noisy(" ".join(words), k)


def _appended(instruction: str, extra: Sequence[str]) -> str:
    """``instruction`` with ``extra`` after it, one space apart (nothing before it when it is empty)."""
    return " ".join(part for part in (instruction.strip(), *extra) if part)


TAUTOLOGIES = ("and true is true", "and false is not true")
"""PromptBench's StressTest distractors: clauses that add words but no meaning."""


@register_noise("stress_test", "append tautologies ('and true is true', 'and false is not true') until k words are "
                               "added (PromptBench's StressTest)")
def stress_test(instruction: str, rate: float, rng: random.Random, mode: str = "fixed") -> Noisy:
    k = count(max(len(instruction.split()), 1), rate, rng, mode)
    clauses: list[str] = []
    added = 0
    while added < k:
        clauses.append(rng.choice(TAUTOLOGIES))
        added += len(clauses[-1].split())
    return Noisy(_appended(instruction, clauses), added)


SEQUENCE = 10
"""Characters in a CheckList random sequence, as PromptBench draws them."""


@register_noise("checklist", "append k random 10-character letter-and-digit sequences (PromptBench's CheckList)")
def checklist(instruction: str, rate: float, rng: random.Random, mode: str = "fixed") -> Noisy:
    k = count(max(len(instruction.split()), 1), rate, rng, mode)
    alphabet = string.ascii_letters + string.digits
    extra = ["".join(rng.choice(alphabet) for _ in range(SEQUENCE)) for _ in range(k)]
    return Noisy(_appended(instruction, extra), k)
