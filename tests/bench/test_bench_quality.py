"""bench/quality.py's helpers: run naming, the nested test draw, scores per condition, and the lines that state
where ANIT meets its goal and where it does not (they go to docs/ as claims), and what --jobs gives each worker."""

import argparse
import json
from pathlib import Path

import pytest
from hypothesis import given, strategies as st
from bench.quality import parser, setup_note, worker_commands
from bench.quality_analysis import agreements, seeds_ahead, standings, verdicts
from bench.quality_runs import (borrowed_knobs, dev_value, eval_dir, group_score, knobs_file, measured_on,
                                nested_sample, run_name, tag, top_answer)


def test_tag_is_empty_for_defaults_and_sorted_otherwise():
    assert tag({}) == ""
    assert tag({"nrm_alpha": 0.1, "nrm_beta_max": 10.0}) == "@nrm_alpha=0.1@nrm_beta_max=10"
    assert run_name("anit", {"nrm_beta_max": 150.0}, 2) == "anit@nrm_beta_max=150-2"
    assert run_name("it", {}, 0) == "it-0"


def test_measured_on_is_one_file_per_table():
    folder = Path("work/sst2")
    assert measured_on(folder, None) == folder / "measured_on.json"
    assert measured_on(folder, "cpu, anit-wide") == folder / "measured_on-cpu-anit-wide.json"


@given(st.text(min_size=1, max_size=30))
def test_measured_on_stays_in_the_folder_and_apart_from_the_main_table(table):
    folder = Path("work/sst2")
    path = measured_on(folder, table)
    assert path.parent == folder
    assert path.name != "measured_on.json"
    assert path.name.startswith("measured_on-") and path.name.endswith(".json")


@given(st.integers(0, 60), st.integers(1, 16), st.integers(0, 3), st.integers(0, 1000))
def test_nested_sample_draws_distinct_examples_and_grows_by_whole_blocks(total, block, blocks, seed):
    examples = [f"e{i}" for i in range(total)]
    larger = nested_sample(examples, blocks * block + block, seed, block)
    smaller = nested_sample(examples, blocks * block, seed, block)
    assert len(larger) == min(total, blocks * block + block)
    assert len(set(larger)) == len(larger) and set(larger) <= set(examples)
    assert larger[:len(smaller)] == smaller


def conditions(raw: float, noisy: dict[str, tuple[float, int]]) -> dict:
    out = {"raw": {"sst2": {"task": "tc", "accuracy": raw, "n": 10}}}
    out.update({f"noisy-{name}": {"sst2": {"task": "tc", "accuracy": score, "n": n}}
                for name, (score, n) in noisy.items()})
    return out


def test_group_score_pools_noise_types_by_size():
    scored = conditions(0.8, {"char_typo": (0.5, 30), "truncate_random": (0.9, 10)})
    assert group_score(scored, "sst2", "raw") == 0.8
    assert group_score(scored, "sst2", "noisy") == pytest.approx((0.5 * 30 + 0.9 * 10) / 40)
    assert group_score(scored, "sst2", "unseen") is None
    assert group_score(scored, "ag_news", "raw") is None
    assert dev_value(scored, "sst2") == pytest.approx((0.8 + 0.6) / 2)


def test_top_answer_names_the_commonest_label_and_its_share():
    assert top_answer([{"parsed": "positive"}] * 3 + [{"parsed": "negative"}]) == "positive 75%"


def scores(methods: dict[str, tuple[list[float], list[float], list[float]]]) -> dict:
    """(method, group) -> seed -> score from each method's raw, noisy and unseen scores per seed."""
    return {(name, group): dict(enumerate(values))
            for name, groups in methods.items() for group, values in zip(("raw", "noisy", "unseen"), groups)}


def test_verdicts_meet_the_goal_only_with_half_the_drop_and_no_raw_loss():
    by_seed = scores({"it": ([0.8, 0.8], [0.7, 0.7], [0.6, 0.6]), "anit": ([0.8, 0.8], [0.77, 0.75], [0.6, 0.6])})
    lines = verdicts("sst2", by_seed)
    assert "sst2: anit under raw instructions is at least as good as it (0.800 vs 0.800)." in lines
    assert "sst2: anit's raw-to-noisy drop +0.040 vs it's +0.100: goal (at most half of it's) met." in lines
    assert "sst2: anit's raw-to-unseen drop +0.200 vs it's +0.200: goal (at most half of it's) not met." in lines


def test_verdicts_say_when_a_small_drop_comes_from_a_low_raw_score():
    by_seed = scores({"it": ([0.9], [0.7], [0.9]), "anit": ([0.6], [0.6], [0.9])})
    lines = verdicts("x", by_seed)
    assert "x: anit under raw instructions is worse than it (0.600 vs 0.900)." in lines
    assert ("x: anit's raw-to-noisy drop +0.000 vs it's +0.200: goal (at most half of it's) met, but only through a "
            "lower raw score: under noisy instructions it is still below it (0.600 vs 0.700).") in lines
    assert "x: anit's raw-to-unseen drop -0.300 vs it's +0.000: goal (at most half of it's) not judged: it does not " \
           "drop under unseen instructions." in lines


def test_verdicts_do_not_judge_half_of_a_drop_within_its_seed_spread():
    by_seed = scores({"it": ([0.80, 0.80, 0.80], [0.82, 0.77, 0.79], [0.70, 0.71, 0.69]),
                      "anit": ([0.80, 0.80, 0.80], [0.80, 0.80, 0.80], [0.80, 0.80, 0.80])})
    lines = verdicts("x", by_seed)
    assert ("x: anit's raw-to-noisy drop +0.000 vs it's +0.007: goal (at most half of it's) not judged: it's drop is "
            "within its seed-to-seed spread (per-seed drops vary by 0.025, standard deviation).") in lines
    assert "x: anit's raw-to-unseen drop +0.000 vs it's +0.100: goal (at most half of it's) met." in lines


def test_verdicts_fail_a_drop_beyond_its_spread_where_its_is_within():
    by_seed = scores({"it": ([0.80, 0.80, 0.80], [0.82, 0.77, 0.79], [0.81, 0.80, 0.79]),
                      "anit": ([0.80, 0.80, 0.80], [0.75, 0.74, 0.76], [0.79, 0.81, 0.80])})
    lines = verdicts("x", by_seed)
    assert ("x: anit's raw-to-noisy drop +0.050 vs it's +0.007: goal (at most half of it's) not met: anit's drop "
            "exceeds its own seed-to-seed spread (0.010) and it's drop is within its seed-to-seed spread (per-seed "
            "drops vary by 0.025, standard deviation).") in lines
    assert ("x: anit's raw-to-unseen drop +0.000 vs it's +0.000: goal (at most half of it's) not judged: it does not "
            "drop under unseen instructions.") in lines


def test_verdicts_compare_on_common_seeds_and_say_so():
    by_seed = scores({"it": ([0.8, 0.8, 0.2], [0.7, 0.7, 0.2], [0.7, 0.7, 0.2]),
                      "anit": ([0.8, 0.8], [0.8, 0.8], [0.8, 0.8])})
    lines = verdicts("x", by_seed)
    assert lines[0] == "x: anit and it are compared on the seeds both finished, [0, 1]."
    assert "x: anit under raw instructions is at least as good as it (0.800 vs 0.800)." in lines


def test_verdicts_skip_variants_that_did_not_run():
    assert verdicts("x", scores({"it": ([0.8], [0.7], [0.7])})) == []


def test_standings_count_conditions_and_seeds_ahead():
    by_seed = scores({"fgm": ([0.80, 0.80, 0.80], [0.70, 0.70, 0.70], [0.70, 0.70, 0.70]),
                      "anit-wide": ([0.79, 0.79, 0.79], [0.70, 0.69, 0.75], [0.75, 0.69, 0.69])})
    assert standings("x", by_seed) == [
        "x: anit-wide against fgm (seeds [0, 1, 2]): raw 0.790 vs 0.800, noisy 0.713 vs 0.700, unseen 0.710 vs "
        "0.700; ahead or level under 2 of 3 conditions (noisy, unseen); ahead or level per seed: raw 0/3, noisy 2/3, "
        "unseen 1/3."]
    assert seeds_ahead(by_seed, "anit-wide", "fgm", "noisy", [0, 1, 2]) == 2


def knobs_args(work: Path, methods: list[str]) -> argparse.Namespace:
    return argparse.Namespace(work=work, knobs_from="sst2", methods=methods)


def test_borrowed_knobs_take_the_source_datasets_choices(tmp_path):
    (tmp_path / "sst2").mkdir()
    (tmp_path / "sst2" / "tuned.json").write_text(json.dumps({"anit": {"nrm_beta_max": 10.0}, "fgm": {}}))
    borrowed = borrowed_knobs(knobs_args(tmp_path, ["it", "fgm", "anit"]))
    assert borrowed == {"it": {}, "fgm": {}, "anit": {"nrm_beta_max": 10.0}}


def test_borrowed_knobs_stop_on_a_method_the_source_never_tuned(tmp_path):
    (tmp_path / "sst2").mkdir()
    (tmp_path / "sst2" / "tuned.json").write_text(json.dumps({"anit": {}}))
    with pytest.raises(SystemExit, match=r"tuned\.json: no knobs chosen for neftune, fgm"):
        borrowed_knobs(knobs_args(tmp_path, ["it", "neftune", "fgm", "anit"]))
    with pytest.raises(SystemExit, match="no knobs chosen for anit"):
        borrowed_knobs(knobs_args(tmp_path / "elsewhere", ["anit"]))


def test_knobs_from_names_a_dataset_in_the_work_folder_or_a_tuned_file(tmp_path):
    assert knobs_file(knobs_args(tmp_path, [])) == tmp_path / "sst2" / "tuned.json"
    elsewhere = tmp_path / "other-budget" / "sst2" / "tuned.json"
    elsewhere.parent.mkdir(parents=True)
    elsewhere.write_text(json.dumps({"anit": {"nrm_alpha": 0.3}}))
    args = argparse.Namespace(work=tmp_path / "new", knobs_from=str(elsewhere), methods=["it", "anit"])
    assert knobs_file(args) == elsewhere
    assert borrowed_knobs(args) == {"it": {}, "anit": {"nrm_alpha": 0.3}}


def test_setup_note_names_it_matched_steps_only_where_it_matched_ran():
    args = parser().parse_args(["--datasets", "conll2003", "--methods", "it", "anit-fast", "--steps", "60"])
    note = setup_note(args, "conll2003, 48 test, 60 steps", "float32")
    assert note.startswith("conll2003, 48 test, 60 steps: ")
    assert "60 steps, batch 4" in note and "it-matched" not in note and "float32 base weights" in note
    args.methods.append("it-matched")
    assert "60 steps (x3 for it-matched), batch 4" in setup_note(args, "sst2", "float32")


def test_each_worker_runs_one_seed_of_one_dataset_and_keeps_the_rest_of_the_command():
    argv = ["--datasets", "sst2", "ag_news", "--seeds", "0", "1", "2", "--steps", "180", "--jobs", "3", "--table",
            "gpu"]
    commands = worker_commands(argv, "ag_news", [0, 1, 2])
    assert len(commands) == 3
    for seed, command in zip([0, 1, 2], commands):
        assert command[1:3] == ["-m", "bench.quality"]
        args = parser().parse_args(command[3:])
        assert (args.datasets, args.only_seed, args.jobs) == (["ag_news"], seed, 1)
        assert (args.seeds, args.steps, args.table) == ([0, 1, 2], 180, "gpu")


def finished_run(work: Path, name: str, knobs: dict, answers: list[str]) -> None:
    run = eval_dir(work / "sst2", name, knobs, 0)
    run.mkdir(parents=True)
    (run / "wall.json").write_text(json.dumps({"eval_s": 1.0, "ids": ["a", "b", "c"]}))
    (run / "raw.predictions.jsonl").write_text("".join(json.dumps({"generation": a}) + "\n" for a in answers))


def test_agreements_count_same_answers_only_between_runs_on_the_same_noise_draws(tmp_path):
    args = argparse.Namespace(work=tmp_path, methods=["noisy_it", "anit"], seeds=[0])
    finished_run(tmp_path, "noisy_it", {}, ["positive", "negative", "negative"])
    finished_run(tmp_path, "anit", {"nrm_beta_max": 10.0}, ["positive", "negative", "positive"])
    for rate in (0.3, 0.5):
        finished_run(tmp_path, "noisy_it", {"noise_rate": rate}, ["positive", "negative", "negative"])
    same_draws = {"noisy_it": {}, "anit": {"nrm_beta_max": 10.0}}
    assert agreements(args, "sst2", "x", same_draws, ["a", "b", "c"]) == [
        "x: anit gives the same raw-instruction answer as noisy_it on 2/3 test records (seeds [0], where both runs "
        "finished)."]
    assert agreements(args, "sst2", "x", same_draws, ["a", "b"]) == []
    other_draws = {"noisy_it": {"noise_rate": 0.3}, "anit": {"nrm_beta_max": 10.0}}
    assert agreements(args, "sst2", "x", other_draws, ["a", "b", "c"]) == []
    default_rate_spelt_out = {"noisy_it": {"noise_rate": 0.5}, "anit": {"nrm_beta_max": 10.0}}
    assert agreements(args, "sst2", "x", default_rate_spelt_out, ["a", "b", "c"]) == [
        "x: anit gives the same raw-instruction answer as noisy_it on 2/3 test records (seeds [0], where both runs "
        "finished)."]
