"""Exact n-gram overlap statistics for many (hypothesis, reference) pairs at once, in numpy.

chrF (character n-grams) and BLEU (word n-grams) both need, for every pair and order n, the number
of n-grams on each side and the clipped matches: the sum over n-grams of min(count in hypothesis,
count in reference). Counting them with Python dictionaries costs microseconds per n-gram; here every
sequence is a run of dense symbol ids, each n-gram is packed into one integer together with its pair,
and one sort per order counts all pairs' n-grams together.

    >>> import numpy as np
    >>> flat, lens = char_sequences(["abab", "abba"])
    >>> stats = overlap_stats(flat[:4], lens[:1], flat[4:], lens[1:], 2)
    >>> stats.matches.tolist(), stats.hyp_total.tolist(), stats.ref_total.tolist()
    ([[4, 2]], [[4, 3]], [[4, 3]])
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from collections import Counter
from dataclasses import dataclass
from typing import Hashable, Sequence

import numpy as np

CHUNK = 2048
"""Most pairs counted together: larger runs sort no faster per key once their keys outgrow the cache."""


@dataclass
class OverlapStats:
    """Per pair (rows) and order 1..max_order (columns): clipped matches and each side's n-gram count."""

    matches: np.ndarray
    hyp_total: np.ndarray
    ref_total: np.ndarray


def char_sequences(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Dense symbol ids of every text's characters, whitespace removed (one alphabet for all texts),
    concatenated, and each text's length."""
    stripped = ["".join(t.split()) for t in texts]
    points = np.frombuffer("".join(stripped).encode("utf-32-le"), dtype=np.uint32)
    lookup = np.cumsum(np.bincount(points) > 0) - 1 if len(points) else points
    return lookup[points].astype(np.int64), np.fromiter(map(len, stripped), dtype=np.int64, count=len(stripped))


def word_sequences(lines: Sequence[str], known: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids of the whitespace-separated words of every line (one vocabulary for all lines),
    concatenated, and each line's word count.

    With ``known``, only the words of the first ``known`` lines get ids of their own and every other word
    shares the last id. Overlap counts against those lines stay exact (an n-gram holding such a word is
    in none of them), and the vocabulary, hence the packed n-gram keys, stays small.
    """
    text = "\n".join(lines)
    codes = itertools.chain(range(0xE000, 0x110000), range(0x21, 0xE000))
    marker = next(c for c in map(chr, codes) if not c.isspace() and c not in text)
    words = "".join(f"{line} {marker} " for line in lines).split()
    named = words if known is None else "".join(f"{line} {marker} " for line in lines[:known]).split()
    vocab = {w: i for i, w in enumerate(dict.fromkeys(itertools.chain([marker], named)))}
    ids = np.fromiter(map(vocab.get, words, itertools.repeat(len(vocab))), dtype=np.int64, count=len(words))
    ends = np.flatnonzero(ids == 0)
    return ids[ids != 0] - 1, np.diff(np.concatenate([[-1], ends])) - 1


def distinct(items: Sequence[Hashable]) -> tuple[list[Hashable], np.ndarray]:
    """The distinct items in first-seen order, and the index of each item among them."""
    index: dict[Hashable, int] = {}
    of = np.fromiter((index.setdefault(x, len(index)) for x in items), dtype=np.int64, count=len(items))
    return list(index), of


def overlap_stats(hyp_flat: np.ndarray, hyp_lens: np.ndarray, ref_flat: np.ndarray, ref_lens: np.ndarray,
                  max_order: int, ref_of: np.ndarray | None = None) -> OverlapStats:
    """Statistics of pair i = (hypothesis i, reference ``ref_of[i]``), for the concatenated sequences of
    non-negative symbol ids given. Without ``ref_of`` there is one reference per pair. References usually
    repeat (a few raw instructions, many noisy variants): pass each once with ``ref_of`` and their side
    is counted once. Runs of pairs are counted on threads, one per core (numpy's sorts release the GIL)."""
    pairs = len(hyp_lens)
    if ref_of is None:
        if len(ref_lens) != pairs:
            raise ValueError(f"{pairs} hypotheses but {len(ref_lens)} references")
        ref_of = np.arange(pairs)
    orders = np.arange(1, max_order + 1)
    hyp_total = np.maximum(hyp_lens[:, None] - orders + 1, 0)
    ref_total = np.maximum(ref_lens[ref_of][:, None] - orders + 1, 0)
    matches = np.zeros((pairs, max_order), dtype=np.int64)
    hyp_starts = np.concatenate([[0], np.cumsum(hyp_lens)])
    ref_starts = np.concatenate([[0], np.cumsum(ref_lens)])
    alphabet = int(max(hyp_flat.max(initial=0), ref_flat.max(initial=0))) + 1
    symbols_upto = np.concatenate([[0], np.cumsum(hyp_lens + ref_lens[ref_of])])
    runs = []
    start = 0
    while start < pairs:
        stop = _chunk_end(symbols_upto, alphabet, start, max_order)
        runs.append((start, stop))
        start = max(stop, start + 1)

    def count(run: tuple[int, int]) -> None:
        """Matches of pairs start..stop; an empty run is the one pair at ``start`` too wide to pack."""
        start, stop = run
        if stop == start:
            r = ref_of[start]
            matches[start] = _counter_matches(hyp_flat[hyp_starts[start]:hyp_starts[start + 1]],
                                              ref_flat[ref_starts[r]:ref_starts[r + 1]], max_order)
            return
        used, local_of = np.unique(ref_of[start:stop], return_inverse=True)
        hyp = hyp_flat[hyp_starts[start]:hyp_starts[stop]]
        ref = np.concatenate([ref_flat[ref_starts[r]:ref_starts[r + 1]] for r in used])
        symbols = alphabet
        if not _fits(alphabet, stop - start, max_order):
            codes = np.unique(np.concatenate([hyp, ref]), return_inverse=True)[1]
            hyp, ref = codes[:len(hyp)], codes[len(hyp):]
            symbols = int(codes.max(initial=0)) + 1
        matches[start:stop] = _packed_matches(hyp, hyp_lens[start:stop], ref, ref_lens[used], local_of, symbols,
                                              max_order)

    with ThreadPoolExecutor(max_workers=min(len(runs), os.cpu_count() or 1) or 1) as pool:
        list(pool.map(count, runs))
    return OverlapStats(matches, hyp_total, ref_total)


def _fits(symbols: int, pairs: int, max_order: int) -> bool:
    """Whether keys of ``max_order`` symbols (one more id for the separator) above a pair index fit 64 bits."""
    return max_order * _bits(symbols + 1) + _bits(pairs + 1) <= 64


def _chunk_end(symbols_upto: np.ndarray, alphabet: int, start: int, max_order: int) -> int:
    """The end of the longest run of at most ``CHUNK`` pairs from ``start`` whose packed keys surely fit in
    64 bits (``start`` if none): a run holds at most ``alphabet`` distinct symbols, and at most as many as
    its symbols (its hypotheses' plus its pairs' references')."""
    low, high = start, min(len(symbols_upto) - 1, start + CHUNK)
    while low < high:
        mid = (low + high + 1) // 2
        if _fits(min(alphabet, int(symbols_upto[mid] - symbols_upto[start])), mid - start, max_order):
            low = mid
        else:
            high = mid - 1
    return low


def _bits(count: int) -> int:
    return max(1, int(count - 1).bit_length())


def _packed_matches(hyp: np.ndarray, hyp_lens: np.ndarray, ref: np.ndarray, ref_lens: np.ndarray,
                    ref_of: np.ndarray, symbols: int, max_order: int) -> np.ndarray:
    """Clipped matches of pair i = (hypothesis i, reference ``ref_of[i]``); symbol ids are below ``symbols``.

    Pairs are put in reference order, so the pairs of one reference are one run of pair indices, and the
    hypotheses are laid end to end with a separator id between them (n-grams across a boundary hold it,
    and never match). Per order, one sort of keys (the n-gram's symbols above the pair index) counts every
    hypothesis n-gram per pair. Each reference's n-grams (counted once the same way) then find the run of
    keys with their n-gram and their pairs by binary search, and every pair takes min(its count, the
    reference's) of each n-gram it shares.
    """
    pairs = len(hyp_lens)
    order = np.argsort(ref_of, kind="stable")
    sorted_refs = ref_of[order]
    first = np.searchsorted(sorted_refs, np.arange(len(ref_lens))).astype(np.uint64)
    end = np.searchsorted(sorted_refs, np.arange(len(ref_lens)), side="right").astype(np.uint64)
    lens = hyp_lens[order]
    src = np.concatenate([[0], np.cumsum(hyp_lens)])[order]
    dst = np.concatenate([[0], np.cumsum(lens + 1)])[:-1]
    total = int(lens.sum())
    offsets = np.arange(total) - np.repeat(np.cumsum(lens) - lens, lens)
    laid = np.full(total + pairs, symbols, dtype=np.uint64)
    laid[np.repeat(dst, lens) + offsets] = hyp[np.repeat(src, lens) + offsets]
    bits, tag_bits = np.uint64(_bits(symbols + 1)), np.uint64(_bits(pairs + 1))
    ref_bits = np.uint64(_bits(len(ref_lens)))
    tag = np.repeat(np.arange(pairs, dtype=np.uint64), lens + 1)
    ref_codes = ref.astype(np.uint64)
    ref_tag = np.repeat(np.arange(len(ref_lens), dtype=np.uint64), ref_lens)
    ref_left = np.repeat(np.cumsum(ref_lens), ref_lens) - np.arange(len(ref))
    out = np.zeros((pairs, max_order), dtype=np.int64)
    hc, rc = laid, ref_codes
    for n in range(1, max_order + 1):
        if n > 1:
            hc = (hc[:-1] << bits) | laid[n - 1:]
            rc = (rc[:-1] << bits) | ref_codes[n - 1:]
        keys, counts = _runs(np.sort((hc << tag_bits) | tag[:len(hc)]))
        ref_keys, ref_counts = _runs(np.sort(((rc << ref_bits) | ref_tag[:len(rc)])[ref_left[:len(rc)] >= n]))
        if not len(ref_keys):
            continue
        grams = (ref_keys >> ref_bits) << tag_bits
        owner = (ref_keys & ((np.uint64(1) << ref_bits) - np.uint64(1))).astype(np.int64)
        low = np.searchsorted(keys, grams + first[owner])
        high = np.searchsorted(keys, grams + end[owner])
        limit = np.cumsum(np.bincount(low, weights=ref_counts, minlength=len(keys) + 1)
                          - np.bincount(high, weights=ref_counts, minlength=len(keys) + 1))[:len(keys)]
        pair = (keys & ((np.uint64(1) << tag_bits) - np.uint64(1))).astype(np.int64)
        out[:, n - 1] = np.bincount(pair, weights=np.minimum(counts, limit), minlength=pairs).astype(np.int64)
    result = np.empty_like(out)
    result[order] = out
    return result


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
