"""Relation extraction: answers ``head | relation | tail; ...`` or ``none``.

    Text: ... Bobby Fischer ... in Reykjavik , Iceland .
    Answer: Bobby Fischer | /people/person/nationality | Iceland; Iceland | /location/country/capital | Reykjavik
"""

from __future__ import annotations

from anit.tasks.base import TASKS, Task
from anit.tasks.triplets import SCORING, triplet_parser

INSTRUCTIONS = (
    "Extract every relation between entities in the text as a triplet of head entity, relation and tail entity.",
    "Please find all pairs of entities in the following text that are related, and state how they are related.",
    "Identify the relational facts expressed in the sentence, using only the relation types provided.",
    "Read the text and list each (subject, relation, object) fact that it states.",
    "List all entity pairs in the input together with the relation that holds between them.",
    "Your task is to perform relation extraction: output the head entity, the relation label and the tail entity.",
    "Determine which of the given relations link entities in the text, and write each as a triplet.",
)

parse_answer = triplet_parser(label_slot=1)

TASK = TASKS.register("re")(Task(
    name="re",
    question="Which relations from the options hold between entities in the text?",
    format="head | relation | tail; head | relation | tail (answer none if there are no relations)",
    instructions=INSTRUCTIONS,
    parse_answer=parse_answer,
    **SCORING,
    max_new_tokens=128,
))
