import json
import re
import statistics

import pytest

from anit.evaluation.robustness import condition_gaps, sensitivity
from anit.report.build import write_report
from anit.report.tables import by_distortion, summary_table

RECORDS = {str(i): {"id": str(i), "dataset": "sst2", "task": "tc", "gold": "positive" if i % 2 else "negative",
                    "options": ["negative", "positive"]} for i in range(20)}


def _metrics(rows_by_condition):
    from anit.evaluation.run import condition_metrics

    conditions = {c: condition_metrics([(RECORDS[r["id"]], r["parsed"]) for r in rows])
                  for c, rows in rows_by_condition.items()}
    gaps = condition_gaps(rows_by_condition, RECORDS)
    return {"conditions": conditions, "gaps": gaps, "sensitivity": sensitivity(conditions, gaps)}


def _results(folder, right_raw, right_unseen, right_noisy):
    """A result folder whose model answers the first ``right_*`` records right under each condition."""
    def rows(right, condition, **extra):
        return [{"id": r["id"], "dataset": "sst2", "condition": condition, "gold": r["gold"],
                 "parsed": r["gold"] if int(r["id"]) < right else "nope", **extra} for r in RECORDS.values()]

    by = {"raw": rows(right_raw, "raw"),
          **{f"unseen-tc-{k}": rows(right, f"unseen-tc-{k}") for k, right in enumerate(right_unseen)},
          "noisy-char_typo": rows(right_noisy, "noisy-char_typo", distortion={"word_edit": 0.1})}
    for k, row in enumerate(by["noisy-char_typo"]):
        row["distortion"] = {"word_edit": 0.1 if k < 12 else 0.5}
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(_metrics(by)))
    for condition, rows_of in by.items():
        (folder / f"{condition}.predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows_of))


def test_report_has_every_section_and_a_self_contained_html(tmp_path):
    _results(tmp_path / "seed0" / "it", 16, [14, 12, 8], 10)
    _results(tmp_path / "seed1" / "it", 16, [15, 15, 15], 15)
    _results(tmp_path / "seed0" / "anit", 16, [16, 15, 14], 16)
    train = tmp_path / "train" / "anit"
    train.mkdir(parents=True)
    (train / "train_summary.json").write_text(json.dumps({"log_history": [
        {"step": 1, "loss": 4.0, "clean_loss": 2.0, "adv_loss": 2.0}, {"step": 2, "loss": 3.0, "clean_loss": 1.5,
                                                                       "adv_loss": 1.5}]}))
    report = write_report([tmp_path / "seed0", tmp_path / "seed1", tmp_path / "train"], tmp_path / "report")
    text = report.read_text()
    assert "## sst2" in text and "seed0/it" in text and "seed1/it" in text   # same-named folders kept apart
    assert "| seed0/it | 0.800 | 0.500 ± 0.000 (n=1) | 0.500 (0.375 [" in text   # noisy: PDR with its interval
    assert "| noisy-char_typo | 0.800 (+0.000 [+0.000, +0.000]) | 0.500 (-0.300 [" in text
    assert "unseen: worst (PDR [95% CI])" in text and "0.400 (0.500 [" in text  # worst 8/20 against raw 16/20
    assert "0.567 ± 0.153 (n=3)" in text                                    # mean ± std over the held-out three
    assert "[0.0, 0.2) n=12" in text and "[0.4, 0.6) n=8 " in text and "(few)" in text
    page = (tmp_path / "report" / "report.html").read_text()
    images = re.findall(r'<img[^>]*src="([^"]+)"', page)
    assert len(images) == 3 and all(src.startswith("data:image/png;base64,") for src in images)
    assert "http" not in page and "<table>" in page
    assert "Transfer" not in text


def test_report_says_which_worst_case_instructions_were_searched_on_another_model_once_per_origin(tmp_path):
    for name, adapter in (("it", "/runs/anit"), ("fgm", "/runs/anit"), ("neftune", "/runs/other")):
        _results(tmp_path / name, 16, [14, 12, 8], 10)
        path = tmp_path / name / "metrics.json"
        path.write_text(json.dumps({**json.loads(path.read_text()),
                                    "transfer": {"worst-of-anit": {"model": "base-135m", "adapter": adapter}}}))
    text = write_report([tmp_path / n for n in ("it", "fgm", "neftune")], tmp_path / "report").read_text()
    lines = [line for line in text.splitlines() if line.startswith("- Transfer")]
    assert lines == ["- Transfer: worst-of-anit instructions searched on base-135m + /runs/anit, not on the model "
                     "scored: it, fgm.",
                     "- Transfer: worst-of-anit instructions searched on base-135m + /runs/other, not on the model "
                     "scored: neftune."]


def test_by_distortion_scores_extraction_by_f1_not_exact_match():
    rows = [{"parsed": [["person", "Anna"]], "gold": [["person", "Anna"], ["location", "Paris"]],
             "distortion": {"word_edit": 0.1}},
            {"parsed": [["person", "Bob"]], "gold": [["person", "Bob"]], "distortion": {"word_edit": 0.15}}]
    ((label, n, score, few),) = by_distortion(rows, "ner")
    assert (label, n, few) == ("[0.0, 0.2)", 2, True) and score == pytest.approx(2 * 2 / (2 + 3))


def test_summary_table_leaves_a_method_without_the_family_blank():
    results = {"a": {"conditions": {"raw": {"sst2": {"task": "tc", "accuracy": 0.5}}}}}
    assert summary_table(results, "sst2") == [["method", "raw"], ["a", "0.500"]]


def test_sensitivity_plot_gives_each_run_room(tmp_path):
    from matplotlib.image import imread

    from anit.report.plots import sensitivity_plot

    def result(datasets):
        per = {d: {"task": "tc", "accuracy": 0.5} for d in datasets}
        return {"conditions": {"raw": per, "unseen-tc-0": per}}

    few = {f"run-{i}": result(["sst2"]) for i in range(2)}
    many = {f"run-{i}": result(["sst2"] if i % 2 else ["sst2", "ag_news"]) for i in range(24)}
    (tmp_path / "few").mkdir()
    (tmp_path / "many").mkdir()
    narrow = imread(sensitivity_plot(tmp_path / "few", few, {"sst2": "tc"})).shape
    wide = imread(sensitivity_plot(tmp_path / "many", many, {"sst2": "tc", "ag_news": "tc"})).shape
    # 24 runs need wider panels than 2; two such panels no longer fit one row, so they stack
    assert wide[1] > 2 * narrow[1] and wide[0] > 1.5 * narrow[0]


def test_report_compares_each_method_with_a_baseline_on_the_same_records(tmp_path):
    from anit.errors import AnitError

    _results(tmp_path / "runs" / "it", 16, [14, 8, 12], 10)  # raw 0.8; worst held-out 0.4: PDR 0.5
    _results(tmp_path / "runs" / "anit", 14, [13, 12, 14], 12)  # raw 0.7; worst 0.6: PDR 1/7
    report = write_report([tmp_path / "runs"], tmp_path / "report", baseline="it").read_text()
    line = next(row for row in report.splitlines() if row.startswith("| anit | 20 |"))
    header = next(row for row in report.splitlines() if row.startswith("| method | records |"))
    cell = dict(zip((h.strip() for h in header.strip("|").split("|")), (c.strip() for c in line.strip("|").split("|"))))
    raw_diff, unseen_diff = (float(cell[name].split(" [")[0]) for name in (
        "raw - it's [95% CI]", "unseen: worst-case PDR - it's [95% CI]"))
    assert raw_diff == pytest.approx(0.7 - 0.8)
    assert unseen_diff == pytest.approx((1 - 0.6 / 0.7) - (1 - 0.4 / 0.8), abs=5e-4)
    low, high = (float(x) for x in re.search(r"\[([-+.\d]+), ([-+.\d]+)\]",
                                             cell["unseen: worst-case PDR - it's [95% CI]"]).groups())
    assert low < unseen_diff < high
    assert "noisy: worst-case PDR" not in report  # the noisy types score different records: not compared
    # pooled, every record under its own noisy instruction is: it keeps 10 of 16 (PDR 0.375), anit 12 of 14
    noisy_diff = float(cell["noisy (pooled): PDR - it's [95% CI]"].split(" [")[0])
    assert noisy_diff == pytest.approx((1 - 12 / 14) - (1 - 10 / 16), abs=5e-4)
    # the glance table opens the report: the same differences, each side's PDR, and what they say
    assert report.index("## At a glance: against it") < report.index("## sst2")
    glance = {row.split("|")[3].strip(): [c.strip() for c in row.strip("|").split("|")]
              for row in report.splitlines() if row.startswith("| sst2 | anit |")}
    assert set(glance) == {"unseen", "noisy (pooled)"}
    it_pdr, anit_pdr, diff = (float(glance["unseen"][k].split(" [")[0]) for k in (3, 4, 5))
    assert (it_pdr, anit_pdr) == pytest.approx((1 - 0.4 / 0.8, 1 - 0.6 / 0.7), abs=5e-4)
    assert diff == pytest.approx(unseen_diff, abs=1e-3)
    # it's drop 0.5 is seen; anit's 1/7 is under half of it and its raw score (0.7 against 0.8) is not lower
    # beyond the interval of 20 records
    assert glance["unseen"][7] == "**meets the goal**: at most half of it's drop, raw not lower"
    from anit.report.versus import against, glance_points

    assert report.index("![each method's drop rate against it's, with the goal's band](drops.png)") < report.index(
        "| dataset | method | instructions |")
    folders = {name: tmp_path / "runs" / name for name in ("it", "anit")}
    results = {name: json.loads((folder / "metrics.json").read_text()) for name, folder in folders.items()}
    panels = glance_points("it", against("it", results, folders, {"sst2": "tc"}))
    assert list(panels) == ["sst2: noisy (pooled)", "sst2: unseen"]
    unseen = panels["sst2: unseen"]
    assert [row["label"] for row in unseen["rows"]] == ["it", "anit: meets"]
    assert unseen["rows"][0]["marks"]["PDR"][0] == pytest.approx(0.5, abs=5e-4) and unseen["band"] == pytest.approx(
        0.25, abs=5e-4)
    value, low, high = unseen["rows"][1]["marks"]["PDR"]
    assert value == pytest.approx(1 - 0.6 / 0.7, abs=5e-4) and low <= value <= high
    page = (tmp_path / "report" / "report.html").read_text()
    assert page.count("data:image/png;base64") >= 2
    assert "<strong>meets the goal</strong>: at most half of it&#x27;s drop" in page and "**" not in page
    with pytest.raises(AnitError, match="--baseline zero-shot: no result folder of that name; the names are anit, it"):
        write_report([tmp_path / "runs"], tmp_path / "report", baseline="zero-shot")


def test_with_one_folder_per_seed_each_method_is_compared_with_the_baseline_of_its_seed_then_averaged(tmp_path):
    from anit.errors import AnitError
    from anit.report.versus import against_seeds, glance_points, seed_pairs

    runs = tmp_path / "runs"
    _results(runs / "seed0" / "it", 16, [14, 8, 12], 10)       # raw 0.8, worst held-out 0.4: PDR 0.5
    _results(runs / "seed0" / "anit", 14, [13, 12, 14], 12)    # raw 0.7, worst 0.6: PDR 1/7
    _results(runs / "seed1" / "it", 18, [18, 16, 17], 12)      # raw 0.9, worst 0.8: PDR 1/9
    _results(runs / "seed1" / "anit", 16, [15, 16, 14], 12)    # raw 0.8, worst 0.7: PDR 1/8
    _results(runs / "seed2" / "it", 18, [17, 17, 17], 12)      # it alone on seed 2: not part of anit's comparison
    _results(runs / "seed3" / "anit", 20, [20, 20, 20], 20)    # anit alone on seed 3: no it to pair it with
    report = write_report([runs], tmp_path / "report", baseline="it").read_text()
    assert "Over seeds (seed0, seed1, seed2)" in report and "no it beside them: seed3/anit." in report
    glance = {row.split("|")[3].strip(): [c.strip() for c in row.strip("|").split("|")]
              for row in report.splitlines() if row.startswith("| sst2 | anit (2 seeds) |")}
    it_pdr, anit_pdr, diff, raw = (float(glance["unseen"][k].split(" [")[0]) for k in (3, 4, 5, 6))
    # the means over the seeds both ran, each seed paired with its own it (seed 2's it, PDR 1/18, takes no part)
    assert (it_pdr, anit_pdr) == pytest.approx(((0.5 + 1 / 9) / 2, (1 / 7 + 1 / 8) / 2), abs=5e-4)
    assert diff == pytest.approx(anit_pdr - it_pdr, abs=1e-3) and raw == pytest.approx(-0.1, abs=5e-4)
    # anit is right on a subset of it's records on both seeds: every resample has it no better, so raw is lower
    assert glance["unseen"][7] == "at most half of it's drop, but raw lower"
    # each method over its seeds (it: seeds 0, 1, 2; anit: 0, 1; seed3/anit has no it beside it)
    spread = {row.split("|")[1].strip(): [c.strip() for c in row.strip("|").split("|")]
              for row in report.split("Over seeds: each seed's number")[1].split("| seed0/anit |")[0].splitlines()
              if row.startswith("| it |") or row.startswith("| anit |")}
    raws = [0.8, 0.9, 0.9]
    assert spread["it"][1:3] == ["3", f"{statistics.fmean(raws):.3f} ± {statistics.stdev(raws):.3f}"]
    it_worst = [0.5, 1 / 9, 1 - 0.85 / 0.9]
    assert spread["it"][-1] == f"{statistics.fmean(it_worst):.3f} ± {statistics.stdev(it_worst):.3f}"
    assert spread["anit"][1:3] == ["2", "0.750 ± 0.071"]

    folders, results = {}, {}
    for seed, method in (("seed0", "it"), ("seed0", "anit"), ("seed1", "it"), ("seed1", "anit"), ("seed2", "it")):
        folders[f"{seed}/{method}"] = runs / seed / method
        results[f"{seed}/{method}"] = json.loads((runs / seed / method / "metrics.json").read_text())
    seeds = seed_pairs("it", folders)
    assert seeds["anit"] == {"seed0": ("seed0/anit", "seed0/it"), "seed1": ("seed1/anit", "seed1/it")}
    compared = against_seeds("it", results, folders, {"sst2": "tc"}, seeds)
    unseen = compared["sst2"]["anit"]["families"]["unseen"]
    assert unseen["mine"] == ["unseen-tc-1", "unseen-tc-2"] and unseen["theirs"] == ["unseen-tc-1", "unseen-tc-1"]
    assert unseen["mine_seeds"] == pytest.approx([1 / 7, 1 / 8]) and unseen["theirs_seeds"] == pytest.approx(
        [0.5, 1 / 9])
    assert unseen["theirs_low"] < unseen["theirs_pdr"] < unseen["theirs_high"]
    assert unseen["margin"] is None                     # two seeds: no interval over them
    assert compared["sst2"]["anit"]["raw_high"] < 0 and compared["sst2"]["anit"]["seeds"] == ["seed0", "seed1"]
    panel = glance_points("it", compared)["sst2: unseen"]
    assert panel["rows"][1]["dots"]["PDR"] == pytest.approx([1 / 7, 1 / 8])
    assert panel["rows"][0]["dots"]["PDR"] == pytest.approx([0.5, 1 / 9])
    assert panel["rows"][1]["label"] == "anit (2 seeds): fails (raw lower)"
    with pytest.raises(AnitError, match=r"name the method: --baseline zero-shot"):
        write_report([runs], tmp_path / "report", baseline="zero-shot")


@pytest.mark.parametrize("theirs, mine, diff, raw_high, expected", [
    ((0.4, 0.1), 0.15, (-0.25, -0.40, -0.10), 0.02, "**meets the goal**: at most half of it's drop, raw not lower"),
    ((0.4, 0.1), 0.15, (-0.25, -0.40, -0.10), -0.01, "at most half of it's drop, but raw lower"),
    ((0.4, 0.1), 0.30, (-0.10, -0.20, -0.02), 0.02, "a smaller drop, but more than half of it's"),
    ((0.4, 0.1), 0.30, (-0.10, -0.20, +0.02), 0.02, "no clear difference from it's drop"),
    ((0.2, 0.05), 0.45, (+0.25, +0.05, +0.40), 0.02, "a larger drop than it's"),
    ((0.2, -0.05), 0.0, (-0.20, -0.40, +0.01), 0.02, "not judged: it's drop is not seen (its interval reaches 0)"),
    ((0.2, 0.05), None, (None, None, None), -0.5, "no drop rate: scores 0 raw"),
])
def test_reading_says_the_goal_and_the_direction(theirs, mine, diff, raw_high, expected):
    from anit.report.versus import reading

    found = {"theirs_pdr": theirs[0], "theirs_low": theirs[1], "mine_pdr": mine,
             "pdr_diff": diff[0], "pdr_low": diff[1], "pdr_high": diff[2]}
    assert reading("it", {"raw_high": raw_high}, found) == expected


def test_drops_plot_shades_the_goal_only_where_there_is_one_and_wraps_four_panels_to_a_row(tmp_path):
    import numpy as np
    from matplotlib.colors import to_rgb
    from matplotlib.image import imread

    from anit.report.plots import GOAL_COLOUR, drops_plot

    def panel(band):
        return {"band": band, "rows": [{"label": "it", "colour": "#444444", "marks": {"PDR": (0.4, 0.2, 0.6)}},
                                       {"label": "anit", "colour": None, "marks": {"PDR": (0.1, -0.1, 0.3)}}]}

    def green_share(path):
        pixels = imread(path)[..., :3]
        return float(np.mean(np.all(np.abs(pixels - np.array(to_rgb(GOAL_COLOUR))) < 0.02, axis=-1)))

    shaded = drops_plot(tmp_path / "a.png", {"sst2": panel(0.2)}, "goal")
    bare = drops_plot(tmp_path / "b.png", {"sst2": panel(None)}, "goal")
    wider = drops_plot(tmp_path / "c.png", {"sst2": panel(0.3)}, "goal")
    assert green_share(bare) == 0 < green_share(shaded) < green_share(wider)
    one, six = imread(shaded).shape, imread(drops_plot(tmp_path / "d.png", {f"d{i}": panel(0.2) for i in range(6)},
                                                      "goal")).shape
    assert six[1] == pytest.approx(4 * one[1], rel=0.05) and six[0] > 1.5 * one[0]
    assert drops_plot(tmp_path / "e.png", {}, "goal") is None
    # a tick per value behind a mean is drawn in the row's colour: more of it on the page than the mean alone
    ticked = {"sst2": {**panel(None), "rows": [{"label": "it", "colour": "#ff0000", "marks": {"PDR": (0.4, 0.3, 0.5)},
                                                  "dots": {"PDR": [0.32, 0.45, 0.48]}}]}}
    plain = {"sst2": {**panel(None), "rows": [{"label": "it", "colour": "#ff0000", "marks": {"PDR": (0.4, 0.3, 0.5)}}]}}

    def red(path):
        pixels = imread(path)[..., :3]
        return int(np.sum((pixels[..., 0] > 0.9) & (pixels[..., 1] < 0.4) & (pixels[..., 2] < 0.4)))

    assert red(drops_plot(tmp_path / "f.png", ticked, "goal")) > red(drops_plot(tmp_path / "g.png", plain, "goal"))


def test_glance_points_judge_each_method_only_where_the_baselines_drop_is_seen():
    from anit.report.versus import glance_points

    def family(theirs, mine):
        return {"theirs_pdr": theirs[0], "theirs_low": theirs[1], "theirs_high": theirs[2],
                "mine_pdr": mine[0], "mine_low": mine[1], "mine_high": mine[2]}

    compared = {"sst2": {
        "anit": {"raw_high": 0.05, "families": {"worst": family((0.4, 0.2, 0.6), (0.1, 0.0, 0.2)),
                                                "unseen": family((0.1, -0.1, 0.3), (0.0, -0.1, 0.1))}},
        "fgm": {"raw_high": -0.02, "families": {"worst": family((0.4, 0.2, 0.6), (0.15, 0.0, 0.3))}},
        "neftune": {"raw_high": 0.1, "families": {"worst": family((0.4, 0.2, 0.6), (0.3, 0.1, 0.5))}}}}
    panels = glance_points("it", compared)
    worst, unseen = panels["sst2: worst"], panels["sst2: unseen\nnot judged: it's drop is not seen"]
    assert [row["label"] for row in worst["rows"]] == ["it", "anit: meets", "fgm: fails (raw lower)",
                                                       "neftune: fails (over half its drop)"]
    assert worst["band"] == pytest.approx(0.2) and worst["rows"][2]["marks"]["PDR"] == (0.15, 0.0, 0.3)
    assert [row["colour"] is not None for row in worst["rows"]] == [True, True, False, False]
    assert unseen["band"] is None and [row["label"] for row in unseen["rows"]] == ["it", "anit"]


def test_anit_report_takes_its_folders_as_arguments_or_from_a_config(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from anit.cli import app

    _results(tmp_path / "runs" / "it", 16, [12], 10)
    _results(tmp_path / "runs" / "anit", 16, [15], 15)
    runner = CliRunner()
    given = runner.invoke(app, ["report", str(tmp_path / "runs"), "--out", str(tmp_path / "a"), "--baseline", "it"])
    assert given.exit_code == 0, given.output
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "report.yaml").write_text("results: [~/runs]\nout: ~/b\nbaseline: it\n")
    configured = runner.invoke(app, ["report", "--config", str(tmp_path / "report.yaml")])
    assert configured.exit_code == 0, configured.output
    assert (tmp_path / "b" / "report.md").read_text() == (tmp_path / "a" / "report.md").read_text()
    assert "anit" in (tmp_path / "b" / "report.md").read_text()


def test_a_met_goal_says_whether_it_holds_with_the_training_seed_counted():
    from anit.report.versus import reading

    found = {"theirs_pdr": 0.4, "theirs_low": 0.1, "mine_pdr": 0.15, "pdr_diff": -0.25, "pdr_low": -0.4,
             "pdr_high": -0.1, "margin": {"value": -0.05, "low": -0.2, "high": 0.1, "n": 3}}
    assert reading("it", {"raw_high": 0.02}, found) == (
        "**meets the goal**: at most half of it's drop, raw not lower; counting the training seed (PDR minus half of "
        "it's, a t interval over 3 seeds: -0.050 [-0.200, +0.100]) not settled")
    found["margin"] = {"value": -0.1, "low": -0.15, "high": -0.05, "n": 4}
    assert reading("it", {"raw_high": 0.02}, found).endswith("over 4 seeds: -0.100 [-0.150, -0.050]) it holds")


def test_over_three_seeds_the_comparison_carries_the_margins_t_interval(tmp_path):
    from anit.report.versus import against_seeds, seed_pairs

    folders, results = {}, {}
    for seed, (it_worst, anit_worst) in enumerate(((8, 14), (10, 15), (12, 13))):   # raw 16 everywhere
        for method, worst in (("it", it_worst), ("anit", anit_worst)):
            folder = tmp_path / f"seed{seed}" / method
            _results(folder, 16, [worst], 10)
            folders[f"seed{seed}/{method}"] = folder
            results[f"seed{seed}/{method}"] = json.loads((folder / "metrics.json").read_text())
    unseen = against_seeds("it", results, folders, {"sst2": "tc"}, seed_pairs("it", folders))["sst2"]["anit"][
        "families"]["unseen"]
    margins = [1 - a / 16 - 0.5 * (1 - i / 16) for i, a in ((8, 14), (10, 15), (12, 13))]
    half = 4.302652729911275 * statistics.stdev(margins) / 3 ** 0.5
    assert unseen["margin"]["value"] == pytest.approx(statistics.fmean(margins))
    assert unseen["margin"]["high"] == pytest.approx(statistics.fmean(margins) + half)
    # the glance in one sentence: met under the held-out family (mean PDR 0.125 against 0.375), not under the noisy
    # one (both lose the same), and the seeds do not settle the held-out margin (-0.0625 [-0.33, +0.21])
    report = write_report([tmp_path], tmp_path / "report", baseline="it").read_text()
    assert ("- **anit: not shown.** At most half of it's drop with the raw score not lower on 1 of the 2 (dataset, "
            "instructions) where it's drop is seen (sst2 unseen); with the training seed counted it holds on none of "
            "them.") in report


def test_a_verdict_that_opens_with_the_baselines_name_keeps_its_case(tmp_path):
    _results(tmp_path / "it", 16, [16, 16], 16)         # it loses nothing: its drop is seen nowhere
    _results(tmp_path / "anit", 16, [12, 16], 16)
    report = write_report([tmp_path], tmp_path / "report", baseline="it").read_text()
    assert "- **anit: not judged.** it's drop is seen under no family of instructions." in report
    assert "It's drop" not in report


def test_parse_failures_are_listed_per_method_and_condition_raw_first_and_only_where_there_are_any(tmp_path):
    from anit.report.tables import unparsed

    def rows(right, failed, condition):        # the first `right` answered right, the next `failed` unparseable
        return [{"id": r["id"], "dataset": "sst2", "condition": condition, "gold": r["gold"],
                 "parsed": r["gold"] if int(r["id"]) < right else None if int(r["id"]) < right + failed else "nope"}
                for r in RECORDS.values()]

    folder = tmp_path / "gen"
    folder.mkdir()
    (folder / "metrics.json").write_text(json.dumps(_metrics({"unseen-tc-1": rows(10, 7, "unseen-tc-1"),
                                                              "raw": rows(12, 4, "raw"),
                                                              "unseen-tc-0": rows(12, 0, "unseen-tc-0")})))
    _results(tmp_path / "choice", 16, [14], 10)                   # wrong answers, all parsed
    results = {name: json.loads((tmp_path / name / "metrics.json").read_text()) for name in ("gen", "choice")}
    assert unparsed(results, "sst2") == ["gen: raw 4 of 20, unseen-tc-1 7 of 20"]
    text = write_report([tmp_path], tmp_path / "report").read_text()
    assert "could not be parsed (each counted wrong)" in text and "- gen: raw 4 of 20, unseen-tc-1 7 of 20" in text
    assert "choice:" not in text
    assert "4 of 20" in (tmp_path / "report" / "report.html").read_text()


def test_the_glance_opens_each_method_with_its_verdict():
    from anit.report.versus import in_short

    def family(theirs, mine, margin=None, low=0.1):
        return {"theirs_pdr": theirs, "theirs_low": low, "mine_pdr": mine, "margin": margin}

    held, spans = {"value": -0.1, "low": -0.2, "high": -0.01}, {"value": -0.1, "low": -0.3, "high": 0.1}
    compared = {"sst2": {"yes": {"raw_high": 0.05, "families": {"worst": family(0.4, 0.1, held),
                                                                "unseen": family(0.4, 0.3)}},
                         "shown": {"raw_high": 0.05, "families": {"worst": family(0.4, 0.1, spans)}},
                         "one-seed": {"raw_high": 0.05, "families": {"worst": family(0.4, 0.1)}},
                         "lower": {"raw_high": -0.01, "families": {"worst": family(0.4, 0.1, held)}},
                         "blind": {"raw_high": 0.05, "families": {"worst": family(0.4, 0.1, held, low=-0.1)}}}}
    said = dict(in_short("it", compared))
    assert said["yes: yes on sst2 worst"] == ("at most half of it's drop with the raw score not lower on 1 of the 2 "
                                              "(dataset, instructions) where it's drop is seen (sst2 worst); with "
                                              "the training seed counted it holds on sst2 worst")
    assert said["shown: not shown"].endswith("(sst2 worst); with the training seed counted it holds on none of them")
    assert said["one-seed: not settled (fewer than three seeds)"].endswith("where it's drop is seen (sst2 worst)")
    assert said["lower: no"] == "at most half of it's drop with the raw score not lower on 0 of the 1 (dataset, " \
                                "instructions) where it's drop is seen"
    assert said["blind: not judged"] == "it's drop is seen under no family of instructions"
