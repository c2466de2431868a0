import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tiny  # noqa: E402

from anit.evaluation.run import EvalOptions, choice_predictions, conditions, evaluate, gaps  # noqa: E402
from anit.generation import as_model_input, generate  # noqa: E402
from anit.models import load_model, load_tokenizer  # noqa: E402
from anit.tasks.base import context_block  # noqa: E402

RECORDS = [
    {"id": str(i), "dataset": "sst2", "task": "tc", "instruction": "Classify the text.", "question": "Which label?",
     "format": "one label", "options": ["negative", "positive"], "input": text, "gold": gold, "output": gold,
     "noisy_instruction": "Clasify teh text.", "noise_type": "char_typo", "distortion": {"word_edit": 0.5}}
    for i, (text, gold) in enumerate([("a warm funny film", "positive"), ("dull and far too long", "negative"),
                                      ("Anna Smith visited Paris and loved it", "positive")])
]


@pytest.fixture(scope="module")
def model_and_tokenizer(tmp_path_factory):
    folder = tiny.build(tmp_path_factory.mktemp("tiny_eval"), chat=True, seed=3)
    return load_model(str(folder)), load_tokenizer(str(folder))


def test_batched_greedy_equals_one_at_a_time(model_and_tokenizer):
    model, tok = model_and_tokenizer
    prompts = [as_model_input(tok, context_block(r), True) for r in RECORDS]
    batched = generate(model, tok, prompts, 12, batch_size=3, stop_at_newline=False)
    single = [generate(model, tok, [p], 12, batch_size=1, stop_at_newline=False)[0] for p in prompts]
    assert batched == single


def test_choice_scoring_picks_the_highest_log_likelihood(model_and_tokenizer):
    model, tok = model_and_tokenizer
    prompt = as_model_input(tok, context_block(RECORDS[0]), True)
    options = ["negative", "positive", "neutral"]
    picked = choice_predictions(model, tok, [prompt], [options], True, batch_size=2)[0]
    ids = tok(prompt, add_special_tokens=False)["input_ids"]
    totals = {}
    for option in options:
        answer = tok(option, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logp = model(input_ids=torch.tensor([ids + answer])).logits.log_softmax(-1)[0]
        totals[option] = sum(float(logp[len(ids) - 1 + k, t]) for k, t in enumerate(answer))
    assert picked == max(totals, key=totals.get)


def test_unparseable_generation_counts_as_wrong(model_and_tokenizer, tmp_path, monkeypatch):
    from anit.evaluation import run

    model, tok = model_and_tokenizer
    monkeypatch.setattr(run, "generate", lambda *a, **k: ["positive", "I cannot say", "\x00???"])
    summary = evaluate(model, tok, RECORDS, ["raw"], tmp_path, EvalOptions())
    metrics = summary["conditions"]["raw"]["sst2"]
    assert metrics["unparseable"] == 2 and metrics["accuracy"] == pytest.approx(1 / 3)
    rows = [json.loads(line) for line in (tmp_path / "raw.predictions.jsonl").read_text().splitlines()]
    assert [r["correct"] for r in rows] == [True, False, False] and rows[1]["parsed"] is None
    assert json.loads((tmp_path / "raw.metrics.json").read_text())["sst2"]["n"] == 3


def test_conditions_and_gaps(tmp_path):
    assert list(conditions(RECORDS, "noisy")) == ["noisy-char_typo"]
    unseen = conditions(RECORDS, "unseen")["unseen"]
    assert all(ins != "Classify the text into one of the given categories." for _, ins in unseen)
    path = tmp_path / "mine.yaml"
    path.write_text("tc: [Sort it., Label it.]\nner: [Tag names.]\n")
    assert sorted(conditions(RECORDS, str(path))) == ["mine-ner-0", "mine-tc-0", "mine-tc-1"]
    result = {"raw": {"sst2": {"task": "tc", "accuracy": 0.8}}, "unseen": {"sst2": {"task": "tc", "accuracy": 0.5}}}
    assert gaps(result) == {"sst2": {"unseen": pytest.approx(-0.3)}}


def test_generation_all_conditions_end_to_end(model_and_tokenizer, tmp_path):
    model, tok = model_and_tokenizer
    summary = evaluate(model, tok, RECORDS, ["raw", "noisy", "unseen"], tmp_path, EvalOptions(max_new_tokens=6))
    assert set(summary["conditions"]) == {"raw", "noisy-char_typo", "unseen"}
    assert set(summary["gaps"]["sst2"]) == {"noisy-char_typo", "unseen"}
    for name in ("raw", "noisy-char_typo", "unseen"):
        assert (tmp_path / f"{name}.predictions.jsonl").exists() and (tmp_path / f"{name}.metrics.json").exists()
