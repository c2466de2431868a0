"""Aspect sentiment triplet extraction: answers ``aspect | opinion | sentiment; ...`` or ``none``.

    Text: Boot time is super fast , around anywhere from 35 seconds to 1 minute .
    Answer: Boot time | fast | positive
"""

from __future__ import annotations

from anit.tasks.base import TASKS, Task
from anit.tasks.triplets import SCORING, triplet_parser

INSTRUCTIONS = (
    "Extract every aspect term, the opinion term about it, and the sentiment expressed, as triplets.",
    "Please find each aspect mentioned in the review, the words that express an opinion on it, and its polarity.",
    "Identify the (aspect, opinion, sentiment) triplets in the following sentence.",
    "Read the review and list the aspects it evaluates, the opinion words used, and whether each is positive, "
    "negative or neutral.",
    "Your task is aspect sentiment triplet extraction: give the target, the opinion span and the sentiment.",
    "For every product or service feature discussed in the text, state the opinion expression and its sentiment.",
    "List the aspect terms in the text together with their opinion words and sentiment labels.",
)

SENTIMENT_ALIASES = {"pos": "positive", "neg": "negative", "neu": "neutral"}
"""Short sentiment labels (any case) that the parser writes out in full."""

parse_answer = triplet_parser(label_slot=2, aliases=SENTIMENT_ALIASES)

TASK = TASKS.register("absa")(Task(
    name="absa",
    question="Which aspects does the text evaluate, with which opinion words and which sentiment?",
    format="aspect | opinion | sentiment; aspect | opinion | sentiment (answer none if there are none)",
    instructions=INSTRUCTIONS,
    parse_answer=parse_answer,
    **SCORING,
    max_new_tokens=96,
))
