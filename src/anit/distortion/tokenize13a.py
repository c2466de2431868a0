"""sacrebleu's ``13a`` tokenisation (mteval-v13a, as WMT uses it) of many lines in one pass.

sacrebleu tokenises one line at a time with four regular expressions, in order:

1. space around most ASCII punctuation: a plain character replacement;
2. ``([^0-9])([\\.,])`` -> ``\\1 \\2 ``: a period or comma after a non-digit;
3. ``([\\.,])([^0-9])`` -> `` \\1 \\2``: a period or comma before a non-digit;
4. ``([0-9])(-)`` -> ``\\1 \\2 ``: a dash after a digit.

Each line is padded with a space on each side, so lines joined by newlines (which 13a turns into
spaces inside a line beforehand) never interact, and every step runs once over the joined text.
Steps 2 and 3 consume the neighbouring character, which matters only where two periods or commas
touch. Lines without that take a faster route: each step becomes a replacement of the lone character
with a one-character look-ahead (step 2 and 4 on the reversed text), which gives the same tokens.

    >>> [line.split() for line in tokenize_13a(["Classify it, please.", "a-b 3-4 ...", "1,000.5"])]
    [['Classify', 'it', ',', 'please', '.'], ['a-b', '3', '-', '4', '...'], ['1,000.5']]
"""

from __future__ import annotations

import re
from typing import Sequence

_SPACED = [chr(c) for low, high in [(0x7B, 0x7E), (0x5B, 0x60), (0x20, 0x26), (0x28, 0x2B), (0x3A, 0x40), (0x2F, 0x2F)]
           for c in range(low, high + 1) if c != 0x20]
_EXACT = [(re.compile(r"([^0-9])([\.,])"), r"\1 \2 "), (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),
          (re.compile(r"([0-9])(-)"), r"\1 \2 ")]
_BEFORE_NON_DIGIT = [(re.compile(r"\.(?=[^0-9])"), " . "), (re.compile(r",(?=[^0-9])"), " , ")]
_DASH_BEFORE_DIGIT = (re.compile(r"-(?=[0-9])"), " - ")
_TOUCHING = re.compile(r"[\.,]{2}")
_TOUCHING_PAIRS = ("..", ".,", ",.", ",,")
_ENTITIES = [("&quot;", '"'), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">")]


def _prepare(line: str) -> str:
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        for entity, char in _ENTITIES:
            line = line.replace(entity, char)
    return f" {line} "


def _space_punctuation(text: str) -> str:
    for char in _SPACED:
        if char in text:
            text = text.replace(char, f" {char} ")
    return text


def _fast(text: str) -> str:
    """Steps 2 to 4 for text where no two periods or commas touch (step 2 on the reversed text)."""
    backwards = text[::-1]
    for pattern, replacement in _BEFORE_NON_DIGIT + [_DASH_BEFORE_DIGIT]:
        backwards = pattern.sub(replacement, backwards)
    text = backwards[::-1]
    for pattern, replacement in _BEFORE_NON_DIGIT:
        text = pattern.sub(replacement, text)
    return text


def _exact(text: str) -> str:
    for pattern, replacement in _EXACT:
        text = pattern.sub(replacement, text)
    return text


def tokenize_13a(lines: Sequence[str]) -> list[str]:
    """Each line's 13a tokens, separated by whitespace: ``tokenize_13a(lines)[i].split()`` equals
    ``Tokenizer13a()(lines[i]).split()``."""
    prepared = [_prepare(line) for line in lines]
    text = "\n".join(prepared)
    touching = [i for i, line in enumerate(prepared) if _TOUCHING.search(line)] \
        if any(pair in text for pair in _TOUCHING_PAIRS) else []
    out = _fast(_space_punctuation(text)).split("\n") if lines else []
    if touching:
        for i, line in zip(touching, _exact(_space_punctuation("\n".join(prepared[i] for i in touching))).split("\n")):
            out[i] = line
    return out
