from collections import Counter

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

from anit.distortion import SCORERS, ngrams
from anit.distortion.ngrams import char_sequences, overlap_stats, word_sequences
from anit.distortion.tokenize13a import tokenize_13a


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


@settings(max_examples=150, deadline=None)
@given(st.lists(sequences, min_size=1, max_size=5), st.lists(st.integers(0, 4), min_size=1, max_size=15),
       st.integers(1, 5), st.integers(1, 4))
def test_shared_references_count_like_one_reference_per_pair(refs, picks, order, chunk):
    ref_of = np.array([p % len(refs) for p in picks])
    hyps = [refs[(p + 1) % len(refs)][::-1] + [p % 6] for p in picks]
    hyp_flat = np.array([x for h in hyps for x in h], dtype=np.int64)
    ref_flat = np.array([x for r in refs for x in r], dtype=np.int64)
    lens = np.array([len(r) for r in refs], dtype=np.int64)
    original = ngrams.CHUNK
    ngrams.CHUNK = chunk
    try:
        stats = overlap_stats(hyp_flat, np.array([len(h) for h in hyps]), ref_flat, lens, order, ref_of)
    finally:
        ngrams.CHUNK = original
    assert stats.matches.tolist() == [brute_matches(h, refs[r], order) for h, r in zip(hyps, ref_of)]
    assert stats.ref_total.tolist() == [[max(len(refs[r]) - n + 1, 0) for n in range(1, order + 1)] for r in ref_of]


def test_wide_alphabets_split_into_chunks_and_fall_back_to_dictionaries(monkeypatch):
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
lines = st.text(alphabet=st.sampled_from("ab 09.,-&;quotamplg<>/\n!?()[]{}'\"é~_\\^`|@:=+*#$%\t"), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.lists(lines, max_size=8))
@example(["x..5 and 3.5", "plain, line."])
def test_bulk_13a_tokens_equal_sacrebleu_line_by_line(batch):
    tokenize = Tokenizer13a()
    assert [line.split() for line in tokenize_13a(batch)] == [tokenize(line).split() for line in batch]


@settings(deadline=None)
@given(st.lists(st.lists(st.text(alphabet="ab\ue000!", min_size=1, max_size=3), max_size=5), max_size=6))
def test_word_ids_are_one_dense_vocabulary_whatever_the_words(token_lists):
    flat, lens = word_sequences([" ".join(tokens) for tokens in token_lists])
    assert lens.tolist() == [len(tokens) for tokens in token_lists]
    words = [w for tokens in token_lists for w in tokens]
    assert len(flat) == len(words)
    assert all((flat[i] == flat[j]) == (words[i] == words[j]) for i in range(len(words)) for j in range(len(words)))


@settings(deadline=None)
@given(st.lists(st.lists(st.text(alphabet="abc!", min_size=1, max_size=2), max_size=5), max_size=6), st.integers(0, 6))
def test_only_known_lines_words_get_ids_of_their_own(token_lists, known):
    flat, lens = word_sequences([" ".join(tokens) for tokens in token_lists], known)
    assert lens.tolist() == [len(tokens) for tokens in token_lists]
    named = {w for tokens in token_lists[:known] for w in tokens}
    words = [w for tokens in token_lists for w in tokens]
    unknown = {int(i) for i, w in zip(flat, words) if w not in named}
    assert len(unknown) <= 1 and unknown.isdisjoint(int(i) for i, w in zip(flat, words) if w in named)
    assert all((flat[i] == flat[j]) == (words[i] == words[j]) for i in range(len(words)) for j in range(len(words))
               if words[i] in named or words[j] in named)


def test_character_ids_are_shared_by_all_texts():
    flat, lens = char_sequences(["ab c", "", "\U0001F600ba"])
    assert lens.tolist() == [3, 0, 3]
    assert flat.tolist() == [0, 1, 2, 3, 1, 0]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(texts, texts), min_size=1, max_size=10))
def test_chrf_and_bleu_equal_sacrebleu_sentence_scores(pairs):
    raws, noisys = [r for r, _ in pairs], [n for _, n in pairs]
    chrf, bleu = CHRF(), BLEU(effective_order=True)
    for name, metric in (("chrf", chrf), ("bleu", bleu)):
        want = [0.0 if r == n else min(1.0, max(0.0, 1 - metric.sentence_score(n, [r]).score / 100))
                for r, n in pairs]
        assert SCORERS.get(name).score(raws, noisys) == pytest.approx(want, abs=1e-9)
