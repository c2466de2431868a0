"""A record written by hand: what its task supplies, and what still has to be there."""

import json

import pytest

from anit.data.prepare import prepare
from anit.records import EVALUATION, TRAINING, completed, problem
from anit.tasks import TASKS

SUPPLIED = ("question", "format", "instruction", "gold")


SPLITS = [("sst2", "dev"), ("ag_news", "test"), ("conll2003", "test"), ("aste_14res", "dev"), ("nyt", "dev"),
          ("scierc", "dev"), ("ontonotes5", "dev")]


@pytest.mark.parametrize("name,split", SPLITS)
def test_a_record_without_what_its_task_supplies_gets_back_the_prepared_one(name, split, fixture_data):
    records, _ = prepare(name, split, 20, 0, data_dir=fixture_data)
    assert records
    for prepared in records:
        bare = {k: v for k, v in json.loads(json.dumps(prepared)).items() if k not in SUPPLIED}
        assert completed(bare) == prepared
        assert problem(bare, EVALUATION) is None and problem(bare, TRAINING) is None


def test_what_the_record_gives_is_kept_and_an_unknown_task_is_left_alone():
    record = {"id": "t1", "dataset": "tickets", "task": "tc", "instruction": "Is it urgent?", "options": ["urgent",
              "routine"], "input": "The site is down.", "output": "urgent", "gold": "routine"}
    assert completed(dict(record)) == {**record, "question": TASKS.get("tc").question,
                                       "format": TASKS.get("tc").format}
    unknown = {"id": "t1", "task": "summarise", "input": "x", "output": "y"}
    assert completed(dict(unknown)) == unknown


def test_an_output_the_parser_cannot_read_leaves_gold_missing():
    record = completed({"id": "t1", "dataset": "tickets", "task": "tc", "options": ["urgent", "routine"],
                        "input": "The site is down.", "output": "no idea"})
    assert "gold" not in record and problem(record, EVALUATION) == "missing field(s) gold"
