"""Word lists and text that noise draws from: wordfreq's English frequency list and WordNet.

* general vocabulary: the 50,000 most frequent alphabetic English words of ``wordfreq``;
* frequent words: the first 2,000 of them; rare words: ranks 20,000-50,000;
* unrelated text: WordNet's example sentences (``"she was able to program her computer"``);
* synonyms and antonyms: WordNet lemmas, read through NLTK.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from anit.errors import AnitError

FREQUENT_SIZE, RARE_START, VOCAB_SIZE = 2_000, 20_000, 50_000
WORDNET_HELP = ("WordNet is not installed for NLTK. Run `make setup`, or: apt-get install wordnet-base "
                "wordnet-sense-index && python -m anit.noise.wordnet_setup")


@lru_cache(maxsize=1)
def vocabulary() -> tuple[str, ...]:
    import wordfreq

    words = [w for w in wordfreq.top_n_list("en", VOCAB_SIZE + 5_000) if w.isascii() and w.isalpha()]
    return tuple(words[:VOCAB_SIZE])


@lru_cache(maxsize=1)
def frequent_words() -> tuple[str, ...]:
    return vocabulary()[:FREQUENT_SIZE]


@lru_cache(maxsize=1)
def rare_words() -> tuple[str, ...]:
    return vocabulary()[RARE_START:]


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


@lru_cache(maxsize=1)
def wordnet():
    from nltk.corpus import wordnet as wn

    try:
        wn.ensure_loaded()
    except LookupError:
        raise AnitError(WORDNET_HELP) from None
    return wn


@lru_cache(maxsize=1)
def unrelated_sentences() -> tuple[str, ...]:
    """WordNet's quoted example sentences of five or more words, read straight from its data files."""
    import nltk

    try:
        root = Path(nltk.data.find("corpora/wordnet"))
    except LookupError:
        raise AnitError(WORDNET_HELP) from None
    quoted = re.compile(r'"([^"]+)"')
    sentences: list[str] = []
    for pos in ("noun", "verb", "adj", "adv"):
        with open(root / f"data.{pos}", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("  ") or "|" not in line:
                    continue
                for sentence in quoted.findall(line.split("|", 1)[1]):
                    if len(sentence.split()) >= 5:
                        sentences.append(sentence.strip())
    return tuple(sentences)


@lru_cache(maxsize=65_536)
def synonyms(word: str) -> tuple[str, ...]:
    lower = word.lower()
    found = {lemma.name().replace("_", " ") for synset in wordnet().synsets(lower) for lemma in synset.lemmas()}
    return tuple(sorted(w for w in found if w.lower() != lower))


@lru_cache(maxsize=65_536)
def antonyms(word: str) -> tuple[str, ...]:
    lower = word.lower()
    wn = wordnet()
    bases = {lower} | {wn.morphy(lower, pos) for pos in ("n", "v", "a", "r")} - {None}
    found = {ant.name().replace("_", " ") for synset in wn.synsets(lower) for lemma in synset.lemmas()
             if lemma.name().lower() in bases for ant in lemma.antonyms()}
    return tuple(sorted(w for w in found if w.lower() != lower))
