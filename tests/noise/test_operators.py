import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anit.noise import NOISES
from anit.noise.operators import adjacent_keys, count, typo

RULE_NOISES = [name for name in NOISES if not NOISES.get(name).batched]
INSTRUCTIONS = [
    "Identify every named entity in the text and label it with one of the given entity types.",
    "Classify the text into one of the given categories.",
    "Extract every aspect term, the opinion term about it, and the sentiment expressed, as triplets.",
    "Find all correct relations and include the first entity that is positive.",
]


def apply(name, text, rate=0.3, seed=1, mode="fixed"):
    return NOISES.get(name).apply(text, rate, random.Random(seed), mode)


@pytest.mark.parametrize("name", RULE_NOISES)
def test_noise_changes_instruction_and_is_deterministic(name):
    for text in INSTRUCTIONS:
        first, second = apply(name, text), apply(name, text)
        assert first == second
        if first.note is None:
            assert first.text != text and first.changed >= 1
    outcomes = {apply(name, INSTRUCTIONS[0], seed=s).text for s in range(5)}
    assert len(outcomes) > 1 or name in ("truncate_front", "truncate_rear", "antonym_replace")


@pytest.mark.parametrize("name", [n for n in RULE_NOISES if n != "antonym_replace"])
def test_noise_changes_typical_instructions(name):
    assert apply(name, INSTRUCTIONS[1]).note is None


def test_antonym_replace_uses_wordnet_antonyms():
    result = apply("antonym_replace", INSTRUCTIONS[3], rate=1.0)
    assert result.note is None and result.changed >= 3
    assert {"incorrect", "exclude", "negative"} & set(result.text.replace(".", "").split())


@pytest.mark.parametrize("name", RULE_NOISES)
@pytest.mark.parametrize("text", ["", "Classify", "Klassifiziere den Text über Größe 日本語 テキスト"])
def test_noise_survives_empty_one_word_and_non_ascii(name, text):
    result = apply(name, text)
    assert isinstance(result.text, str)
    if result.text == text:
        assert result.note and "unchanged" in result.note


@pytest.mark.parametrize("name", ["random_replace", "frequent_replace", "rare_replace", "char_typo"])
@pytest.mark.parametrize("rate", [0.1, 0.25, 0.5, 1.0])
def test_replacements_touch_exactly_k_words(name, rate):
    text = INSTRUCTIONS[0]
    words = text.split()
    k = math.ceil(rate * len(words))
    result = apply(name, text, rate=rate)
    new = result.text.split()
    assert result.changed == k and len(new) == len(words)
    assert sum(a != b for a, b in zip(words, new)) == k


@pytest.mark.parametrize("where", ["front", "rear", "random"])
def test_truncation_and_padding_lengths(where):
    text = INSTRUCTIONS[0]
    n, k = len(text.split()), math.ceil(0.3 * len(text.split()))
    assert len(apply(f"truncate_{where}", text).text.split()) == n - k
    shuffled = apply(f"truncate_shuffle_{where}", text).text.split()
    assert sorted(shuffled) == sorted(text.split()) and shuffled != text.split()
    pad = "context" if where == "random" else where
    assert len(apply(f"pad_{pad}", text).text.split()) == n + k
    assert len(apply("pad_unrelated", text).text.split()) == n + k


def test_truncate_front_and_rear_cut_the_right_end():
    words = INSTRUCTIONS[1].split()
    assert apply("truncate_front", INSTRUCTIONS[1], rate=0.25).text.split() == words[3:]
    assert apply("truncate_rear", INSTRUCTIONS[1], rate=0.25).text.split() == words[:-3]
    padded = apply("pad_front", INSTRUCTIONS[1], rate=0.25).text.split()
    assert padded[3:] == words


def test_random_mode_draws_k_up_to_the_fixed_count():
    rng = random.Random(0)
    draws = {count(10, 0.5, rng, "random") for _ in range(200)}
    assert draws == {1, 2, 3, 4, 5}
    assert count(10, 0.5, rng, "fixed") == 5 and count(0, 0.5, rng) == 0 and count(7, 0.0, rng) == 0


def test_keyboard_typos():
    assert adjacent_keys("g") == "tyfhvb"
    assert set(adjacent_keys("a")) == {"q", "w", "s", "z"}
    assert adjacent_keys("A").isupper()
    rng = random.Random(3)
    for _ in range(200):
        out = typo("keyboard", rng)
        assert out != "keyboard" and abs(len(out) - len("keyboard")) <= 1


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80), st.floats(0, 1), st.integers(0, 2**32))
def test_rule_noise_never_crashes(text, rate, seed):
    for name in RULE_NOISES:
        result = NOISES.get(name).apply(text, rate, random.Random(seed), "random")
        assert isinstance(result.text, str) and result.changed >= 0


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5, 1.0])
def test_stress_test_and_checklist_append_promptbenchs_distractors(rate):
    import re

    from anit.noise.operators import TAUTOLOGIES

    text = INSTRUCTIONS[0]
    k = math.ceil(rate * len(text.split()))
    stressed = apply("stress_test", text, rate)
    assert stressed.text.startswith(text + " ")
    tail = stressed.text[len(text) + 1:]
    clauses = re.findall("|".join(TAUTOLOGIES), tail)
    assert " ".join(clauses) == tail and k <= stressed.changed == len(tail.split()) < k + 5
    checked = apply("checklist", text, rate)
    extra = checked.text[len(text) + 1:].split()
    assert checked.text.startswith(text + " ") and len(extra) == checked.changed == k
    assert all(re.fullmatch(r"[A-Za-z0-9]{10}", seq) for seq in extra)
    assert apply("checklist", text, rate, seed=2).text != checked.text
