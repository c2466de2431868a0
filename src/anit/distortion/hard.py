"""Rule-based ("hard") distortion: edit distances and overlap metrics, each normalised to [0, 1].

    >>> word_edit("classify the text", "classify a text")
    0.3333333333333333
"""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein

from anit.distortion.base import register_scorer


def _clip(value: float) -> float:
    return min(1.0, max(0.0, value))


@register_scorer("word_edit", "hard")
def word_edit(raw: str, noisy: str) -> float:
    """Word-level Levenshtein distance divided by the longer length."""
    return Levenshtein.normalized_distance(raw.split(), noisy.split())


@register_scorer("char_edit", "hard")
def char_edit(raw: str, noisy: str) -> float:
    """Character-level Levenshtein distance divided by the longer length."""
    return Levenshtein.normalized_distance(raw, noisy)


@register_scorer("jaccard", "hard")
def jaccard(raw: str, noisy: str) -> float:
    """1 - Jaccard similarity of the lower-cased word sets."""
    a, b = set(raw.lower().split()), set(noisy.lower().split())
    if not a and not b:
        return 0.0
    return 1.0 - len(a & b) / len(a | b)


@register_scorer("chrf", "hard")
def chrf(raw: str, noisy: str) -> float:
    """1 - chrF (sacrebleu) of the noisy instruction against the raw one."""
    from sacrebleu.metrics import CHRF

    if raw == noisy:
        return 0.0
    return _clip(1.0 - CHRF().sentence_score(noisy, [raw]).score / 100.0)


@register_scorer("bleu", "hard")
def bleu(raw: str, noisy: str) -> float:
    """1 - smoothed sentence BLEU (sacrebleu) of the noisy instruction against the raw one."""
    from sacrebleu.metrics import BLEU

    if raw == noisy:
        return 0.0
    return _clip(1.0 - BLEU(effective_order=True).sentence_score(noisy, [raw]).score / 100.0)
