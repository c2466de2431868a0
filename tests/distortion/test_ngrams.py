from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sacrebleu.metrics import BLEU, CHRF

from anit.distortion import SCORERS
from anit.distortion.ngrams import overlap_stats


def brute_matches(hyp, ref, order):
    out = []
    for n in range(1, order + 1):
        h = Counter(tuple(hyp[i:i + n]) for i in range(len(hyp) - n + 1))
        r = Counter(tuple(ref[i:i + n]) for i in range(len(ref) - n + 1))
        out.append(sum(min(c, r[g]) for g, c in h.items()))
    return out


def stats_of(hyps, refs, order):
    def flat(seqs):
        return (np.array([x for s in seqs for x in s], dtype=np.int64),
                np.array([len(s) for s in seqs], dtype=np.int64))

    return overlap_stats(*flat(hyps), *flat(refs), order)


sequences = st.lists(st.integers(0, 5), max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(sequences, sequences), min_size=1, max_size=12), st.integers(1, 6))
def test_overlap_counts_equal_counting_with_dictionaries(pairs, order):
    hyps, refs = [h for h, _ in pairs], [r for _, r in pairs]
    stats = stats_of(hyps, refs, order)
    assert stats.matches.tolist() == [brute_matches(h, r, order) for h, r in pairs]
    assert stats.hyp_total.tolist() == [[max(len(h) - n + 1, 0) for n in range(1, order + 1)] for h in hyps]


def test_wide_alphabets_split_into_chunks_and_fall_back_to_dictionaries(monkeypatch):
    from anit.distortion import ngrams

    calls = {"packed": 0, "counter": 0}
    for name, key in (("_packed_matches", "packed"), ("_counter_matches", "counter")):
        original = getattr(ngrams, name)

        def spy(*args, _original=original, _key=key):
            calls[_key] += 1
            return _original(*args)

        monkeypatch.setattr(ngrams, name, spy)
    rng = np.random.default_rng(0)
    huge = rng.permutation(3000)[:1500].tolist()
    wide = [(rng.permutation(400) + 1000 * k).tolist() for k in range(4)]
    hyps = [huge] + wide + [[1, 2, 3, 1, 2]]
    refs = [huge[::-1] + huge[:50]] + [w[::-1] + w[:30] for w in wide] + [[1, 2, 1, 2, 3]]
    stats = stats_of(hyps, refs, 6)
    assert stats.matches.tolist() == [brute_matches(h, r, 6) for h, r in zip(hyps, refs)]
    assert calls["counter"] == 1 and calls["packed"] >= 2


texts = st.text(alphabet=st.sampled_from("ab cd,.!éZ\n"), max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(texts, texts), min_size=1, max_size=10))
def test_chrf_and_bleu_equal_sacrebleu_sentence_scores(pairs):
    raws, noisys = [r for r, _ in pairs], [n for _, n in pairs]
    chrf, bleu = CHRF(), BLEU(effective_order=True)
    for name, metric in (("chrf", chrf), ("bleu", bleu)):
        want = [0.0 if r == n else min(1.0, max(0.0, 1 - metric.sentence_score(n, [r]).score / 100))
                for r, n in pairs]
        assert SCORERS.get(name).score(raws, noisys) == pytest.approx(want, abs=1e-9)
