"""Rule-based ("hard") distortion: edit distances and overlap metrics, each normalised to [0, 1].

    >>> word_edit("classify the text", "classify a text")
    0.3333333333333333
"""

from __future__ import annotations

import operator
from typing import Callable, Sequence

import numpy as np
from rapidfuzz.distance import Levenshtein

from anit.distortion.base import register_batch_scorer, register_scorer
from anit.distortion.ngrams import OverlapStats, char_sequences, distinct, overlap_stats, word_sequences
from anit.distortion.tokenize13a import tokenize_13a

CHRF_ORDER = 6
BLEU_ORDER = 4


def _distances(raws: Sequence[str], noisys: Sequence[str], similarity: np.ndarray) -> list[float]:
    """1 - similarity, clipped to [0, 1]; exactly 0 where the noisy instruction equals the raw one."""
    same = np.fromiter(map(operator.eq, raws, noisys), dtype=bool, count=len(raws))
    return np.where(same, 0.0, np.clip(1.0 - similarity, 0.0, 1.0)).tolist()


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


def _pair_stats(raws: Sequence[str], noisys: Sequence[str],
                encode: Callable[[list[str], int], tuple[np.ndarray, np.ndarray]], order: int) -> OverlapStats:
    """n-gram statistics of every (noisy, raw) pair, each distinct raw instruction encoded and counted once;
    ``encode(texts, k)`` turns texts, the first k of them the references, into concatenated symbol ids and
    lengths."""
    refs, ref_of = distinct(raws)
    flat, lens = encode(refs + list(noisys), len(refs))
    split = int(lens[:len(refs)].sum())
    return overlap_stats(flat[split:], lens[len(refs):], flat[:split], lens[:len(refs)], order, ref_of)


@register_batch_scorer("chrf", "hard")
def chrf(raws: Sequence[str], noisys: Sequence[str]) -> list[float]:
    """1 - chrF of the noisy instruction against the raw one (sacrebleu's sentence chrF, computed in bulk)."""
    stats = _pair_stats(raws, noisys, lambda texts, _: char_sequences(texts), CHRF_ORDER)
    return _distances(raws, noisys, chrf_scores(stats.matches, stats.hyp_total, stats.ref_total))


@register_batch_scorer("bleu", "hard")
def bleu(raws: Sequence[str], noisys: Sequence[str]) -> list[float]:
    """1 - sentence BLEU (13a tokens, exp smoothing, effective order) of the noisy instruction against the raw one."""
    stats = _pair_stats(raws, noisys, lambda texts, known: word_sequences(tokenize_13a([t.rstrip() for t in texts]),
                                                                          known), BLEU_ORDER)
    hyp_len, ref_len = stats.hyp_total[:, 0], stats.ref_total[:, 0]
    return _distances(raws, noisys, bleu_scores(stats.matches, stats.hyp_total, hyp_len, ref_len))


def chrf_scores(matches: np.ndarray, hyp_total: np.ndarray, ref_total: np.ndarray, beta: float = 2.0) -> np.ndarray:
    """chrF in [0, 1] per row, as sacrebleu computes it: precision and recall averaged over the orders
    both sides have, then their F-beta."""
    eps = 1e-16
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(hyp_total > 0, matches / hyp_total, eps)
        rec = np.where(ref_total > 0, matches / ref_total, eps)
    both = (hyp_total > 0) & (ref_total > 0)
    orders = both.sum(axis=1)
    avg_prec = np.where(orders > 0, (prec * both).sum(axis=1) / np.maximum(orders, 1), 0.0)
    avg_rec = np.where(orders > 0, (rec * both).sum(axis=1) / np.maximum(orders, 1), 0.0)
    factor = beta ** 2
    denom = factor * avg_prec + avg_rec
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(avg_prec + avg_rec > 0, (1 + factor) * avg_prec * avg_rec / denom, 0.0)


def bleu_scores(matches: np.ndarray, totals: np.ndarray, hyp_len: np.ndarray, ref_len: np.ndarray) -> np.ndarray:
    """Sentence BLEU in [0, 1] per row, as sacrebleu computes it with ``effective_order`` and ``exp``
    smoothing: orders stop at the first the hypothesis lacks, and each order without a match counts
    as 1 / (2^k * total) for the k-th such order."""
    rows = len(matches)
    alive = np.ones(rows, dtype=bool)
    smooth = np.ones(rows)
    log_sum = np.zeros(rows)
    used = np.zeros(rows)
    with np.errstate(divide="ignore", invalid="ignore"):
        for n in range(matches.shape[1]):
            alive &= totals[:, n] > 0
            missed = alive & (matches[:, n] == 0)
            smooth = np.where(missed, smooth * 2, smooth)
            precision = np.where(matches[:, n] == 0, 1.0 / (smooth * totals[:, n]), matches[:, n] / totals[:, n])
            log_sum += np.where(alive, np.log(np.where(alive, precision, 1.0)), 0.0)
            used += alive
        brevity = np.where(hyp_len >= ref_len, 1.0,
                           np.where(hyp_len > 0, np.exp(1 - ref_len / np.maximum(hyp_len, 1)), 0.0))
        score = brevity * np.exp(log_sum / np.maximum(used, 1))
    return np.where(matches.sum(axis=1) > 0, score, 0.0)
