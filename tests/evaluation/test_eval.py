import copy
import json
import os
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given, strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tiny  # noqa: E402

from anit.evaluation.run import (EvalOptions, choice_predictions, choice_scores, condition_metrics,  # noqa: E402
                                 conditions, eval_precision, evaluate, limit_records, load_for_eval)
from anit.training.config import TrainConfig  # noqa: E402
from anit.generation import (MIN_SHARED, Openings, batch_order, generate, length_batches,  # noqa: E402
                             prepare_batch, shared_length)
from anit import models  # noqa: E402
from anit.models import gpu_map, load_model, load_tokenizer  # noqa: E402
from anit.tasks.prompt import as_model_input, context_block  # noqa: E402
from anit.errors import AnitError  # noqa: E402

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


def brute_force_scores(model, tok, prompt, options):
    ids = tok(prompt, add_special_tokens=False)["input_ids"]
    totals = {}
    for option in options:
        answer = tok(option, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logp = model(input_ids=torch.tensor([ids + answer])).logits.log_softmax(-1)[0]
        totals[option] = sum(float(logp[len(ids) - 1 + k, t]) for k, t in enumerate(answer))
    return totals


def test_choice_scoring_picks_the_highest_log_likelihood(model_and_tokenizer):
    model, tok = model_and_tokenizer
    texts = ["a warm funny film", "dull", "Anna Smith visited Paris and loved it", "far too long", "a film", "funny"]
    prompts = [as_model_input(tok, context_block({**RECORDS[0], "input": t}), True) for t in texts]
    options = [["negative", "positive", "neutral"], ["positive", "organization miscellaneous"],
               ["location", "a warm funny film", "none"], ["negative", "positive"], ["person", "Paris"], ["none"]]
    expected = [brute_force_scores(model, tok, p, o) for p, o in zip(prompts, options)]
    for size in (1, 4):
        scores = choice_scores(model, tok, prompts, options, True, batch_size=size)
        for got, want in zip(scores, expected):
            assert got == pytest.approx(want, abs=1e-4)
        picked = choice_predictions(model, tok, prompts, options, True, batch_size=size)
        assert picked == [max(o, key=e.get) for o, e in zip(options, expected)]


def test_batched_generation_of_an_adapter_matches_one_at_a_time(model_and_tokenizer):
    from peft import LoraConfig, get_peft_model

    model, tok = model_and_tokenizer
    torch.manual_seed(0)
    lora = get_peft_model(copy.deepcopy(model), LoraConfig(r=4, target_modules="all-linear", init_lora_weights=False))
    prompts = [as_model_input(tok, context_block({**RECORDS[0], "input": t}), True)
               for t in ("a warm funny film", "dull", "Anna Smith visited Paris and loved it", "far too long")]
    batched = generate(lora, tok, prompts, 10, batch_size=4, stop_at_newline=False)
    assert batched == [generate(lora, tok, [p], 10, batch_size=1, stop_at_newline=False)[0] for p in prompts]


def test_prepared_batch_gives_each_row_its_own_next_token_distribution(model_and_tokenizer):
    model, tok = model_and_tokenizer
    prompts = [as_model_input(tok, context_block({**RECORDS[0], "input": t}), True)
               for t in ("a warm funny film", "dull", "Anna Smith visited Paris and loved it")]
    rows = [tok(p, add_special_tokens=False)["input_ids"] for p in prompts]
    inputs = prepare_batch(model, rows, tok.pad_token_id)
    assert inputs.cached >= MIN_SHARED
    with torch.no_grad():
        out = model(input_ids=inputs.input_ids[:, inputs.cached:], attention_mask=inputs.attention_mask,
                    position_ids=inputs.position_ids[:, inputs.cached:], cache=inputs.cache)
        for k, row in enumerate(rows):
            alone = model(input_ids=torch.tensor([row])).logits[0, -1]
            assert torch.allclose(out.logits[k, -1], alone, atol=1e-5)


def test_choice_scoring_of_a_model_left_in_training_mode_has_no_dropout(model_and_tokenizer):
    from peft import LoraConfig, get_peft_model

    model, tok = model_and_tokenizer
    torch.manual_seed(0)
    lora = get_peft_model(copy.deepcopy(model), LoraConfig(r=4, lora_dropout=0.5, target_modules="all-linear",
                                                           init_lora_weights=False))
    prompts = [as_model_input(tok, context_block(r), True) for r in RECORDS]
    options = [["negative", "positive", "organization miscellaneous"]] * len(prompts)
    lora.eval()
    expected = [brute_force_scores(lora, tok, p, o) for p, o in zip(prompts, options)]
    lora.train()
    for got, want in zip(choice_scores(lora, tok, prompts, options, True, 3), expected):
        assert got == pytest.approx(want, abs=1e-4)
    assert lora.training


rows_strategy = st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=30), min_size=1, max_size=8)


@given(rows_strategy)
def test_shared_length_is_a_common_prefix_that_leaves_every_row_a_token(rows):
    n = shared_length(rows)
    assert n == 0 or (n >= MIN_SHARED and len(rows) > 1)
    assert all(len(r) > n and r[:n] == rows[0][:n] for r in rows)


@given(rows_strategy)
def test_batch_order_is_a_permutation_grouping_equal_openings(rows):
    order = batch_order(rows)
    assert sorted(order) == list(range(len(rows)))
    head = min(map(len, rows)) // 2
    openings = [tuple(rows[i][:head]) for i in order]
    assert openings == sorted(openings)


@given(rows_strategy, st.integers(1, 5))
def test_length_batches_cover_every_row_once_within_one_opening(rows, size):
    batches = length_batches(rows, size, least=0)
    assert sorted(i for b in batches for i in b) == list(range(len(rows))) and all(0 < len(b) <= size for b in batches)
    head = min(map(len, rows)) // 2
    assert all(len({tuple(rows[i][:head]) for i in b}) == 1 for b in batches)


def test_length_batches_keep_long_and_short_rows_apart_once_a_batch_is_large_enough():
    opening = list(range(50, 70))
    rows = [opening + [1] * 40] * 3 + [opening + [2] * 4] * 20
    assert length_batches(rows, 32, waste=0.2, least=0) == [[0, 1, 2], list(range(3, 23))]
    # below `least` own tokens a batch keeps growing: 3 x 40 = 120 < 256
    assert length_batches(rows, 32, waste=0.2, least=256) == [list(range(23))]
    assert length_batches(rows, 8, waste=0.2, least=0) == [[0, 1, 2], list(range(3, 11)), list(range(11, 19)),
                                                           list(range(19, 23))]


def test_openings_kept_across_calls_change_no_score_and_run_once(model_and_tokenizer):
    model, tok = model_and_tokenizer
    texts = ["a warm funny film", "dull", "Anna Smith visited Paris and loved it", "far too long", "a film", "funny"]
    prompts = [as_model_input(tok, context_block({**RECORDS[0], "input": t}), True) for t in texts]
    options = [["negative", "positive", "organization miscellaneous"]] * len(prompts)
    alone = choice_scores(model, tok, prompts[:3], options[:3], True, 2)
    alone += choice_scores(model, tok, prompts[3:], options[3:], True, 2)
    openings = Openings()
    kept = choice_scores(model, tok, prompts[:3], options[:3], True, 2, openings)
    kept += choice_scores(model, tok, prompts[3:], options[3:], True, 2, openings)
    assert kept == alone                                  # bit for bit: each opening is computed alone either way
    rows = [tok(p, add_special_tokens=False)["input_ids"] for p in prompts]
    assert 0 < openings.ran == len(os.path.commonprefix(rows))   # one opening, run once for all batches of both calls
    again = generate(model, tok, prompts, 6, batch_size=2, stop_at_newline=False, openings=openings)
    assert again == generate(model, tok, prompts, 6, batch_size=2, stop_at_newline=False)
    assert openings.ran == len(os.path.commonprefix(rows))


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


def test_metrics_rebuilt_from_a_predictions_file_equal_the_written_ones(model_and_tokenizer, tmp_path, monkeypatch):
    from anit.evaluation import run

    model, tok = model_and_tokenizer
    ner = [{**RECORDS[2], "id": "n", "dataset": "conll2003", "task": "ner", "options": ["person", "location"],
            "gold": [["person", "Anna Smith"], ["location", "Paris"]]},
           {**RECORDS[1], "id": "m", "dataset": "conll2003", "task": "ner", "options": ["person", "location"],
            "gold": []}]
    records = RECORDS + ner
    answers = ["positive", "positive", "negative", "person: Anna Smith; person: Paris; location: Paris", "none"]
    monkeypatch.setattr(run, "generate", lambda *a, **k: answers)
    written = evaluate(model, tok, records, ["raw"], tmp_path, EvalOptions())["conditions"]["raw"]
    rows = [json.loads(line) for line in (tmp_path / "raw.predictions.jsonl").read_text().splitlines()]
    rebuilt = condition_metrics([(record, row["parsed"]) for record, row in zip(records, rows)])
    assert rebuilt == written
    assert written["conll2003"]["tp"] == 2 and written["conll2003"]["n_pred"] == 3
    assert written["sst2"]["accuracy"] == pytest.approx(1 / 3)


def test_reuse_runs_only_the_pairs_the_folder_lacks(model_and_tokenizer, tmp_path, monkeypatch):
    from anit.evaluation import run

    model, tok = model_and_tokenizer
    answers = {"a warm funny film": "positive", "dull and far too long": "positive",
               "Anna Smith visited Paris and loved it": "negative"}
    asked = []

    def fake_generate(model, tokenizer, prompts, *args, **kwargs):
        asked.append(len(prompts))
        return [next(answers[text] for text in answers if text in prompt) for prompt in prompts]

    monkeypatch.setattr(run, "generate", fake_generate)
    evaluate(model, tok, RECORDS[:2], ["raw", "noisy"], tmp_path / "grown", EvalOptions())
    asked.clear()
    grown = evaluate(model, tok, RECORDS, ["raw", "noisy"], tmp_path / "grown", EvalOptions(), reuse=True)
    assert asked == [1, 1]
    fresh = evaluate(model, tok, RECORDS, ["raw", "noisy"], tmp_path / "fresh", EvalOptions())
    assert grown == fresh
    for name in ("raw", "noisy-char_typo"):
        assert ((tmp_path / "grown" / f"{name}.predictions.jsonl").read_text()
                == (tmp_path / "fresh" / f"{name}.predictions.jsonl").read_text())
    asked.clear()
    evaluate(model, tok, RECORDS, ["raw"], tmp_path / "fresh", EvalOptions(), reuse=True)
    assert asked == []


def test_conditions_and_gaps(tmp_path):
    assert list(conditions(RECORDS, "noisy")) == ["noisy-char_typo"]
    own = [{k: v for k, v in r.items() if k != "noise_type"} for r in RECORDS[:2]] + RECORDS[2:]
    mixed = conditions(own, "noisy")                     # noisy instructions a user wrote, without a noise_type
    assert {name: [r["id"] for r, _ in pairs] for name, pairs in mixed.items()} == {"noisy-own": ["0", "1"],
                                                                                    "noisy-char_typo": ["2"]}
    unseen = conditions(RECORDS, "unseen")["unseen"]
    assert all(ins != "Classify the text into one of the given categories." for _, ins in unseen)
    path = tmp_path / "mine.yaml"
    path.write_text("tc: [Sort it., Label it.]\nner: [Tag names.]\n")
    assert sorted(conditions(RECORDS, str(path))) == ["mine-tc-0", "mine-tc-1"]  # no ner record: no ner condition
    pool = conditions(RECORDS, "unseen-pool")
    assert sorted(pool) == [f"unseen-tc-{k}" for k in range(6)]
    assert all(len(pairs) == len(RECORDS) for pairs in pool.values())
    path.write_text("ner: [Tag names.]\n")
    with pytest.raises(AnitError, match="task tc"):
        conditions(RECORDS, str(path))
    path.write_text("tc:\n  - instruction: Sort it.\n    dev_score: 0.2\n  - Label it.\n")
    assert [ins for _, ins in conditions(RECORDS, str(path))["mine-tc-0"]][:1] == ["Sort it."]
    path.write_text("tc: [[1, 2]]\n")
    with pytest.raises(AnitError, match=r"tc\[0\]"):
        conditions(RECORDS, str(path))


def test_a_plain_list_of_instructions_serves_records_of_one_task(tmp_path):
    mapped, listed, lines = tmp_path / "mapped.yaml", tmp_path / "listed.yaml", tmp_path / "lines.txt"
    mapped.write_text("tc: ['Sort it: which one?', Label it.]\n")
    listed.write_text("- 'Sort it: which one?'\n- Label it.\n")
    lines.write_text("# my wordings\nSort it: which one?\n\n  Label it.\n")   # a colon is text, not YAML
    pairs = {p.stem: {k.split("-", 1)[1]: [(r["id"], ins) for r, ins in v]
                      for k, v in conditions(RECORDS, str(p)).items()} for p in (mapped, listed, lines)}
    assert pairs["lines"] == pairs["listed"] == pairs["mapped"]
    assert sorted(pairs["lines"]) == ["tc-0", "tc-1"] and pairs["lines"]["tc-0"][0][1] == "Sort it: which one?"
    listed.write_text("- Sort it.\n- ''\n")
    with pytest.raises(AnitError, match=r"listed.yaml:2: \[1\]: expected an instruction"):
        conditions(RECORDS, str(listed))
    two = RECORDS + [{**RECORDS[0], "id": "n", "task": "ner", "options": []}]
    with pytest.raises(AnitError, match="lines.txt: a plain list of instructions serves records of one task, and "
                                        "these are of tasks ner, tc"):
        conditions(two, str(lines))
    lines.write_text("# nothing yet\n")
    with pytest.raises(AnitError, match="lines.txt: expected a mapping"):
        conditions(RECORDS, str(lines))


def test_raw_is_each_records_own_instruction():
    from anit.tasks import TASKS

    mine = [{**r, "instruction": "Say whether the review is negative or positive."} for r in RECORDS]
    assert {ins for _, ins in conditions(mine, "raw")["raw"]} == {"Say whether the review is negative or positive."}
    prepared = [{**r, "instruction": TASKS.get("tc").default_instruction} for r in RECORDS]
    assert {ins for _, ins in conditions(prepared, "raw")["raw"]} == {TASKS.get("tc").default_instruction}


def test_rows_noised_per_type_count_once_for_raw_and_limit():
    per_type = [{**r, "noise_type": t} for r in RECORDS for t in ("char_typo", "truncate_front")]
    assert len(conditions(per_type, "raw")["raw"]) == len(RECORDS)
    assert len(conditions(per_type, "unseen")["unseen"]) == len(RECORDS)
    assert sorted(conditions(per_type, "noisy")) == ["noisy-char_typo", "noisy-truncate_front"]
    limited = limit_records(per_type, 2)
    assert len(limited) == 4 and {r["id"] for r in limited} == {"0", "1"}


def test_generation_all_conditions_end_to_end(model_and_tokenizer, tmp_path):
    model, tok = model_and_tokenizer
    per_type = RECORDS + [{**r, "noisy_instruction": "Text classify.", "noise_type": "truncate_shuffle_front"}
                          for r in RECORDS]
    summary = evaluate(model, tok, per_type, ["raw", "noisy", "unseen"], tmp_path, EvalOptions(max_new_tokens=6))
    assert set(summary["conditions"]) == {"raw", "noisy-char_typo", "noisy-truncate_shuffle_front", "noisy", "unseen"}
    assert summary["conditions"]["noisy"]["sst2"]["n"] == 2 * len(RECORDS)
    assert set(summary["gaps"]["sst2"]) == {"noisy-char_typo", "noisy-truncate_shuffle_front", "noisy", "unseen"}
    raw = summary["conditions"]["raw"]["sst2"]
    assert raw["n"] == len(RECORDS)
    for name in ("noisy-char_typo", "unseen", "noisy"):
        gap = summary["gaps"]["sst2"][name]
        score = summary["conditions"][name]["sst2"]["accuracy"]
        assert gap["gap"] == pytest.approx(score - raw["accuracy"]) and gap["low"] <= gap["gap"] <= gap["high"]
        assert (tmp_path / f"{name}.predictions.jsonl").exists() == (name != "noisy")
    assert summary["sensitivity"]["noisy"]["sst2"]["instructions"] == 2


@pytest.mark.parametrize("window", [16, 512])
def test_sliding_window_models_batch_like_one_at_a_time(model_and_tokenizer, window):
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    _, tok = model_and_tokenizer
    torch.manual_seed(0)
    config = Gemma3TextConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=4,
                              num_attention_heads=4, num_key_value_heads=2, head_dim=8, sliding_window=window,
                              layer_types=["sliding_attention", "full_attention"] * 2, pad_token_id=tok.pad_token_id,
                              eos_token_id=tok.eos_token_id, bos_token_id=tok.bos_token_id)
    model = Gemma3ForCausalLM(config).eval()
    prompts = [as_model_input(tok, context_block({**RECORDS[0], "input": t}), True)
               for t in ("a warm funny film", "dull", "Anna Smith visited Paris and loved it", "far too long")]
    rows = [tok(p, add_special_tokens=False)["input_ids"] for p in prompts]
    assert (prepare_batch(model, rows, tok.pad_token_id, 10).cached > 0) == (window == 512)
    batched = generate(model, tok, prompts, 10, batch_size=4, stop_at_newline=False)
    assert batched == [generate(model, tok, [p], 10, batch_size=1, stop_at_newline=False)[0] for p in prompts]
    options = [["negative", "positive", "organization miscellaneous"]] * len(prompts)
    for got, prompt, opts in zip(choice_scores(model, tok, prompts, options, True, 4), prompts, options):
        assert got == pytest.approx(brute_force_scores(model, tok, prompt, opts), abs=1e-4)


QLORA = TrainConfig(dtype="float16", quantization="4bit")


@pytest.mark.parametrize("trained,dtype,quantization,cuda,expected", [
    (QLORA, None, None, True, ("float16", "4bit", False)),
    (QLORA, "bfloat16", "none", True, ("bfloat16", None, False)),
    (QLORA, None, "8bit", True, ("float16", "8bit", False)),
    (QLORA, None, None, False, ("auto", None, True)),
    (QLORA, "float32", None, False, ("float32", None, True)),
    (QLORA, None, "4bit", False, ("auto", "4bit", True)),
    (TrainConfig(), None, None, False, ("auto", None, False)),
    (None, None, None, True, ("auto", None, False)),
    (None, "bfloat16", None, False, ("bfloat16", None, False)),
])
def test_eval_loads_the_base_as_the_adapter_trained_unless_told(trained, dtype, quantization, cuda, expected):
    got_dtype, got_q, note = eval_precision(trained, dtype, quantization, cuda)
    assert (got_dtype, got_q, note is not None) == expected
    if note:
        assert "needs CUDA" in note


def test_gpu_map_puts_the_whole_model_on_this_process_gpu_or_is_none(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_map() is None
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 3)
    assert gpu_map() == {"": 3}


def test_eval_places_the_base_where_gpu_map_says(tmp_path, monkeypatch):
    folder = tiny.build(tmp_path / "tiny", chat=True, seed=3)
    asked = []

    def recording(*args, **kwargs):
        asked.append(kwargs.get("device_map"))
        return load_model(*args, **kwargs)

    monkeypatch.setattr(models, "gpu_map", lambda: {"": "cpu"})
    monkeypatch.setattr(models, "load_model", recording)
    model, _ = load_for_eval(str(folder), None)
    assert asked == [{"": "cpu"}]
    assert not model.training
