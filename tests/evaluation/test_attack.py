import json
import random
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tiny  # noqa: E402

from anit.cli import app  # noqa: E402
from anit.evaluation.attack import (Candidate, Evaluator, candidate_family, compositions,  # noqa: E402
                                    first_candidates, raw_instruction, rewrite_ahead, rule_candidates, search,
                                    shown_row, threshold_of, within)

RECORDS = [{"id": str(i), "dataset": "sst2", "task": "tc", "instruction": "Classify the text.",
            "question": "Which label?", "format": "one label", "options": ["negative", "positive"],
            "input": text, "output": gold, "gold": gold}
           for i, (text, gold) in enumerate([("a warm funny film", "positive"), ("dull and far too long", "negative"),
                                             ("Anna Smith visited Paris", "positive"), ("far too long", "negative"),
                                             ("a film", "positive"), ("dull", "negative")])]


def test_rule_candidates_are_seeded_changed_and_named():
    base = "Classify the text into one of the given categories."
    first = rule_candidates(base, [0.3], [0, 1])
    assert first == rule_candidates(base, [0.3], [0, 1])
    assert all(c.instruction != base for c in first)
    assert {c.origin.split(":")[0] for c in first} >= {"random_replace", "char_typo", "truncate_front"}
    assert "paraphrase" not in {c.origin.split(":")[0] for c in first}  # model-written ones come from the rewriter


def test_compositions_put_a_typo_on_word_level_noise_and_word_noise_on_a_typo():
    expand = compositions([0.2], [0])
    word = expand(Candidate("Classify the text now.", "truncate_front:0.3@0", 0.4, 6, True), 1)
    assert word and all(c.origin.startswith("truncate_front:0.3@0+char_typo") for c in word)
    typo = expand(Candidate("Clasify the text now.", "char_typo:0.3@0", 0.4, 6, True), 1)
    assert typo and not any("+char_typo" in c.origin for c in typo)


def test_candidate_family_is_the_kind_of_the_first_operation():
    assert [candidate_family(o) for o in ("unseen-3", "file-0", "paraphrase-2", "opposite-1+char_typo:0.1@1001",
                                "random_replace:0.3@1+char_typo:0.1@1000", "truncate_shuffle_front:0.5@0")] == [
        "unseen", "file", "paraphrase", "opposite", "noise", "noise"]


def test_within_keeps_the_candidates_at_or_under_the_distortion_bound():
    from anit.distortion import resolve_scorers

    base = "Classify the text into one of the given categories."
    scorer = resolve_scorers(["hard"])[0]
    found = rule_candidates(base, [0.1, 0.5], [0])
    distortion = scorer.score([base] * len(found), [c.instruction for c in found])
    bound = sorted(distortion)[len(found) // 2]
    kept = within(found, base, bound, scorer)
    assert [c.origin for c in kept] == [c.origin for c, d in zip(found, distortion) if d <= bound]
    assert 0 < len(kept) < len(found) and within(found, base, None, scorer) == found


def test_rewrites_written_ahead_are_those_each_tasks_attack_draws():
    from types import SimpleNamespace

    class Recorder:
        def __init__(self):
            self.asked = []

        def variants(self, kind, instructions):
            self.asked += [(kind, text) for text in instructions]
            return {text: [f"{kind} of {text}"] for text in instructions}

    other = [{**r, "id": f"n{r['id']}", "task": "ner", "instruction": "Find the entities." if k else "Tag names."}
             for k, r in enumerate(RECORDS)]          # the attack perturbs the most common instruction of a task
    for families in (["paraphrase", "opposite", "noise"], ["paraphrase", "unseen"]):
        ahead, attack = Recorder(), Recorder()
        rewrite_ahead(RECORDS + other, ahead, families)
        for task, records in (("tc", RECORDS), ("ner", other)):
            first_candidates(task, raw_instruction(records)[0], SimpleNamespace(families=families, rates=[0.3],
                                                                                noise_seeds=1, noises=["char_typo"]),
                             attack, {})
        assert sorted(ahead.asked) == sorted(attack.asked) and ("paraphrase", "Find the entities.") in ahead.asked
        assert (("opposite", "Classify the text.") in ahead.asked) == ("opposite" in families)


def test_raw_instruction_is_the_records_most_common_one():
    records = [{"instruction": text} for text in ("Tag it.", "Sort it.", "Sort it.", "Label it.")]
    assert raw_instruction(records) == ("Sort it.", 3)
    assert raw_instruction(records[:1] + records[3:]) == ("Tag it.", 2)  # a tie: the first
    assert raw_instruction(records[1:3]) == ("Sort it.", 1)


def test_noises_restrict_the_rule_candidates_and_their_compositions():
    base = "Classify the text into one of the given categories."
    only = rule_candidates(base, [0.3], [0], ["stress_test", "checklist"])
    assert {c.origin.split(":")[0] for c in only} == {"stress_test", "checklist"}
    grow = compositions([0.2], [0], ["stress_test", "char_typo"])
    word = grow(Candidate(base + " and true is true", "stress_test:0.3@0", 0.4, 6, True), 1)
    assert word and all(c.origin.startswith("stress_test:0.3@0+char_typo") for c in word)
    typo = grow(Candidate("Clasify the text.", "char_typo:0.3@0", 0.4, 6, True), 1)
    assert typo and {c.origin.split("+")[1].split(":")[0] for c in typo} == {"stress_test"}
    assert compositions([0.2], [0], ["stress_test"])(Candidate(base, "stress_test:0.3@0", 0.4, 6, True), 1) == []


def test_search_spends_the_budget_finds_the_worst_and_composes():
    """A fake model whose score falls with every 'x' in the instruction: the search must find compositions."""
    calls = []

    def evaluate(c, threshold):
        calls.append(c.instruction)
        c.score, c.scored, c.complete = 1.0 - 0.1 * c.instruction.count("x"), 10, True
        return c

    first = [Candidate("a" * k + "x" * (k % 3), f"op{k}") for k in range(12)]

    def expand(parent, depth):
        return [Candidate(parent.instruction + "x", parent.origin + "+x"), Candidate(parent.instruction + "y", "y")]

    ranked = search(evaluate, first, expand, budget=10, top_k=2, beam=2, rng=random.Random(0))
    assert len(ranked) == len(calls) == 10 and len(set(calls)) == 10
    assert ranked[0].score == min(c.score for c in ranked)
    assert "+x" in ranked[0].origin and ranked[0].instruction.count("x") == 3


def test_search_scores_the_users_own_instructions_first_whatever_the_pool():
    """Round 0 is a shuffled draw when the pool outgrows the budget; a user's instructions are not left to it."""
    calls = []

    def evaluate(c, threshold):
        calls.append(c.origin)
        c.score, c.scored, c.complete = 0.5, 10, True
        return c

    pool = [Candidate(f"rule {k}", f"op{k}") for k in range(40)]
    own = [Candidate("mine b", "file-1"), Candidate("mine a", "file-0"), Candidate("rule 3", "file-2")]
    for seed in range(5):
        calls.clear()
        search(evaluate, pool, lambda parent, depth: [], budget=6, top_k=2, beam=2, rng=random.Random(seed),
               pinned=own)
        # in the user's order; "rule 3" is theirs too, so the pool's copy of it is not scored again
        assert calls[:3] == ["file-1", "file-0", "file-2"] and "op3" not in calls
        assert len(calls) == 6 and all(origin.startswith("op") for origin in calls[3:])
    calls.clear()
    search(evaluate, pool, lambda parent, depth: [], budget=2, top_k=2, beam=2, rng=random.Random(0), pinned=own)
    assert calls == ["file-1", "file-0"]


def test_worst_yaml_rows_read_as_a_person_writes_them():
    where = {"model": "m", "adapter": None, "score": 0.1 + 0.2}
    row = shown_row({"dev_score": 1 - 0.8 / 1.0, "pdr": None, "origin": "raw", "found_on": where})
    assert row == {"dev_score": 0.2, "pdr": None, "origin": "raw", "found_on": {"model": "m", "adapter": None,
                                                                                  "score": 0.3}}
    assert row["found_on"] is not where
    rows = [shown_row({"found_on": where}) for _ in range(2)]
    assert "&id" not in yaml.safe_dump(rows)


def test_evaluator_stops_early_only_when_the_candidate_cannot_enter_the_worst():
    asked = []

    def predict(pairs):
        asked.append([r["id"] for r, _ in pairs])
        return [r["gold"] if r["id"] != "0" else "neither" for r, _ in pairs]   # wrong on record 0 only

    evaluator = Evaluator(predict, RECORDS, chunk=2)
    assert evaluator.score("tc", "anything") == (5 / 6, 6, True, "011111")
    asked.clear()
    # above 0.5 needs 4 right answers, so the first call runs 4 records (shortest first: nothing preferred yet);
    # with 3 right the next needs 1 more, run as a chunk of 2, which ends the records: complete
    assert evaluator.score("tc", "anything", threshold=0.5) == (5 / 6, 6, True, "011111")
    assert asked == [["5", "4", "3", "0"], ["1", "2"]]
    asked.clear()
    evaluator.learn("tc", "011111")      # what was answered right runs first: 4 right in the first call, stop
    assert evaluator.score("tc", "anything", threshold=0.5) == (4 / 6, 4, False, ".1.111")
    assert asked == [["5", "4", "3", "1"]]
    assert threshold_of([Candidate("a", "o", 0.5, 6, True), Candidate("b", "o", 0.2, 6, True),
                         Candidate("c", "o", 0.1, 3, False)], 2) == 0.5


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=40), st.lists(st.booleans(), min_size=40, max_size=40),
       st.integers(0, 41), st.integers(1, 8))
def test_evaluator_early_stop_is_exact(right, raw, cut, chunk):
    """Whatever the order and chunking: a complete score is the full score, and a stopped candidate's full score is
    above the threshold (so it could not have entered the worst k)."""
    records = [dict(RECORDS[0], id=str(i), gold="positive") for i in range(len(right))]
    answers = {str(i): "positive" if ok else "negative" for i, ok in enumerate(right)}
    evaluator = Evaluator(lambda pairs: [answers[r["id"]] for r, _ in pairs], records, chunk=chunk)
    evaluator.learn("tc", "".join("1" if x else "0" for x in raw[:len(right)]))
    full = sum(right) / len(right)
    threshold = cut / len(right) if cut <= len(right) else None
    score, scored, complete, per_record = evaluator.score("tc", "x", threshold)
    truth = "".join("1" if x else "0" for x in right)
    assert all(mark in (".", real) for mark, real in zip(per_record, truth))
    assert per_record.count(".") == len(right) - scored
    if complete:
        assert score == pytest.approx(full) and scored == len(right) and per_record == truth
    else:
        assert full > threshold and score <= full and score > threshold and scored < len(right)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny.build(tmp_path_factory.mktemp("tiny_attack"), chat=True, seed=3)


def test_attack_writes_worst_instructions_that_eval_takes_and_resumes(tiny_model, tmp_path):
    data = tmp_path / "dev.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    mine = tmp_path / "mine.yaml"
    mine.write_text("tc:\n  - Say how the reviewer felt.\n  - Pick the label.\n")
    runner = CliRunner()
    args = ["attack", "--model", str(tiny_model), "--data", str(data), "--budget", "8", "--rewrites", "0",
            "--top-k", "2", "--scoring", "choice", "--batch-size", "3", "--instructions", str(mine),
            "--out", str(tmp_path / "atk")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "atk" / "attack.json").read_text())["tasks"]["tc"]
    assert report["evaluated"] == 8 and report["newly_scored"] == 8
    # dozens of rule-based candidates compete for 8 evaluations; the user's two are scored whatever the draw
    assert {"file-0", "file-1"} <= {r["origin"] for r in report["ranked"]}
    assert "your instructions: 2 of 2 scored first" in result.output
    worst = yaml.safe_load((tmp_path / "atk" / "worst.yaml").read_text())["tc"]
    assert len(worst) == 2 and worst[0]["dev_score"] <= worst[1]["dev_score"]
    assert worst[0]["dev_score"] == round(min(row["dev_score"] for row in report["ranked"]), 4)
    # the note that nothing went below raw is said exactly when it is so
    assert ("no candidate scored below the raw instruction" in result.output) == (
        worst[0]["dev_score"] >= report["raw_dev_score"])
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and json.loads((tmp_path / "atk" / "attack.json").read_text())["tasks"]["tc"][
        "newly_scored"] == 0
    # the dev score of the worst instruction is what eval measures under it on the same records
    out = tmp_path / "eval"
    evaluated = runner.invoke(app, ["eval", "--model", str(tiny_model), "--data", str(data), "--scoring", "choice",
                                    "--instructions", "raw", "--instructions", str(tmp_path / "atk" / "worst.yaml"),
                                    "--out", str(out)])
    assert evaluated.exit_code == 0, evaluated.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["conditions"]["worst-tc-0"]["sst2"]["accuracy"] == pytest.approx(worst[0]["dev_score"], abs=5e-5)
    assert metrics["sensitivity"]["worst"]["sst2"]["worst"] == pytest.approx(worst[0]["dev_score"], abs=5e-5)
    assert worst[0]["found_on"] == {"model": str(tiny_model), "adapter": None} and "transfer" not in metrics
    # the same file against another model is the transfer setting, and eval says so
    other = tiny.build(tmp_path / "other", chat=True, seed=4)
    moved = runner.invoke(app, ["eval", "--model", str(other), "--data", str(data), "--scoring", "choice",
                                "--instructions", str(tmp_path / "atk" / "worst.yaml"), "--out", str(tmp_path / "t")])
    assert moved.exit_code == 0, moved.output
    assert f"searched on {tiny_model}, not on this model: the transfer setting" in moved.output
    assert json.loads((tmp_path / "t" / "metrics.json").read_text())["transfer"] == {"worst": worst[0]["found_on"]}


def test_attack_on_data_the_raw_instruction_gets_all_wrong_says_it_finds_no_worst_case(tiny_model, tmp_path):
    runner = CliRunner()
    data = tmp_path / "dev.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    seen = runner.invoke(app, ["eval", "--model", str(tiny_model), "--data", str(data), "--scoring", "choice",
                               "--instructions", "raw", "--out", str(tmp_path / "raw")])
    assert seen.exit_code == 0, seen.output
    answered = {r["id"]: r["parsed"] for r in map(json.loads, (tmp_path / "raw" / "raw.predictions.jsonl").open())}
    wrong = [{**r, "gold": other, "output": other} for r in RECORDS
             for other in r["options"] if other != answered[r["id"]]]
    data.write_text("".join(json.dumps(r) + "\n" for r in wrong))
    result = runner.invoke(app, ["attack", "--model", str(tiny_model), "--data", str(data), "--budget", "20",
                                 "--rewrites", "0", "--top-k", "2", "--scoring", "choice",
                                 "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    assert "tc: raw dev score 0.000 on 6 records" in result.output
    # the search stops as soon as two candidates score 0 too: none can score lower
    scored = [c["score"] for c in map(json.loads, (tmp_path / "a" / "candidates.jsonl").open()) if c["origin"] != "raw"]
    assert len(scored) < 20 and scored.count(0.0) == 2 and scored[-1] == 0.0
    assert f"the worst 2 score 0, the lowest possible, so the search stopped after {len(scored)} of 20" in result.output
    assert "no candidate can score lower and this ranking finds no worst case" in result.output
    assert "no candidate scored below the raw instruction" not in result.output
    assert result.output.count("PDR -") == 2
    assert all(row["pdr"] is None for row in yaml.safe_load((tmp_path / "a" / "worst.yaml").read_text())["tc"])


def test_attack_searches_only_the_families_asked_and_within_the_distortion_bound(tiny_model, tmp_path):
    from anit.distortion import resolve_scorers
    from anit.tasks import TASKS

    data = tmp_path / "dev.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    base, pool = RECORDS[0]["instruction"], TASKS.get("tc").unseen_instructions  # the records' own instruction
    distortion = resolve_scorers(["hard"])[0].score([base] * len(pool), pool)
    bound = sorted(distortion)[len(pool) // 2]
    result = CliRunner().invoke(app, ["attack", "--model", str(tiny_model), "--data", str(data), "--budget", "20",
                                      "--families", "unseen", "--max-distortion", str(bound), "--top-k", "1",
                                      "--scoring", "choice", "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "a" / "attack.json").read_text())["tasks"]["tc"]
    # no noise, no rewrites, no compositions: exactly the held-out instructions within the bound, each scored once
    assert sorted(r["instruction"] for r in report["ranked"]) == sorted(
        text for text, d in zip(pool, distortion) if d <= bound)
    assert report["outside_bound"] == sum(d > bound for d in distortion) > 0
    assert all(r["origin"].startswith("unseen-") and r["family"] == "unseen" for r in report["ranked"])
    assert f"{report['outside_bound']} candidates beyond distortion {bound:g} were not scored" in result.output
    assert not (tmp_path / "a" / "rewrites.json").exists()


def test_a_bounded_attack_reuses_what_an_unbounded_one_scored(tiny_model, tmp_path):
    data = tmp_path / "dev.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    runner = CliRunner()
    common = ["attack", "--model", str(tiny_model), "--data", str(data), "--rewrites", "0", "--noises", "char_typo",
              "--scoring", "choice", "--top-k", "1"]
    first = runner.invoke(app, [*common, "--budget", "20", "--out", str(tmp_path / "all")])
    assert first.exit_code == 0, first.output
    scored = {row["instruction"]: row["dev_score"]
              for row in json.loads((tmp_path / "all" / "attack.json").read_text())["tasks"]["tc"]["ranked"]}
    near = runner.invoke(app, [*common, "--budget", "20", "--max-distortion", "0.4", "--reuse", str(tmp_path / "all"),
                               "--out", str(tmp_path / "near")])
    assert near.exit_code == 0, near.output
    report = json.loads((tmp_path / "near" / "attack.json").read_text())["tasks"]["tc"]
    # one noise type, no compositions: every in-bound candidate was scored by the unbounded attack, and is taken
    # with its score instead of being scored again
    assert report["ranked"] and report["newly_scored"] == 0 and report["outside_bound"] > 0
    assert all(scored[row["instruction"]] == row["dev_score"] for row in report["ranked"])
    assert f"{report['evaluated']} candidates (0 stopped early, {report['evaluated']} scored before)" in near.output
    # another scoring rule gives other scores: refused before the model loads, naming the field
    other = runner.invoke(app, ["attack", "--model", str(tmp_path / "no-such-model"), "--data", str(data),
                                "--reuse", str(tmp_path / "all"), "--out", str(tmp_path / "gen")])
    assert other.exit_code != 0 and str(other.exception) == (
        f"--reuse {tmp_path / 'all'}: its attack differs from this one in scoring "
        f"({tmp_path / 'all' / 'fingerprint.json'}), so its scores are not this attack's")
    nothing = runner.invoke(app, [*common, "--reuse", str(tmp_path / "nothing"), "--out", str(tmp_path / "x")])
    assert nothing.exit_code != 0 and "holds no attack (no fingerprint.json)" in str(nothing.exception)


def test_attack_perturbs_the_records_own_instruction(tiny_model, tmp_path):
    data = tmp_path / "dev.jsonl"
    own = ["Say whether the review is negative or positive."] * 4 + ["Sentiment?"] * 2
    data.write_text("".join(json.dumps({**r, "instruction": text}) + "\n" for r, text in zip(RECORDS, own)))
    result = CliRunner().invoke(app, ["attack", "--model", str(tiny_model), "--data", str(data), "--budget", "3",
                                      "--rewrites", "0", "--scoring", "choice", "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "a" / "attack.json").read_text())["tasks"]["tc"]
    assert (report["raw_instruction"], report["raw_instructions"]) == (own[0], 2)
    assert "the tc records carry 2 different instructions; the attack perturbed the most common one" in result.output
    noise = [r for r in report["ranked"] if candidate_family(r["origin"]) == "noise"]
    assert noise and all(set(r["instruction"].lower().split()) & {"review", "negative", "positive"} for r in noise)


def test_attack_refuses_bad_input_before_loading_a_model(tmp_path):
    data = tmp_path / "dev.jsonl"
    data.write_text("".join(json.dumps({**r, "task": "ner", "options": []}) + "\n" for r in RECORDS))
    runner = CliRunner()
    missing_model = ["--model", str(tmp_path / "no-such-model"), "--data", str(data), "--out", str(tmp_path / "o")]
    result = runner.invoke(app, ["attack", "--scoring", "choice", *missing_model])
    assert result.exit_code != 0 and "label records (one option per answer) with options" in str(result.exception)
    mine = tmp_path / "mine.yaml"
    mine.write_text("tc: [Sort it.]\n")
    result = runner.invoke(app, ["attack", "--instructions", str(mine), *missing_model])
    said = f"{mine}: lists instructions for tc, but the data's records are of task ner"
    assert result.exit_code != 0 and str(result.exception) == said
    result = runner.invoke(app, ["eval", "--instructions", str(mine), *missing_model])      # eval says the same
    assert result.exit_code != 0 and str(result.exception) == said
    result = runner.invoke(app, ["attack", "--families", "file", *missing_model])
    assert result.exit_code != 0 and "no --instructions file gives its candidates" in str(result.exception)
    result = runner.invoke(app, ["attack", "--families", "rumours", *missing_model])
    assert result.exit_code != 0 and "'rumours' is not allowed" in str(result.exception)
    from anit.config import load_config
    from anit.errors import AnitError
    from anit.evaluation.config import AttackConfig

    with pytest.raises(AnitError, match="families: empty; choose one or more of noise, unseen"):
        load_config(AttackConfig, overrides={"families": []})
    with pytest.raises(AnitError, match="^command line: field 'noises': 'paraphrase' is written by a model, not a "
                                        "rule"):
        load_config(AttackConfig, overrides={"noises": ["char_typo", "paraphrase"]})
    with pytest.raises(AnitError, match="^command line: field 'noises': unknown noise type 'shouting'"):
        load_config(AttackConfig, overrides={"noises": ["shouting"]})
    with pytest.raises(AnitError, match="^field 'noises': unknown noise type 'shouting'"):
        AttackConfig(noises=["shouting"])            # made in Python, not loaded: checked all the same


def test_search_stops_once_the_worst_k_score_zero_with_the_ranking_the_full_budget_gives():
    """Scores are accuracy or F1, never below 0: once the worst k are at 0 a later candidate can only tie, and ties
    keep their order, so stopping there ranks the worst k as spending the whole budget does."""
    zero = {"op2", "op5", "op6", "op9"}

    def scorer(calls):
        def evaluate(c, threshold):
            calls.append(c.origin)
            c.score, c.scored, c.complete = (0.0 if c.origin in zero else 0.5), 10, True
            return c
        return evaluate

    def pool():
        return [Candidate(f"rule {k}", f"op{k}") for k in range(12)]

    for seed in range(4):
        calls: list[str] = []
        stopped = search(scorer(calls), pool(), lambda parent, depth: [], budget=12, top_k=2, beam=2,
                         rng=random.Random(seed))
        # spending the budget scores the whole pool in its shuffled order, and the stable ranking keeps the first
        # two at 0 in front
        drawn = pool()
        random.Random(seed).shuffle(drawn)
        assert [c.origin for c in stopped[:2]] == [c.origin for c in drawn if c.origin in zero][:2]
        # it stopped right after the second candidate at 0
        assert calls == [c.origin for c in drawn][:len(calls)] and len(calls) < 12
        assert sum(origin in zero for origin in calls) == 2 and calls[-1] in zero
    # the user's own instructions are all scored, even after the worst k reached 0
    calls = []
    own = [Candidate("mine a", "op2"), Candidate("mine b", "op5"), Candidate("mine c", "file-2")]
    search(scorer(calls), pool(), lambda parent, depth: [], budget=12, top_k=2, beam=2, rng=random.Random(0),
           pinned=own)
    assert calls == ["op2", "op5", "file-2"]
