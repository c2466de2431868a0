"""Exact n-gram overlap statistics for many (hypothesis, reference) pairs at once, in numpy.

chrF (character n-grams) and BLEU (word n-grams) both need, for every pair and order n, the number
of n-grams on each side and the clipped matches: the sum over n-grams of min(count in hypothesis,
count in reference). Counting them with Python dictionaries costs microseconds per n-gram; here every
sequence is a run of dense symbol ids, each n-gram is packed into one integer together with its pair,
and one sort per order counts all pairs' n-grams together.

    >>> import numpy as np
    >>> stats = overlap_stats(*char_sequences(["abab"]), *char_sequences(["abba"]), 2)
    >>> stats.matches.tolist(), stats.hyp_total.tolist(), stats.ref_total.tolist()
    ([[4, 2]], [[4, 3]], [[4, 3]])
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass
class OverlapStats:
    """Per pair (rows) and order 1..max_order (columns): clipped matches and each side's n-gram count."""

    matches: np.ndarray
    hyp_total: np.ndarray
    ref_total: np.ndarray


def char_sequences(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Code points of every text with whitespace removed, concatenated, and each text's length."""
    stripped = ["".join(t.split()) for t in texts]
    flat = np.frombuffer("".join(stripped).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    return flat, np.fromiter(map(len, stripped), dtype=np.int64, count=len(stripped))


def word_sequences(token_lists: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Word ids (one shared vocabulary), concatenated, and each list's length."""
    vocab: dict[str, int] = {}
    flat = np.fromiter((vocab.setdefault(w, len(vocab)) for tokens in token_lists for w in tokens), dtype=np.int64)
    return flat, np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))


def overlap_stats(hyp_flat: np.ndarray, hyp_lens: np.ndarray, ref_flat: np.ndarray, ref_lens: np.ndarray,
                  max_order: int) -> OverlapStats:
    """Statistics of pair i = (hypothesis i, reference i), for the concatenated sequences given."""
    pairs = len(hyp_lens)
    if len(ref_lens) != pairs:
        raise ValueError(f"{pairs} hypotheses but {len(ref_lens)} references")
    orders = np.arange(1, max_order + 1)
    hyp_total = np.maximum(hyp_lens[:, None] - orders + 1, 0)
    ref_total = np.maximum(ref_lens[:, None] - orders + 1, 0)
    matches = np.zeros((pairs, max_order), dtype=np.int64)
    hyp_starts = np.concatenate([[0], np.cumsum(hyp_lens)])
    ref_starts = np.concatenate([[0], np.cumsum(ref_lens)])
    start = 0
    while start < pairs:
        stop, symbols = _chunk_end(hyp_flat, hyp_starts, ref_flat, ref_starts, start, max_order)
        if stop == start:
            matches[start] = _counter_matches(hyp_flat[hyp_starts[start]:hyp_starts[start + 1]],
                                              ref_flat[ref_starts[start]:ref_starts[start + 1]], max_order)
            stop = start + 1
        else:
            matches[start:stop] = _packed_matches(hyp_flat[hyp_starts[start]:hyp_starts[stop]], hyp_lens[start:stop],
                                                  ref_flat[ref_starts[start]:ref_starts[stop]], ref_lens[start:stop],
                                                  symbols, max_order)
        start = stop
    return OverlapStats(matches, hyp_total, ref_total)


def _chunk_end(hyp_flat, hyp_starts, ref_flat, ref_starts, start: int, max_order: int) -> tuple[int, np.ndarray]:
    """The end of the longest run of pairs from ``start`` whose packed keys fit in 64 bits (``start`` if none),
    and the sorted symbols of that run."""
    pairs = len(hyp_starts) - 1
    stop = pairs
    while stop > start:
        symbols = np.unique(np.concatenate([hyp_flat[hyp_starts[start]:hyp_starts[stop]],
                                            ref_flat[ref_starts[start]:ref_starts[stop]]]))
        width = max_order * _bits(len(symbols)) + _bits(stop - start)
        if width <= 64:
            return stop, symbols
        stop = start + (stop - start) // 2
    return start, symbols


def _bits(count: int) -> int:
    return max(1, int(count - 1).bit_length())


def _packed_matches(hyp: np.ndarray, hyp_lens: np.ndarray, ref: np.ndarray, ref_lens: np.ndarray,
                    symbols: np.ndarray, max_order: int) -> np.ndarray:
    """Hypothesis n-grams are counted per pair by one sort of keys (symbols, ``bits`` each, above the pair
    index); each distinct reference is counted once the same way, and every hypothesis n-gram looks up
    its reference's count by binary search. References usually repeat (a few raw instructions, many
    noisy variants), so their side costs little. ``symbols``: every symbol of the run, sorted.
    """
    pairs = len(hyp_lens)
    ref_starts = np.concatenate([[0], np.cumsum(ref_lens)])
    distinct: dict[bytes, int] = {}
    ref_of = np.fromiter((distinct.setdefault(ref[a:b].tobytes(), len(distinct))
                          for a, b in zip(ref_starts[:-1], ref_starts[1:])), dtype=np.uint64, count=pairs)
    firsts = np.unique(ref_of, return_index=True)[1]
    uref = np.concatenate([ref[ref_starts[i]:ref_starts[i + 1]] for i in firsts]) if pairs else ref
    uref_lens = ref_lens[firsts]
    bits = np.uint64(_bits(len(symbols)))
    tag_bits = np.uint64(_bits(pairs))
    hyp_codes = np.searchsorted(symbols, hyp).astype(np.uint64)
    ref_codes = np.searchsorted(symbols, uref).astype(np.uint64)
    hyp_tag = np.repeat(np.arange(pairs, dtype=np.uint64), hyp_lens)
    ref_tag = np.repeat(np.arange(len(firsts), dtype=np.uint64), uref_lens)
    hyp_left = np.repeat(np.cumsum(hyp_lens), hyp_lens) - np.arange(len(hyp))
    ref_left = np.repeat(np.cumsum(uref_lens), uref_lens) - np.arange(len(uref))
    out = np.zeros((pairs, max_order), dtype=np.int64)
    hc, rc = hyp_codes, ref_codes
    for n in range(1, max_order + 1):
        if n > 1:
            hc = (hc[:-1] << bits) | hyp_codes[n - 1:]
            rc = (rc[:-1] << bits) | ref_codes[n - 1:]
        hyp_keys, hyp_counts = _runs(np.sort(((hc << tag_bits) | hyp_tag[:len(hc)])[hyp_left[:len(hc)] >= n]))
        ref_keys, ref_counts = _runs(np.sort(((rc << tag_bits) | ref_tag[:len(rc)])[ref_left[:len(rc)] >= n]))
        if not len(hyp_keys) or not len(ref_keys):
            continue
        owner = hyp_keys & ((np.uint64(1) << tag_bits) - np.uint64(1))
        query = ((hyp_keys >> tag_bits) << tag_bits) | ref_of[owner.astype(np.int64)]
        at = np.minimum(np.searchsorted(ref_keys, query), len(ref_keys) - 1)
        found = np.where(ref_keys[at] == query, ref_counts[at], 0)
        out[:, n - 1] = np.bincount(owner.astype(np.int64), weights=np.minimum(hyp_counts, found),
                                    minlength=pairs).astype(np.int64)
    return out


def _runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of a sorted array and how often each occurs."""
    if not len(keys):
        return keys, keys.astype(np.int64)
    first = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    return keys[first], np.diff(np.append(first, len(keys)))


def _counter_matches(hyp: np.ndarray, ref: np.ndarray, max_order: int) -> list[int]:
    """One pair with more distinct symbols than packing allows, counted with dictionaries."""
    h, r = hyp.tolist(), ref.tolist()
    out = []
    for n in range(1, max_order + 1):
        hc = Counter(tuple(h[i:i + n]) for i in range(len(h) - n + 1))
        rc = Counter(tuple(r[i:i + n]) for i in range(len(r) - n + 1))
        out.append(sum(min(c, rc[g]) for g, c in hc.items()))
    return out
