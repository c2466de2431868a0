"""The robustness benchmark's summary and the README block it feeds, from fixture work folders and JSON."""

import json
from pathlib import Path

import pytest

from bench.results import END, START, block, cell, step_costs
from bench.robustness_page import headline
from bench.robustness_report import FAILS, MEETS, NOT_JUDGED, alike, scoring_compared, table, verdict, walls

CPU = {"cpu": "Test CPU", "cores": 2, "cuda": None, "torch": "2.13.0", "python": "3.11.7", "date": "2026-12-04"}


def _run(work, name, raw, worst, wall=10.0, scoring="generate", near=None, noisy=None):
    """A run scored on 20 sst2 records: ``raw`` right under raw, ``worst`` under its worst instruction and, where
    given, ``near`` under its near worst one (PDR intervals [0.1, 0.5], or [-0.1, 0.3] for a near PDR under 0.2) and
    ``noisy`` under one noise type."""
    folder = work / "runs" / name / f"eval-{scoring}"
    folder.mkdir(parents=True)
    ids = [str(i) for i in range(20)]
    metrics = {"conditions": {}, "sensitivity": {}}
    for condition, right in (("raw", raw), ("worst-tc-0", worst), ("near-tc-0", near), ("noisy-char_typo", noisy)):
        if right is None:
            continue
        rows = [{"id": i, "dataset": "sst2", "parsed": "a" if int(i) < right else "b", "gold": "a"} for i in ids]
        (folder / f"{condition}.predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        metrics["conditions"][condition] = {"sst2": {"task": "tc", "accuracy": right / 20, "n": 20, "unparseable": 0}}
        if condition == "noisy-char_typo":
            metrics["conditions"]["noisy"] = metrics["conditions"][condition]
        elif condition != "raw":
            pdr = 1 - right / raw if raw else None          # as the evaluation writes it: none where raw is 0
            low, high = (None, None) if pdr is None else (0.1, 0.5) if condition == "worst-tc-0" or pdr >= 0.2 else (
                -0.1, 0.3)
            metrics["sensitivity"][condition.split("-")[0]] = {"sst2": {
                "worst": right / 20, "worst_condition": condition, "pdr_worst": pdr, "pdr_worst_low": low,
                "pdr_worst_high": high}}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    (work / "runs" / name / "wall.json").write_text(json.dumps({"train_s": wall}))


def test_table_and_verdict_say_whether_anit_halves_its_worst_case_drop(tmp_path):
    _run(tmp_path, "it-0", 16, 8)
    _run(tmp_path, "anit-0", 16, 14, wall=30.0)
    rows = table(tmp_path, "generate")["sst2"]
    assert [r["method"] for r in rows] == ["it", "anit"]
    it, anit = rows
    assert it["pdr_worst"][0] == pytest.approx(0.5) and anit["pdr_worst"][0] == pytest.approx(0.125)
    assert anit["vs_it_worst"][0]["raw_diff"] == 0.0 and anit["vs_it_worst"][0]["pdr_diff"] == pytest.approx(-0.375)
    assert it["worst_above_zero"] == 1 and anit["train_s"] == 30.0
    said = verdict("sst2", rows)
    sentence = said["text"]
    assert "`it` loses 50%" in sentence and "`anit` loses 12%" in sentence and "at most half" in sentence
    assert sentence.endswith("ANIT meets the goal here.") and said["outcome"] == MEETS
    # it's drop is seen by the paired interval of its PDR (the mean over seeds): one record of 20 is not seen
    _run(tmp_path / "small", "it-0", 16, 15)
    _run(tmp_path / "small", "anit-0", 16, 16)
    unseen = verdict("sst2", table(tmp_path / "small", "generate")["sst2"])
    assert unseen["it_low"] <= 0 < unseen["it_pdr"] and not unseen["seen"]
    assert unseen["text"].endswith("Not judged: the protocol does not see it's drop here.")
    assert unseen["outcome"] == NOT_JUDGED
    _run(tmp_path / "worse", "it-0", 16, 8)
    _run(tmp_path / "worse", "anit-0", 12, 9)
    worse = verdict("sst2", table(tmp_path / "worse", "generate")["sst2"])
    assert worse["text"].endswith("does not meet the goal here.") and worse["outcome"] == FAILS
    # the headline counts the outcomes, and says how much of the protocol has run
    line = headline([said, {**worse, "dataset": "ag_news"}, {**unseen, "dataset": "conll2003"}],
                    {"seeds": [0, 1, 2]}, {"it": 1, "anit": 1, "fgm": 0})
    assert line == ("Answer so far: the protocol sees `it`'s worst-case drop on 2 of 3 datasets (sst2, ag_news); "
                    "ANIT meets the goal (at most half of `it`'s drop, raw score not lower) on sst2 and not on "
                    "ag_news; elsewhere the goal is not judged. Runs finished (seeds per method, of 3): it 1, "
                    "anit 1.")
    # with it alone the drop it sees is said, and that the goal waits on anit
    alone = verdict("sst2", [rows[0]])
    assert alone["seen"] and alone["outcome"] == NOT_JUDGED
    assert headline([alone, {**unseen, "dataset": "conll2003"}], {"seeds": [0]}, {"it": 1}) == (
        "Answer so far: the protocol sees `it`'s worst-case drop on 1 of 2 datasets (sst2); the goal is not judged "
        "on any yet. Runs finished (seeds per method, of 1): it 1.")


def test_verdict_compares_anit_with_it_on_the_seeds_both_ran(tmp_path):
    _run(tmp_path, "it-0", 16, 8)
    _run(tmp_path, "it-1", 16, 16)
    _run(tmp_path, "anit-0", 16, 12)
    said = verdict("sst2", table(tmp_path, "generate")["sst2"])
    # over both of it's seeds it loses 25%, as much as anit; on seed 0, where both ran, it loses 50%
    assert said["text"].startswith("sst2: `it` loses 25% of its raw score under its worst instruction (PDR 0.250 "
                                   "[+0.125, +0.375], mean over 2 seed(s); above 0 on 2 of them alone); on the "
                                   "seed(s) both ran (0) `it` loses 50% (PDR 0.500 [+0.250, +0.750]); `anit` loses "
                                   "25%, with a raw score +0.000")
    assert said["outcome"] == MEETS and said["shared"] == [0] and said["it_pdr"] == pytest.approx(0.5)


def test_readme_block_is_generated_from_the_json(tmp_path):
    _run(tmp_path, "it-0", 16, 8)
    _run(tmp_path, "it-1", 18, 12)
    rows = table(tmp_path, "generate")["sst2"]
    robustness = {"settings": {"train": 120, "steps": 60}, "tables": {"generate": {"sst2": rows}},
                  "verdicts": {"generate": [verdict("sst2", rows)]}}
    speed = {"sections": [{"heading": "Training step, SmolLM2", "rows": [
        {"method": "it, length-grouped", "x it step": 1.0},
        {"method": "anit (exact), length-grouped", "x it step": 2.36}]}]}
    assert step_costs(speed) == {"it": 1.0, "noisy_it": 1.0, "it-matched": 3.0, "anit": 2.36, "anit-step": 2.36}
    text = block(robustness, speed, "docs/results.png")
    assert text.startswith(START) and text.endswith(END)
    assert "**Classification (accuracy)**" in text
    assert "| sst2 | it | 2 | 0.850 ± 0.071 | - | - | 0.417 ± 0.118 | - | 1.00x it |" in text
    assert "![scores per method and condition](docs/results.png)" in text and "robustness.png" not in text
    # the picture of the drops sits right under the answer, above the tables
    pictured = block({**robustness, "headline": {"generate": "**Answer so far: ...**"}}, speed, "docs/results.png",
                     answer="docs/benchmarks/robustness.png")
    assert pictured.index("**Answer so far") < pictured.index("(docs/benchmarks/robustness.png)") < pictured.index(
        "Multi-task LoRA on SmolLM2") < pictured.index("| dataset |")
    # the answer at a glance: it's drop seen on both seeds, the goal not judged until anit runs
    assert "| sst2 | 0.417 [+0.24, +0.64] | - | - | - | - | not judged / - |" in text
    assert "at anit's compute" not in text      # no it-matched yet: nothing to say
    said = "Against `it` at anit's compute (`it-matched`, seed 0), the same goal: ..."
    assert said in block({**robustness, "headline_matched": {"generate": said}}, speed, "docs/results.png")
    assert "(docs/benchmarks/robustness.md) (3 runs archived in `docs/benchmarks/runs/robustness/`); every" in block(
        robustness, speed, None, kept="3 runs archived in `docs/benchmarks/runs/robustness/`",
        page="docs/benchmarks/robustness.md")
    _run(tmp_path / "zero", "it-0", 16, 8)
    _run(tmp_path / "zero", "anit-0", 0, 0)
    zero = verdict("sst2", table(tmp_path / "zero", "generate")["sst2"])
    assert "`anit` scores 0 under its raw instruction" in zero["text"] and zero["outcome"] == FAILS
    assert cell([0.81, 0.031, 3]) == "0.810 ± 0.031" and cell([0.5, 0.0, 1]) == "0.500" and cell(None) == "-"


def test_scoring_compared_gives_each_scorings_drop_rate_and_their_agreement(tmp_path):
    _run(tmp_path, "it-0", 16, 8)                      # by generation: worst case loses half
    _run(tmp_path, "it-0", 16, 12, scoring="choice")   # by choice: a quarter
    _run(tmp_path, "anit-0", 10, 5)
    tables = {s: table(tmp_path, s) for s in ("generate", "choice")}
    (line,) = scoring_compared(tmp_path, tables)
    # it only is scored both ways; raw answers agree on all 20 records (the first 16 right under both)
    assert line == ("sst2 (1 methods): generation shows the larger drops (by up to 0.250); drop rate by generation "
                    "vs by choice: worst case 0.500 vs 0.250. Same answer under raw on 100% of 20 record-runs.")


@pytest.mark.parametrize("apart, said", [
    ([0.01, -0.02, 0.0], "both show the same drops (at most 0.020 apart)"),
    ([0.05, 0.01], "generation shows the larger drops (by up to 0.050)"),
    ([-0.01, -0.1], "choice shows the larger drops (by up to 0.100)"),
    ([0.05, -0.05], "neither shows the larger drops under every kind of instruction"),
])
def test_which_scoring_shows_the_drops_is_said_in_words(apart, said):
    from bench.robustness_report import which_shows

    assert which_shows(apart) == said


def test_walls_read_each_stage_of_each_run(tmp_path):
    _run(tmp_path, "it-0", 16, 8, wall=12.5)
    (tmp_path / "runs" / "it-0" / "attack_wall.json").write_text(json.dumps({"attack_s": 30.0}))
    (tmp_path / "runs" / "it-0" / "eval-generate" / "wall.json").write_text(json.dumps({"eval_s": 7.0}))
    assert walls(tmp_path) == [{"run": "it-0", "train": 12.5, "attack": 30.0, "attack (near)": None,
                                "eval (generate)": 7.0, "eval (choice)": None}]


def test_alike_names_methods_of_one_seed_that_answer_the_same(tmp_path):
    _run(tmp_path, "it-0", 16, 8)
    _run(tmp_path, "anit-0", 16, 12)    # the same raw answers as it-0
    _run(tmp_path, "fgm-0", 15, 12)     # one raw answer differs: 19 of 20 alike
    _run(tmp_path, "it-1", 16, 8)       # another seed: never compared
    assert alike(tmp_path) == ["anit and it give the same raw answer on 20 of 20 (seed 0) test records."]
    assert len(alike(tmp_path, share=0.95)) == 3
    said = ("anit and fgm give the same raw answer on 19 of 20 (seed 0) test records: anit's response to distortion "
            "(fgm perturbs every sample at one strength) made no difference to what they answer on that seed.")
    assert said in alike(tmp_path, share=0.95)
    # one line per pair over the seeds: where a seed is not alike, it says so
    _run(tmp_path, "anit-1", 16, 8)
    _run(tmp_path, "fgm-1", 16, 8)
    _run(tmp_path, "anit-2", 16, 8)
    _run(tmp_path, "fgm-2", 10, 8)
    assert [line for line in alike(tmp_path, share=0.95) if line.startswith("anit and fgm")] == [
        "anit and fgm give the same raw answer on 19 of 20 (seed 0), 20 of 20 (seed 1) test records (not on seed 2: "
        "14 of 20): anit's response to distortion (fgm perturbs every sample at one strength) made no "
        "difference to what they answer on those seeds."]


def test_a_work_folder_keeps_its_protocol_and_refuses_another(tmp_path):
    from bench.robustness import check_protocol, parse_args

    work = tmp_path / "work"
    work.mkdir()
    check_protocol(parse_args(["--work", str(work), "--steps", "60"]))
    assert json.loads((work / "protocol.json").read_text())["steps"] == 60
    check_protocol(parse_args(["--work", str(work), "--steps", "60", "--seeds", "1"]))  # seeds are not protocol
    with pytest.raises(SystemExit) as stop:
        check_protocol(parse_args(["--work", str(work), "--test-tc", "256", "--steps", "60"]))
    message = str(stop.value)
    assert message == (f"{work / 'protocol.json'}: field 'test_tc' is 128 there but this run asks 256; "
                       "pass --test-tc 128 to continue it, or another --work")
    assert json.loads((work / "protocol.json").read_text())["test_tc"] == 128


def test_summaries_under_other_protocols_are_listed_with_their_answer(tmp_path):
    from bench.robustness_page import other_runs

    for name, steps in (("robustness", 180), ("robustness-60steps", 60), ("robustness-3x", 540)):
        payload = {"settings": {"steps": steps, "command": f"python -m bench.robustness --steps {steps}",
                                "test_tc": 128, "test_ext": 48, "dev_tc": 32, "dev_ext": 8},
                   "headline": {"generate": f"Answer {steps}."},
                   **({"in_short": {"generate": "**In short: 1 of 2.**"}} if steps == 540 else {})}
        (tmp_path / f"{name}.json").write_text(json.dumps(payload))
    for run in ("it-0", "anit-0"):                          # the 540-step runs are archived, the 60-step ones not
        (tmp_path / "runs" / "robustness-3x").mkdir(parents=True, exist_ok=True)
        (tmp_path / "runs" / "robustness-3x" / f"{run}.json.gz").write_bytes(b"")
    sized = "test 128/48, dev 32/8 records per classification/extraction dataset"
    assert other_runs(tmp_path, "docs/", main="robustness") == [
        f"[docs/robustness-3x.md](docs/robustness-3x.md), 540 steps, {sized} (`python -m bench.robustness --steps "
        "540`; 2 runs archived in `docs/runs/robustness-3x/`): **In short: 1 of 2.** Answer 540.",
        f"[docs/robustness-60steps.md](docs/robustness-60steps.md), 60 steps, {sized} "
        "(`python -m bench.robustness --steps 60`; its runs predate the run archive, so it cannot be rebuilt or "
        "continued): Answer 60."]
    # the answer page is left out of the list, whichever page it is
    assert [line.split("]")[0] for line in other_runs(tmp_path, "docs/", main="robustness-3x")] == [
        "[docs/robustness-60steps.md", "[docs/robustness.md"]


def test_the_page_says_the_sizes_and_steps_that_ran(tmp_path):
    from bench.robustness_page import markdown

    _run(tmp_path, "it-0", 16, 8)
    settings = {"command": "python -m bench.robustness --steps 180", "steps": 180, "train": 120, "test_tc": 64,
                "test_ext": 16, "dev_tc": 32, "dev_ext": 8, "budget_tc": 24, "budget_ext": 8}
    page = markdown({"generate": table(tmp_path, "generate")}, settings, [], [], [], [], CPU)
    assert "`python -m bench.robustness --steps 180`" in page
    assert ("test 64 records per classification dataset and 16 per extraction one" in page
            and "every method trains 180 steps on 120 records per dataset" in page)
    assert "trains ? steps on ? records" in markdown({}, {}, [], [], [], [], CPU)


def test_runs_go_it_and_anit_on_every_seed_first():
    from bench.robustness import run_order

    assert run_order(["it", "anit", "fgm", "neftune"], [0, 1]) == [
        ("it", 0), ("anit", 0), ("it", 1), ("anit", 1), ("fgm", 0), ("neftune", 0), ("fgm", 1), ("neftune", 1)]
    assert run_order(["fgm"], [2]) == [("fgm", 2)]
    assert run_order(["it", "anit", "noisy_it", "it-matched", "fgm"], [0, 1]) == [
        ("it", 0), ("anit", 0), ("it", 1), ("anit", 1), ("it-matched", 0), ("it-matched", 1),
        ("noisy_it", 0), ("fgm", 0), ("noisy_it", 1), ("fgm", 1)]


def test_verdict_says_where_the_attack_could_not_rank_candidates(tmp_path):
    import yaml

    _run(tmp_path, "it-0", 16, 8)
    _run(tmp_path, "anit-0", 16, 14)
    ranked = {"tc": [{"instruction": "x", "dev_score": 0.4, "raw_dev_score": 0.6, "pdr": 0.33}]}
    blind = {"tc": [{"instruction": "y", "dev_score": 0.0, "raw_dev_score": 0.0, "pdr": None}]}
    (tmp_path / "runs" / "it-0" / "worst.yaml").write_text(yaml.safe_dump(blind))
    (tmp_path / "runs" / "anit-0" / "worst.yaml").write_text(yaml.safe_dump(ranked))
    rows = table(tmp_path, "generate")["sst2"]
    assert [r["worst_unranked"] for r in rows] == [1, 0]
    text = verdict("sst2", rows)["text"]
    assert "[the attack found no worst case for `it` on 1 seed(s): the raw dev score was 0" in text
    (tmp_path / "runs" / "it-0" / "worst.yaml").write_text(yaml.safe_dump({**blind, **ranked}))
    assert "found no worst case" not in verdict("sst2", table(tmp_path, "generate")["sst2"])["text"]


def test_the_benchmarks_attacks_try_the_noise_types_it_started_with_in_their_order():
    """Pinned: a type registered later would change the candidate pools of runs resumed after it."""
    from anit.noise import NOISES
    from bench.robustness import ATTACK_NOISES

    rules = [name for name in NOISES if not NOISES.get(name).batched]
    assert rules[:len(ATTACK_NOISES)] == ATTACK_NOISES and len(ATTACK_NOISES) == 16


def test_worst_origins_count_the_families_of_each_methods_worst_instructions(tmp_path):
    import yaml

    from bench.robustness_page import markdown
    from bench.robustness_report import worst_origins

    for name, origins in (("it-0", ["opposite-1", "paraphrase-0+char_typo:0.1@1000", "opposite-3"]),
                          ("it-1", ["char_typo:0.3@1"]), ("anit-0", ["unseen-2"])):
        (tmp_path / "runs" / name).mkdir(parents=True)
        table = {"tc": [{"instruction": "x", "origin": o} for o in origins[:2]],
                 "ner": [{"instruction": "y", "origin": o} for o in origins[2:]]}
        (tmp_path / "runs" / name / "worst.yaml").write_text(yaml.safe_dump(table))
    lines = worst_origins(tmp_path)
    assert lines == ["anit: unseen 1 (of 1 worst instructions, 1 seed(s))",
                     "it: opposite 2, paraphrase 1, noise 1 (of 4 worst instructions, 2 seed(s))"]
    page = markdown({}, {}, [], [], [], lines, CPU)
    assert "## Where the worst instructions come from" in page and "- it: opposite 2, paraphrase 1, noise 1" in page


def test_raw_not_lower_is_judged_on_the_mean_over_seeds_with_one_interval(tmp_path):
    import numpy as np

    from bench.robustness_report import pooled_raw

    _run(tmp_path, "it-0", 16, 8)
    _run(tmp_path, "anit-0", 12, 11)  # seed 0: anit's raw lower on 4 of 20 records
    _run(tmp_path, "it-1", 14, 7)
    _run(tmp_path, "anit-1", 18, 17)  # seed 1: higher on 4 others
    pooled = pooled_raw(tmp_path, "anit", [0, 1], "generate", "sst2", "tc")
    assert pooled["raw_diff"] == pytest.approx(0.0) and pooled["raw_low"] < 0 < pooled["raw_high"]
    # the interval is that of the mean over seeds under one resample of records: recomputed directly
    index = np.random.default_rng(0).integers(0, 20, size=(1000, 20))
    order = np.array(sorted(range(20), key=str))    # the records in the order of their ids
    right = {name: order < n for name, n in (("it-0", 16), ("anit-0", 12), ("it-1", 14), ("anit-1", 18))}
    diffs = [(right["anit-0"][row].mean() - right["it-0"][row].mean()
              + right["anit-1"][row].mean() - right["it-1"][row].mean()) / 2 for row in index]
    assert (pooled["raw_low"], pooled["raw_high"]) == pytest.approx(tuple(np.percentile(diffs, [2.5, 97.5])))
    rows = table(tmp_path, "generate")["sst2"]
    anit = next(r for r in rows if r["method"] == "anit")
    assert anit["vs_it_worst"][0]["raw_high"] < 0  # lower on seed 0 alone
    said = verdict("sst2", rows)
    assert "(mean over 2 seed(s); not lower beyond its paired interval)" in said["text"]
    assert said["outcome"] == MEETS


def test_the_near_worst_case_gets_its_own_verdict_and_sentence(tmp_path):
    from bench.robustness_page import markdown
    from bench.robustness_page import near_headline

    _run(tmp_path, "it-0", 16, 8, near=12)      # near the raw wording it loses 25% (interval above 0)
    _run(tmp_path, "anit-0", 16, 12, near=15)   # anit 6%: at most half of it's near drop
    _run(tmp_path, "it-1", 16, 8)               # a run from before the near case: left out of its numbers
    rows = table(tmp_path, "generate")["sst2"]
    it, anit = rows
    assert it["pdr_near"][:2] == (pytest.approx(0.25), 0.0) and it["pdr_near"][2] == 1
    assert it["near_above_zero"] == 1 and anit["vs_it_near"][0]["pdr_diff"] == pytest.approx(-0.1875)
    near = verdict("sst2", rows, "near")
    assert near["text"].startswith("sst2: `it` loses 25% of its raw score under its worst instruction near the raw "
                                   "wording (PDR 0.250 [+0.059, +0.471], mean over 1 seed(s); above 0 on 1 of them "
                                   "alone)")
    assert near["outcome"] == MEETS and near["measured"]
    # the unbounded verdict is the one it was: it over both seeds, anit 25% against it's 50% on seed 0
    assert verdict("sst2", rows)["outcome"] == MEETS
    settings = {"near": 0.35}
    assert near_headline([near], settings) == (
        "Near the raw wording (the worst within hard distortion 0.35: typos and a few words edited), the protocol "
        "sees `it`'s drop on 1 of 1 datasets (sst2); ANIT meets the goal on sst2.")
    # the README's answer at a glance: both cases on the seeds both ran (0)
    from bench.results import answer_table

    glance = answer_table({"verdicts": {"generate": [verdict("sst2", rows)]}, "verdicts_near": {"generate": [near]}})
    assert glance[2] == ("| sst2 | 0.500 [+0.25, +0.75] | 0.250 [+0.06, +0.47] | 0.250 [+0.06, +0.47] | "
                         "0.062 [+0.00, +0.20] | +0.000 [+0.000, +0.000] | **meets** / **meets** |")
    # it's small near drop (interval across 0) is not seen, so the goal is not judged there
    _run(tmp_path / "small", "it-0", 16, 8, near=14)
    _run(tmp_path / "small", "anit-0", 16, 12, near=15)
    small = verdict("sst2", table(tmp_path / "small", "generate")["sst2"], "near")
    assert small["outcome"] == NOT_JUDGED and not small["seen"]
    assert near_headline([small], settings).endswith("the protocol sees `it`'s drop on 0 of 1 datasets; the goal is "
                                                     "not judged on any yet.")
    # it scored under its near worst case, anit not yet: said so, not judged
    _run(tmp_path / "late", "it-0", 16, 8, near=12)
    _run(tmp_path / "late", "anit-0", 16, 12)
    late = verdict("sst2", table(tmp_path / "late", "generate")["sst2"], "near")
    assert late["text"].endswith("; `anit` not scored under its worst instruction near the raw wording yet on it's "
                                 "seeds.") and late["outcome"] == NOT_JUDGED
    # before any near case is scored there is no sentence, and the page gives the unbounded verdict alone
    _run(tmp_path / "old", "it-0", 16, 8)
    old = table(tmp_path / "old", "generate")
    unmeasured = verdict("sst2", old["sst2"], "near")
    assert unmeasured["text"] == "sst2: `it` was not scored under its worst instruction near the raw wording."
    assert near_headline([unmeasured], settings) == ""
    page = markdown({"generate": old}, settings, [], [], [], [], CPU)
    assert "near the raw wording" not in page.split("### sst2")[1] and "under its worst instruction (" in page
    assert "Near worst case:" not in page
    measured = markdown({"generate": table(tmp_path, "generate")}, settings, [], [], [], [], CPU)
    assert "- Near worst case: the same search with the same budget, among candidates within hard (word-edit) " \
           "distortion 0.35" in measured and near["text"] in measured


def test_a_protocol_field_added_later_is_recorded_then_kept(tmp_path):
    from bench.robustness import check_protocol, parse_args

    work = tmp_path / "work"
    work.mkdir()
    check_protocol(parse_args(["--work", str(work)]))
    held = json.loads((work / "protocol.json").read_text())
    del held["near"]                                      # a folder written before the near worst case
    (work / "protocol.json").write_text(json.dumps(held))
    check_protocol(parse_args(["--work", str(work), "--near", "0.25"]))
    assert json.loads((work / "protocol.json").read_text())["near"] == 0.25
    with pytest.raises(SystemExit, match="field 'near' is 0.25 there but this run asks 0.35"):
        check_protocol(parse_args(["--work", str(work)]))


def test_a_run_is_finished_only_when_its_evaluations_hold_every_condition(tmp_path):
    """A condition added to the protocol (the near worst case) makes finished runs resume to score it."""
    import yaml

    from bench.robustness import evaluated, evaluations

    records = [{"id": f"s{i}", "task": "tc", "dataset": "sst2", "instruction": "Classify.", "input": f"x{i}",
                "options": ["a", "b"], "gold": "a", "noise_type": "char_typo", "noisy_instruction": "Clasify."}
               for i in range(3)]
    (tmp_path / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    folder = tmp_path / "it-0"
    (folder / "eval-choice").mkdir(parents=True)
    paths = {"test": tmp_path / "test.jsonl"}
    (folder / "worst.yaml").write_text(yaml.safe_dump({"tc": ["Sort it.", "Label it."]}))
    scoring, tc, which = evaluations(paths, folder)[1]
    held = ["raw", "noisy-char_typo", "noisy", "worst-tc-0", "worst-tc-1"] + [f"unseen-tc-{k}" for k in range(6)]
    (folder / "eval-choice" / "metrics.json").write_text(json.dumps({"conditions": dict.fromkeys(held, {})}))
    assert scoring == "choice" and not evaluated(folder, scoring, tc, which)   # near.yaml not written yet
    (folder / "near.yaml").write_text(yaml.safe_dump({"tc": ["Clasify."]}))
    assert not evaluated(folder, scoring, tc, which)                           # written, not scored
    (folder / "eval-choice" / "metrics.json").write_text(json.dumps({"conditions": dict.fromkeys(
        held + ["near-tc-0"], {})}))
    assert evaluated(folder, scoring, tc, which)


def test_the_near_attack_keeps_to_its_bound_and_reuses_the_unbounded_scores(tmp_path, monkeypatch):
    import sys

    import yaml
    from transformers import AutoModelForCausalLM, AutoTokenizer

    import bench.robustness
    from bench.robustness import attack_run, parse_args

    # one noise type: the unbounded search scores every first candidate (12, under its budget of 16), so the near
    # search's in-bound ones are all known to it
    monkeypatch.setattr(bench.robustness, "ATTACK_NOISES", ["char_typo"])
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import tiny

    built = tiny.build(tmp_path / "tiny", chat=True, seed=3)
    model, tokenizer = AutoModelForCausalLM.from_pretrained(built).eval(), AutoTokenizer.from_pretrained(built)
    texts = ["a warm funny film", "dull and far too long", "Anna Smith visited Paris", "far too long", "a film"]
    dev = tmp_path / "dev.jsonl"
    dev.write_text("".join(json.dumps({
        "id": str(i), "dataset": "sst2", "task": "tc", "instruction": "Classify the text into one of the given "
        "categories.", "question": "Which label?", "format": "one label", "options": ["negative", "positive"],
        "input": text, "gold": ["positive", "negative"][i % 2]}) + "\n" for i, text in enumerate(texts)))
    args = parse_args(["--work", str(tmp_path / "work"), "--budget-tc", "16", "--rewrites", "0", "--near", "0.4"])
    folder = tmp_path / "work" / "runs" / "it-0"
    folder.mkdir(parents=True)
    assert attack_run(args, {"dev": dev}, folder, model, tokenizer).name == "worst.yaml"
    near = attack_run(args, {"dev": dev}, folder, model, tokenizer, bound=args.near)
    entries = yaml.safe_load(near.read_text())["tc"]
    assert entries and all(e["distortion"]["word_edit"] <= 0.4 for e in entries)
    assert entries[0]["found_on"]["adapter"] == str(folder.resolve())   # where it was searched: this run's adapter
    unbounded = (folder / "attack-choice" / "candidates.jsonl").read_text()
    seeded = (folder / "near-choice" / "candidates.jsonl").read_text()
    assert seeded.startswith(unbounded)
    report = json.loads((folder / "near-choice" / "attack.json").read_text())["tasks"]["tc"]
    known = {json.loads(line)["instruction"] for line in unbounded.splitlines()}
    reused = [row for row in report["ranked"] if row["instruction"] in known]
    # every in-bound candidate was scored by the unbounded search: none is scored again, the cache does not grow
    assert report["evaluated"] == len(reused) > 0 and report["newly_scored"] == 0 and report["outside_bound"] > 0
    assert seeded == unbounded
    assert set(json.loads((folder / "attack_wall.json").read_text())) == {"attack_s", "near_s"}


def test_its_drop_is_seen_by_one_interval_of_the_mean_pdr_over_seeds(tmp_path):
    import numpy as np

    from bench.robustness_report import pooled_pdr

    _run(tmp_path, "it-0", 16, 8)
    _run(tmp_path, "it-1", 10, 9)
    found = pooled_pdr(tmp_path, "it", [0, 1], "generate", "sst2", "tc", {0: "worst-tc-0", 1: "worst-tc-0"})
    assert found["value"] == pytest.approx((0.5 + 0.1) / 2) and found["seeds"] == [0, 1]
    # recomputed directly: one resample of the 20 records serves both seeds, the mean of their drop rates
    index = np.random.default_rng(0).integers(0, 20, size=(1000, 20))
    order = np.array(sorted(range(20), key=str))    # the records in the order of their ids
    right = {name: order < n for name, n in (("raw0", 16), ("bad0", 8), ("raw1", 10), ("bad1", 9))}
    rates = [np.mean([1 - right[f"bad{s}"][row].mean() / right[f"raw{s}"][row].mean() for s in (0, 1)])
             for row in index]
    assert (found["low"], found["high"]) == pytest.approx(tuple(np.percentile(rates, [2.5, 97.5])))
    assert verdict("sst2", table(tmp_path, "generate")["sst2"])["seen"] == (found["low"] > 0)


def test_pooled_over_one_seed_is_the_paired_comparison_of_that_seed(tmp_path):
    """Two implementations of one interval: pooled_raw on a single seed against paired_against (via versus_it)."""
    from bench.robustness_report import pooled_raw

    _run(tmp_path, "it-0", 16, 8)
    _run(tmp_path, "anit-0", 13, 11)
    one = pooled_raw(tmp_path, "anit", [0], "generate", "sst2", "tc")
    anit = next(r for r in table(tmp_path, "generate")["sst2"] if r["method"] == "anit")
    paired = anit["vs_it_worst"][0]
    assert (one["raw_diff"], one["raw_low"], one["raw_high"]) == pytest.approx(
        (paired["raw_diff"], paired["raw_low"], paired["raw_high"]))
    assert one["raw_diff"] == pytest.approx(-0.15) and one["raw_low"] < -0.15 < one["raw_high"]


def test_each_method_is_set_against_it_seed_by_seed_under_every_kind_of_instruction(tmp_path):
    from bench.robustness_page import against_it

    _run(tmp_path, "it-0", 16, 8, near=12, noisy=12)
    _run(tmp_path, "anit-0", 16, 12, near=15, noisy=15)
    rows = table(tmp_path, "generate")["sst2"]
    lines = against_it(rows)
    assert lines[2] == ("| method | seed | raw − it's | PDR − it's: worst case | PDR − it's: near worst case | "
                        "PDR − it's: held-out worst | PDR − it's: noisy (pooled) |")
    cells = [c.strip() for c in lines[4].strip("|").split("|")]
    assert cells[:3] == ["anit", "0", "+0.000 [+0.000, +0.000]"]
    # worst: 0.25 - 0.5; near: 1/16 - 1/4; noisy (pooled): 1/16 - 1/4; no held-out instructions scored
    assert [float(c.split(" [")[0]) for c in (cells[3], cells[4], cells[6])] == pytest.approx([-0.25, -0.1875,
                                                                                               -0.1875], abs=1e-3)
    assert cells[5] == "-"
    assert against_it([rows[0]]) == [] and "near" not in "".join(against_it(rows, near=False))


def test_anit_is_judged_against_it_at_its_compute_on_the_seeds_both_ran(tmp_path):
    from bench.robustness_page import against_matched, matched_headline

    _run(tmp_path, "it-0", 16, 8)
    _run(tmp_path, "anit-0", 16, 14, near=15)
    _run(tmp_path, "anit-1", 18, 12)
    _run(tmp_path, "it-matched-0", 18, 9, near=9)
    rows = table(tmp_path, "generate")["sst2"]
    anit = next(r for r in rows if r["method"] == "anit")
    worst, near = anit["matched"]["worst"], anit["matched"]["near"]
    # seed 1 has no it-matched run: only seed 0 is compared; it-matched loses half (9 of 18), anit 2 of 16
    assert worst["seeds"] == [0] and near["seeds"] == [0]
    assert worst["matched"]["value"] == pytest.approx(0.5) and worst["anit"]["value"] == pytest.approx(1 - 14 / 16)
    assert worst["raw"]["raw_diff"] == pytest.approx((16 - 18) / 20)
    assert near["anit"]["value"] == pytest.approx(1 - 15 / 16)
    assert all(r.get("matched") is None for r in rows if r["method"] != "anit")
    assert matched_headline(table(tmp_path, "generate")) == (
        "Against `it` at anit's compute (`it-matched`, seed 0), the same goal: under its worst instruction, ANIT "
        "meets it on sst2; under its worst instruction near the raw wording, ANIT meets it on sst2.")
    lines = against_matched(rows)
    assert lines[2] == "| case | seeds | it-matched PDR | anit PDR | raw − it-matched's | reading |"
    assert lines[4].startswith("| worst | 0 | 0.500 [") and lines[4].endswith(" | meets |")
    # raw lower beyond the interval: the drop is halved, and the goal still fails
    _run(tmp_path / "lower", "anit-0", 10, 9)
    _run(tmp_path / "lower", "it-matched-0", 20, 10)
    lower = table(tmp_path / "lower", "generate")
    assert "not on sst2 (raw score lower)" in matched_headline(lower)
    assert matched_headline(table(tmp_path / "lower", "choice")) == ""


def test_the_page_says_where_the_runs_ran_and_how_many_at_once():
    from bench.robustness_page import ran_on

    assert ran_on(CPU) == "Ran on Test CPU, 2 cores, GPU: none, torch 2.13.0, Python 3.11.7, 2026-12-04."
    assert ran_on({**CPU, "unrecorded": True}) == (
        "Summarised on Test CPU, 2 cores, GPU: none, 2026-12-04; the runs predate machine.json, so where they ran is "
        "not recorded.")
    gpu = {**CPU, "cores": 16, "cuda": "NVIDIA H200", "jobs": 8}
    assert ran_on(gpu) == ("Ran on Test CPU, 16 cores, GPU: NVIDIA H200, torch 2.13.0, Python 3.11.7, 2026-12-04; "
                           "8 runs at a time (`--jobs`).")


def test_each_worker_runs_one_method_and_seed_of_the_parents_protocol():
    from bench.robustness import parse_args, run_order, worker_commands

    argv = ["--steps", "540", "--methods", "it", "anit", "--seeds", "0", "1", "--jobs", "3", "--work", "w"]
    commands = worker_commands(argv, run_order(["it", "anit"], [0, 1]))
    assert [c[c.index("bench.robustness") + 1:][-7:] for c in commands][1] == [
        "--methods", "anit", "--seeds", "0", "--jobs", "1", "--worker"]
    parsed = [parse_args(c[c.index("bench.robustness") + 1:]) for c in commands]
    assert [(a.methods, a.seeds, a.steps, a.jobs, a.worker, str(a.work)) for a in parsed] == [
        (["it"], [0], 540, 1, True, "w"), (["anit"], [0], 540, 1, True, "w"), (["it"], [1], 540, 1, True, "w"),
        (["anit"], [1], 540, 1, True, "w")]


def test_the_attacks_on_dev_are_reported_per_method_before_test_is_scored(tmp_path):
    import yaml

    from bench.robustness_page import markdown
    from bench.robustness_report import dev_attacks

    found = {("it", 0): (0.75, 0.625), ("it", 1): (0.75, 0.5625), ("anit", 0): (0.75, 0.75)}
    for (method, seed), (raw, worst) in found.items():
        folder = tmp_path / "runs" / f"{method}-{seed}"
        folder.mkdir(parents=True)
        entry = {"instruction": "x", "dev_score": worst, "raw_dev_score": raw, "pdr": 1 - worst / raw,
                 "origin": "char_typo:0.1@1"}
        (folder / "worst.yaml").write_text(yaml.safe_dump({"tc": [entry, {**entry, "dev_score": 0.9}]}))
    (tmp_path / "runs" / "it-0" / "near.yaml").write_text(yaml.safe_dump(
        {"tc": [{"instruction": "y", "dev_score": 0.7, "raw_dev_score": 0.75, "pdr": 0.0667, "origin": "pad_rear"}]}))
    (tmp_path / "runs" / "fgm-0").mkdir()                                      # trained, not attacked yet
    rows = dev_attacks(tmp_path)
    assert [(r["method"], r["case"], r["raw"][2]) for r in rows] == [("anit", "worst", 1), ("it", "worst", 2),
                                                                     ("it", "near", 1)]
    it = rows[1]
    assert it["worst"][0] == pytest.approx(0.59375) and it["pdr"][0] == pytest.approx((1 / 6 + 0.25) / 2)
    assert rows[0]["pdr"] == (0.0, 0.0, 1)
    page = markdown({}, {}, [], [], [], [], CPU, rows)
    assert "| tc | worst case | it | 2 | 0.750 ± 0.000 | 0.594 ± 0.044 | 0.208 ± 0.059 |" in page
    assert "| tc | near worst case | it | 1 | 0.750 | 0.700 | 0.067 |" in page
    zero = tmp_path / "runs" / "it-2"
    zero.mkdir()
    (zero / "worst.yaml").write_text(yaml.safe_dump(
        {"tc": [{"instruction": "z", "dev_score": 0.0, "raw_dev_score": 0.0, "pdr": None, "origin": "pad_rear"}]}))
    page = markdown({}, {}, [], [], [], [], CPU, dev_attacks(tmp_path))
    assert "| tc | worst case | it | 3 | 0.500 ± 0.433 | 0.396 ± 0.344 | 0.208 ± 0.059 (2 seeds: raw 0 on the " \
           "others) |" in page
    assert "## What the attacks found on dev" not in markdown({}, {}, [], [], [], [], CPU)
    assert headline([], {}, {}) == ("No run is scored on test yet; what the attacks found on dev, where they "
                                    "finished, is on the page.")


def test_the_answer_picture_shows_each_methods_drop_against_the_goal_and_both_verdicts(tmp_path):
    from bench.answer_figure import answer_points

    def robustness(work):
        rows = table(work, "generate")
        return {"tables": {"generate": rows}, "verdicts": {"generate": [verdict(d, r) for d, r in rows.items()]}}

    _run(tmp_path, "anit-0", 16, 14)
    _run(tmp_path, "it-matched-0", 16, 8)
    _run(tmp_path, "it-0", 16, 8)
    _run(tmp_path, "noisy_it-0", 0, 0)            # raw 0: no drop rate, so no dot
    points = answer_points(robustness(tmp_path))["sst2"]
    assert [row["method"] for row in points["rows"]] == ["it", "anit", "it-matched"]
    it, anit, _ = points["rows"]
    assert it["worst"][0] == pytest.approx(0.5) and anit["worst"][0] == pytest.approx(0.125)
    assert it["worst"][1] > 0 and anit["worst"][1] <= 0.125 <= anit["worst"][2] and it["near"] is None
    assert it["raw"] == pytest.approx(0.8) and anit["seeds"] == [0]
    assert it["per_seed"]["worst"] == [pytest.approx(0.5)] and it["per_seed"]["near"] == [None]
    assert points["goal"] == pytest.approx(0.25) and points["goal_near"] is None
    assert points["vs_it"] == MEETS and points["vs_matched"] == "meets"
    # at anit's compute it scores higher raw: anit halves its drop but its raw score is lower
    _run(tmp_path / "b", "it-0", 16, 8)
    _run(tmp_path / "b", "it-matched-0", 20, 10)
    _run(tmp_path / "b", "anit-0", 12, 11)
    lower = answer_points(robustness(tmp_path / "b"))["sst2"]
    assert lower["vs_matched"] == "fails (raw lower)" and lower["vs_it"] == FAILS
    # where it's own drop is not seen there is no goal to draw
    _run(tmp_path / "c", "it-0", 16, 15)
    _run(tmp_path / "c", "anit-0", 16, 16)
    unseen = answer_points(robustness(tmp_path / "c"))["sst2"]
    assert unseen["goal"] is None and unseen["vs_it"] == NOT_JUDGED and unseen["vs_matched"] is None


def test_the_verdict_says_on_how_many_seeds_alone_anit_halves_its_drop(tmp_path):
    _run(tmp_path, "it-0", 16, 8)        # PDR 0.5 on both seeds
    _run(tmp_path, "it-1", 16, 8)
    _run(tmp_path, "anit-0", 16, 14)     # 0.125: at most half of 0.5
    _run(tmp_path, "anit-1", 16, 11)     # 0.3125: more than half; the mean 0.22 is at most half
    said = verdict("sst2", table(tmp_path, "generate")["sst2"])
    assert said["outcome"] == MEETS
    assert "; seed by seed, anit's drop is at most half of it's on 1 of 2. ANIT's drop is at most half" in said["text"]
    _run(tmp_path / "one", "it-0", 16, 8)
    _run(tmp_path / "one", "anit-0", 16, 14)
    assert "seed by seed" not in verdict("sst2", table(tmp_path / "one", "generate")["sst2"])["text"]


@pytest.mark.shared_data
def test_prepare_only_writes_the_protocol_and_its_data_and_loads_no_model(tmp_path, monkeypatch, shared_data):
    import bench.robustness as bench

    def no_model(*args, **kwargs):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(bench, "Scorer", no_model)
    monkeypatch.setattr(bench, "summarise", no_model)
    sizes = ["--train", "4", "--dev-tc", "2", "--dev-ext", "1", "--test-tc", "3", "--test-ext", "2"]
    bench.main(["--prepare-only", "--work", str(tmp_path), "--data-dir", str(shared_data), *sizes])
    protocol = json.loads((tmp_path / "protocol.json").read_text())
    assert (protocol["train"], protocol["dev_tc"], protocol["test_ext"]) == (4, 2, 2)
    from anit.jsonl import read_jsonl

    counts = {split: read_jsonl(tmp_path / "data" / f"{split}.jsonl") for split in ("train", "dev", "test")}
    per = {split: {d: sum(r["dataset"] == d for r in rows) for d in bench.DATASETS_USED}
           for split, rows in counts.items()}
    assert per["train"] == dict.fromkeys(bench.DATASETS_USED, 4)
    assert per["dev"] == {"sst2": 2, "ag_news": 2, "conll2003": 1, "aste_14res": 1}
    assert per["test"] == {"sst2": 3, "ag_news": 3, "conll2003": 2, "aste_14res": 2}
    assert all("noisy_instruction" in r for r in counts["test"]) and not (tmp_path / "runs").exists()


def test_the_page_opens_with_the_answer_and_its_picture(tmp_path, monkeypatch):
    import bench.robustness_page as page

    _run(tmp_path, "it-0", 16, 8)
    _run(tmp_path, "anit-0", 16, 14)
    monkeypatch.setattr(page, "DOCS", tmp_path / "docs")
    payload = page.summarise(tmp_path, {"methods": ["it", "anit"], "seeds": [0]}, name="mine")
    text = (tmp_path / "docs" / "benchmarks" / "mine.md").read_text()
    assert (tmp_path / "docs" / "benchmarks" / "mine.png").exists()
    opening = text.index("## The answer")
    assert opening < text.index(payload["headline"]["generate"]) < text.index("](mine.png)") < text.index(
        "- Protocol:")
    assert "Near the raw wording" not in text          # no near worst case ran: its empty headline is left out
    # a work folder without runs scored on test has no picture
    assert "](" not in page.markdown({}, {}, [], [], [], [], CPU, answer=["No run is scored on test yet", ""])


def test_a_training_stopped_midway_resumes_from_its_checkpoint_and_counts_the_time_behind_it(tmp_path, monkeypatch):
    import bench.robustness as bench

    args = bench.parse_args(["--work", str(tmp_path), "--steps", "60"])
    paths = bench.data_paths(tmp_path)
    paths["train"].parent.mkdir(parents=True)
    paths["train"].write_text('{"id": "a"}\n')
    calls = []

    def train(cfg):
        out = Path(cfg.output_dir)
        calls.append((cfg.resume, cfg.save_steps, cfg.save_total_limit, cfg.max_steps))
        if not cfg.resume:                          # the benchmark stops after the first checkpoint
            (out / "checkpoint-30").mkdir()
            raise KeyboardInterrupt
        (out / "train_summary.json").write_text(json.dumps({"steps": 180, "resumed": {"step": 30, "train_s": 500.0}}))

    monkeypatch.setattr("anit.training.run.train", train)
    with pytest.raises(KeyboardInterrupt):
        bench.train_run(args, paths, "it-matched", 0)
    folder = bench.train_run(args, paths, "it-matched", 0)
    assert calls == [(False, bench.CHECKPOINT_STEPS, 2, 180), (True, bench.CHECKPOINT_STEPS, 2, 180)]
    wall = json.loads((folder / "wall.json").read_text())
    assert 500.0 <= wall["train_s"] < 560 and (wall["steps"], wall["resumed_at"]) == (180, 30)
    assert not list(folder.glob("checkpoint-*"))           # the finished run keeps its adapter, not its checkpoints


def test_from_three_seeds_the_verdict_gives_anits_margin_with_an_interval_over_the_seeds(tmp_path):
    for seed in range(3):
        _run(tmp_path, f"it-{seed}", 16, 8)          # PDR 0.5 on every seed: half of it is 0.25
    for seed, worst in enumerate((14, 12, 10)):      # anit's PDR 0.125, 0.25, 0.375: margins -0.125, 0, +0.125
        _run(tmp_path, f"anit-{seed}", 16, worst)
    said = verdict("sst2", table(tmp_path, "generate")["sst2"])
    half = 4.302652729911275 * 0.125 / 3 ** 0.5
    assert said["margin"]["value"] == pytest.approx(0.0)
    assert (said["margin"]["low"], said["margin"]["high"]) == (pytest.approx(-half), pytest.approx(half))
    assert (f"over the seeds, anit's PDR minus half of it's is +0.000 [{-half:+.3f}, {half:+.3f}] (t interval over 3 "
            "seeds, which covers the training seed too: 3 seeds do not settle its sign)") in said["text"]
    for seed in range(3):                            # anit's PDR 0.0625 on every seed but one: below 0
        _run(tmp_path / "below", f"it-{seed}", 16, 8)
        _run(tmp_path / "below", f"anit-{seed}", 16, 15 if seed else 14)
    assert "below 0)" in verdict("sst2", table(tmp_path / "below", "generate")["sst2"])["text"]


def test_the_headline_says_where_anits_margin_holds_with_the_training_seed_counted():
    from bench.robustness_page import over_training_seeds

    def said(name, high):
        return {"dataset": name, "margin": None if high is None else {"value": high - 0.1, "low": high - 0.2,
                                                                       "high": high, "n": 3}}

    verdicts = [said("ag_news", 0.3), said("sst2", -0.05), said("conll2003", 0.1), said("aste_14res", None)]
    assert over_training_seeds(verdicts, ["ag_news", "sst2"]) == (
        " (counting the training seed, a t interval over 3 seeds: it holds on sst2, not settled on ag_news)")
    assert over_training_seeds(verdicts, ["ag_news"]) == (
        " (counting the training seed, a t interval over 3 seeds: not settled)")
    assert over_training_seeds(verdicts, ["sst2"]).endswith(": it holds)")
    assert over_training_seeds(verdicts, ["aste_14res"]) == ""            # under three seeds: nothing to say


def test_in_short_gives_the_answer_in_one_sentence(tmp_path):
    from bench.robustness_page import in_short

    def said(work):
        lines = table(work, "generate")
        return in_short([verdict(d, rows) for d, rows in lines.items()], lines)

    _run(tmp_path, "it-0", 16, 8)                                    # it: PDR 0.5, seen
    _run(tmp_path, "anit-0", 16, 15)                                 # anit: 1/16, under half of it's
    assert said(tmp_path) == (
        "**In short: not shown, so far.** Of the 1 dataset where `it`'s worst-case drop is seen, ANIT at least "
        "halves it with its raw score not lower on 1 (sst2).")          # one seed: no interval over seeds yet
    for seed in (1, 2):
        _run(tmp_path, f"it-{seed}", 16, 8)
        _run(tmp_path, f"anit-{seed}", 16, (15, 14)[seed - 1])      # 1/16, 1/8: all under half
    assert said(tmp_path) == (
        "**In short: yes on sst2.** Of the 1 dataset where `it`'s worst-case drop is seen, ANIT at least halves it "
        "with its raw score not lower on 1 (sst2), with the training seed counted on sst2.")
    matched = tmp_path / "matched"
    for seed in range(3):                                            # it at anit's compute: PDR 0.25, seen
        _run(tmp_path, f"it-matched-{seed}", 16, 12)
        _run(matched, f"it-{seed}", 16, 8)
        _run(matched, f"anit-{seed}", 16, 13)                        # PDR 0.1875: under half of it's 0.5 ...
        _run(matched, f"it-matched-{seed}", 16, 12)                  # ... over half of it-matched's 0.25
    assert said(tmp_path).startswith("**In short: yes on sst2.**")
    assert said(tmp_path).endswith("; against `it` trained at ANIT's compute it does so on 1 of the 1 where that "
                                   "one's drop is seen.")
    assert said(matched).startswith("**In short: not shown.** Of the 1 dataset")
    assert said(matched).endswith("it does so on 0 of the 1 where that one's drop is seen.")
    lost = tmp_path / "lost"
    for seed in range(3):
        _run(lost, f"it-{seed}", 16, 8)
        _run(lost, f"anit-{seed}", 16, 10)                           # anit: PDR 0.375, over half
    assert said(lost) == ("**In short: no.** Of the 1 dataset where `it`'s worst-case drop is seen, ANIT at least "
                          "halves it with its raw score not lower on 0.")
    assert in_short([], {}) == ""
