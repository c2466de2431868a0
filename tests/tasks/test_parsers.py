from hypothesis import example, given, settings
from hypothesis import strategies as st

from anit.tasks import TASKS
from anit.tasks.absa import SENTIMENT_ALIASES
from anit.tasks.absa import parse_answer as parse_absa
from anit.tasks.classification import parse_answer as parse_tc
from anit.tasks.ner import format_answer as format_ner
from anit.tasks.ner import parse_answer as parse_ner
from anit.tasks.triplets import format_triplets as format_re
from anit.tasks.relation import parse_answer as parse_re

_chars = st.characters(blacklist_characters=";|:\n\r()", blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"))
_word = st.text(_chars, min_size=1, max_size=8)
_phrase = st.lists(_word, min_size=1, max_size=4).map(" ".join).filter(
    lambda s: s.strip(" .!").lower() not in ("none", "none.", "no entities", "no triplets", "")
    and not s.lower().startswith("answer"))
_entities = st.lists(st.tuples(_phrase, _phrase), max_size=6)
_triplets = st.lists(st.tuples(_phrase, _phrase, _phrase), max_size=6)


@given(_entities)
def test_ner_roundtrip(entities):
    assert parse_ner(format_ner(entities)) == entities


@given(_triplets)
@example([("0", "0", "NEU"), ("screen", "dim", "Pos"), ("keys", "fine", "neutral")])
def test_triplet_roundtrip(triplets):
    assert parse_re(format_re(triplets)) == triplets
    spelled = [(a, o, SENTIMENT_ALIASES.get(s.lower(), s)) for a, o, s in triplets]
    assert TASKS.get("absa").parse_answer(TASKS.get("absa").format_answer(triplets)) == spelled


@given(st.sampled_from(["World", "Sports", "Business", "Sci/Tech"]))
def test_label_roundtrip(label):
    tc = TASKS.get("tc")
    assert tc.parse_answer(tc.format_answer(label), ["World", "Sports", "Business", "Sci/Tech"]) == label


@settings(max_examples=300)
@given(st.text())
def test_parsers_never_raise(text):
    for task in TASKS:
        TASKS.get(task).parse_answer(text, ["person", "location"])
        TASKS.get(task).parse_answer(text, None)


def test_ner_is_forgiving_of_real_model_output():
    text = "  Answer:  PERSON :  Anna   Smith ; Location: Paris;person: Anna Smith\n\nExplanation: Anna is a person."
    assert parse_ner(text, ["person", "location"]) == [("person", "Anna Smith"), ("location", "Paris"),
                                                       ("person", "Anna Smith")]
    assert parse_ner("organization: U.S. Army;", ["organization"]) == [("organization", "U.S. Army")]
    assert parse_ner("None.", ["person"]) == []
    assert parse_ner("I cannot tell.", ["person"]) is None
    assert parse_ner("work of art: Star Wars: Episode I", ["WORK_OF_ART"]) == [("WORK_OF_ART", "Star Wars: Episode I")]


def test_ner_stops_at_an_echoed_prompt_field():
    assert parse_ner("person: Anna\nText: Anna met Bob", ["person"]) == [("person", "Anna")]


def test_triplets_forgive_parentheses_case_and_aliases():
    assert parse_re("(Anna | Used-For | Paris); broken item; a | b", ["USED-FOR"]) == [("Anna", "USED-FOR", "Paris")]
    assert parse_absa("pasta | great | POS; service|slow|Negative", ["positive", "negative", "neutral"]) == [
        ("pasta", "great", "positive"), ("service", "slow", "negative")]


def test_classification_exact_then_earliest_mention():
    options = ["negative", "positive"]
    assert parse_tc(" Positive.", options) == "positive"
    assert parse_tc("The sentiment is negative, not positive", options) == "negative"
    assert parse_tc("unclear", options) is None
    assert parse_tc("It is about Sci/Tech", ["World", "Sci/Tech"]) == "Sci/Tech"
    assert parse_tc("nonnegative", options) is None
