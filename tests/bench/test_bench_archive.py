"""Benchmark runs archived in the repository: the summary a fresh checkout rebuilds from them is the one their work
folder gave, and no record text goes in."""

import gzip
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from anit.tasks.metrics import item_counts, label_counts
from bench import archive
from bench.robustness_report import alike, dev_attacks, table, walls, worst_origins

SECRET = "Zorblax Industries"
"""An entity of the fixture's gold: record text, which no archive may hold."""


def _rows(condition, right_tc, right_ner):
    """Prediction rows of one condition: 10 sst2 records (``right_tc`` of them right) and 6 conll2003 records (the
    first ``right_ner`` found both gold entities, the rest one of them and a wrong one)."""
    rows = [{"id": f"s{i}", "dataset": "sst2", "condition": condition, "instruction": "Say the sentiment.",
             "input": f"sentence {i} about {SECRET}", "generation": "positive" if i < right_tc else "negative",
             "parsed": "positive" if i < right_tc else "negative", "gold": "positive",
             "correct": i < right_tc, "distortion": {}} for i in range(10)]
    for i in range(6):
        gold = [["ORG", f"{SECRET} {i}"], ["PER", f"Ann {i}"]]
        parsed = gold if i < right_ner else [gold[0], ["LOC", f"Paris {i}"]]
        rows.append({"id": f"c{i}", "dataset": "conll2003", "condition": condition, "instruction": "Find entities.",
                     "input": f"{SECRET} {i} hired Ann {i}.", "generation": json.dumps(parsed), "parsed": parsed,
                     "gold": gold, "correct": i < right_ner, "distortion": {"hard": 0.2}})
    return rows


def _score(rows, dataset):
    mine = [r for r in rows if r["dataset"] == dataset]
    if dataset == "sst2":
        return {"task": "tc", "accuracy": sum(r["correct"] for r in mine) / len(mine), "n": len(mine),
                "unparseable": 0}
    tp, n_pred, n_gold = (sum(c) for c in zip(*(item_counts(r["parsed"], r["gold"]) for r in mine)))
    return {"task": "ner", "f1": 2 * tp / (n_pred + n_gold), "n": len(mine), "unparseable": 0}


def _run(work, name, raw, worst):
    """A finished run: (tc right, ner right) under raw and under its worst instructions, with its walls, attack
    and training summary."""
    folder = work / "runs" / name
    out = folder / "eval-generate"
    out.mkdir(parents=True)
    metrics = {"conditions": {}, "sensitivity": {"worst": {}}}
    for condition, (tc, ner) in (("raw", raw), ("worst-tc-0", worst), ("worst-ner-0", worst)):
        rows = _rows(condition, tc, ner)
        (out / f"{condition}.predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        metrics["conditions"][condition] = {d: _score(rows, d) for d in ("sst2", "conll2003")}
    for dataset, task, key in (("sst2", "tc", "accuracy"), ("conll2003", "ner", "f1")):
        clean, bad = metrics["conditions"]["raw"][dataset][key], metrics["conditions"][f"worst-{task}-0"][dataset][key]
        metrics["sensitivity"]["worst"][dataset] = {"worst": bad, "worst_condition": f"worst-{task}-0",
                                                    "pdr_worst": 1 - bad / clean, "pdr_worst_low": 0.1,
                                                    "pdr_worst_high": 0.6}
    (out / "metrics.json").write_text(json.dumps(metrics))
    (out / "wall.json").write_text(json.dumps({"eval_s": 12.5}))
    (folder / "wall.json").write_text(json.dumps({"train_s": 30.0, "steps": 6}))
    (folder / "attack_wall.json").write_text(json.dumps({"attack_s": 4.0}))
    (folder / "train_summary.json").write_text(json.dumps({"steps": 6}))
    (folder / "adapter_model.safetensors").write_bytes(b"\0" * 64)
    entries = {task: [{"instruction": "Say teh sentiment.", "origin": "noise:char_typo:0.3:1", "dev_score": 0.5,
                       "raw_dev_score": 0.8, "pdr": 0.375}] for task in ("tc", "ner")}
    (folder / "worst.yaml").write_text(yaml.safe_dump(entries))
    return folder


def _work(tmp_path):
    work = tmp_path / "work"
    (work / "data").mkdir(parents=True)
    for split in ("dev", "test"):
        (work / "data" / f"{split}.jsonl").write_text(json.dumps({"id": split, "input": SECRET}) + "\n")
    (work / "protocol.json").write_text(json.dumps({"steps": 6}))
    (work / "machine.json").write_text(json.dumps({"cpu": "Test CPU", "cores": 2, "cuda": None, "torch": "2.13.0",
                                                   "python": "3.11.7", "date": "2026-12-04"}))
    (work / "command.json").write_text(json.dumps({"command": "python -m bench.robustness --steps 6"}))
    _run(work, "it-0", (9, 5), (5, 2))
    _run(work, "anit-0", (9, 4), (8, 4))
    return work


def summary(work):
    return {"tables": table(work, "generate"), "alike": alike(work), "walls": walls(work),
            "dev": dev_attacks(work), "origins": worst_origins(work)}


@given(st.lists(st.lists(st.sampled_from(["ORG", "PER", "Ann", "ann", "Ann ", "é"]), min_size=1, max_size=3),
                max_size=5),
       st.lists(st.lists(st.sampled_from(["ORG", "PER", "Ann", "ann", "Ann ", "é"]), min_size=1, max_size=3),
                max_size=5))
def test_a_digest_keeps_every_count_a_metric_takes_from_an_answer(pred, gold):
    for as_set in (False, True):
        assert item_counts(archive.digest(pred), archive.digest(gold), as_set) == item_counts(pred, gold, as_set)
    for a, b in ((pred[:1], gold[:1]), ("Positive", "positive"), ("positive", "positive"), (None, "positive")):
        assert label_counts(archive.digest(a), archive.digest(b)) == label_counts(a, b)
    assert archive.digest(None) is None and archive.digest(3) == 3


def test_the_summary_restored_from_archives_is_the_one_the_work_folder_gave(tmp_path):
    work = _work(tmp_path)
    header = archive.header(work, {"steps": 6})
    packed = [archive.pack(work / "runs" / run, tmp_path / "archive" / f"{run}.json.gz", header)
              for run in ("it-0", "anit-0")]
    again = archive.pack(work / "runs" / "it-0", tmp_path / "again.json.gz", header)
    assert again.read_bytes() == packed[0].read_bytes()                 # the same run packs to the same bytes
    text = gzip.decompress(packed[0].read_bytes()).decode()
    assert SECRET not in text and "Ann 0" not in text and "sentence 0" not in text
    assert "safetensors" not in text and "Say teh sentiment." in text   # no adapter; the instructions are kept

    fresh = tmp_path / "fresh"
    assert archive.restore(fresh, tmp_path / "archive", None) == []
    assert json.loads((fresh / "protocol.json").read_text()) == {"steps": 6}
    assert json.loads((fresh / "command.json").read_text())["command"].endswith("--steps 6")
    assert archive.restored(fresh / "runs" / "it-0") and not archive.restored(work / "runs" / "it-0")
    before, after = summary(work), summary(fresh)
    assert after == before
    conll = {row["method"]: row for row in before["tables"]["conll2003"]}
    # from the archived predictions: anit finds 10 of 12 entities raw, it 11 (micro F1 10/12 against 11/12)
    assert conll["anit"]["vs_it_worst"][0]["raw_diff"] == pytest.approx(-1 / 12)
    assert conll["anit"]["pooled_worst"]["value"] == pytest.approx(conll["anit"]["pdr_worst"][0])


def test_archives_of_another_protocol_or_other_data_are_left_out_and_said(tmp_path):
    work = _work(tmp_path)
    archive.pack(work / "runs" / "it-0", tmp_path / "archive" / "it-0.json.gz", archive.header(work, {"steps": 6}))
    archive.pack(work / "runs" / "anit-0", tmp_path / "archive" / "anit-0.json.gz",
                 archive.header(work, {"steps": 60}))
    fresh = tmp_path / "fresh"
    said = archive.restore(fresh, tmp_path / "archive", {"steps": 6})
    assert [line.split(":")[0] for line in said] == [str(tmp_path / "archive" / "anit-0.json.gz")]
    assert "protocol" in said[0] and (fresh / "runs" / "it-0").exists() and not (fresh / "runs" / "anit-0").exists()
    # an archive that predates a protocol field agrees on the fields it records
    older = tmp_path / "older"
    archive.restore(older, tmp_path / "archive", {"steps": 6, "near": 0.35})
    assert (older / "runs" / "it-0").exists() and not (older / "runs" / "anit-0").exists()
    # a work folder scored on other test data takes none of them
    other = tmp_path / "other"
    (other / "data").mkdir(parents=True)
    for split in ("dev", "test"):
        (other / "data" / f"{split}.jsonl").write_text("{}\n")
    said = archive.restore(other, tmp_path / "archive", {"steps": 6})
    assert len(said) == 2 and "other dev and test data" in said[1] and not (other / "runs").exists()
    # a run the work folder holds is not overwritten by its archive
    (work / "runs" / "it-0" / "wall.json").write_text(json.dumps({"train_s": 99.0}))
    archive.restore(work, tmp_path / "archive", {"steps": 6})
    assert json.loads((work / "runs" / "it-0" / "wall.json").read_text())["train_s"] == 99.0


def test_a_fresh_work_folder_attacks_with_the_rewrites_the_archived_runs_drew_from(tmp_path):
    work, kept = _work(tmp_path), tmp_path / "archive"
    archive.keep_rewrites(work, kept)
    assert not (kept / archive.REWRITES).exists()                       # no cache yet: nothing to keep
    cache = work / "data" / archive.REWRITES
    cache.write_text(json.dumps({"k1": ["Sort the text."]}))
    archive.keep_rewrites(work, kept)
    cache.write_text(json.dumps({"k1": ["Sort the text."], "k2": ["Do not sort it."]}))   # a later attack added some
    archive.keep_rewrites(work, kept)
    assert (kept / archive.REWRITES).read_bytes() == cache.read_bytes()
    fresh = tmp_path / "fresh"
    archive.restore(fresh, kept, None)
    assert (fresh / "data" / archive.REWRITES).read_bytes() == cache.read_bytes()
    (fresh / "data" / archive.REWRITES).write_text("{}")                # its own cache is kept as it is
    archive.restore(fresh, kept, None)
    assert (fresh / "data" / archive.REWRITES).read_text() == "{}"


def test_the_benchmark_archives_its_finished_runs_and_a_fresh_checkout_summarises_from_them(tmp_path, monkeypatch):
    import bench.robustness as bench_run
    import bench.robustness_page as page

    work = _work(tmp_path)
    (work / "data" / "train.jsonl").write_text("{}\n")
    unfinished = _run(work, "fgm-0", (9, 5), (6, 3))
    (unfinished / "eval-generate" / "metrics.json").unlink()
    (work / "runs" / "fgm-1" / "checkpoint-10").mkdir(parents=True)      # still training: no stage's wall yet
    monkeypatch.setattr(bench_run, "archives", lambda name: tmp_path / "repo" / name)
    monkeypatch.setattr(page, "DOCS", tmp_path / "docs")
    monkeypatch.setattr(bench_run, "finished", lambda paths, folder: (folder / "eval-generate/metrics.json").exists())
    bench_run.main(["--summarise-only", "--work", str(work), "--name", "mine"])
    assert sorted(p.name for p in (tmp_path / "repo" / "mine").iterdir()) == ["anit-0.json.gz", "it-0.json.gz"]
    first = json.loads((tmp_path / "docs" / "benchmarks" / "mine.json").read_text())

    monkeypatch.setattr(bench_run, "DOCS", tmp_path / "docs")
    (tmp_path / "docs" / "benchmarks" / "other.md").write_text("# a page whose runs are not archived\n")
    with pytest.raises(SystemExit, match="holds no archive of one; .*other.md is left as it is"):
        bench_run.main(["--summarise-only", "--work", str(tmp_path / "none"), "--name", "other"])
    # a page whose runs are neither here nor archived but whose JSON is: rewritten from it, to the same judgement
    (tmp_path / "docs" / "benchmarks" / "older.json").write_text(json.dumps({**first, "headline": {}}))
    bench_run.main(["--summarise-only", "--work", str(tmp_path / "none"), "--name", "older"])
    older = json.loads((tmp_path / "docs" / "benchmarks" / "older.json").read_text())
    assert older["headline"] == first["headline"] and older["verdicts"] == first["verdicts"]
    assert (tmp_path / "docs" / "benchmarks" / "older.md").read_text().replace("older.png", "mine.png") == (
        tmp_path / "docs" / "benchmarks" / "mine.md").read_text()
    assert "- Records: the runs predate the run archive" in (tmp_path / "docs" / "benchmarks" / "older.md").read_text()
    (tmp_path / "docs" / "benchmarks" / "runs" / "mine").mkdir(parents=True)      # where the page's archives lie
    shutil.copy(tmp_path / "repo" / "mine" / "it-0.json.gz", tmp_path / "docs" / "benchmarks" / "runs" / "mine")
    page.republish("mine")
    assert "- Records: each finished run is archived in `runs/mine/`" in (
        tmp_path / "docs" / "benchmarks" / "mine.md").read_text()
    fresh = tmp_path / "fresh"
    bench_run.main(["--summarise-only", "--work", str(fresh), "--name", "mine"])
    second = json.loads((tmp_path / "docs" / "benchmarks" / "mine.json").read_text())
    for key in ("tables", "verdicts", "headline", "alike", "machine", "run_machines"):
        assert second[key] == first[key], key
    assert [w["run"] for w in first["walls"]] == ["anit-0", "fgm-0", "it-0"]
    assert second["walls"] == [w for w in first["walls"] if w["run"] != "fgm-0"]     # fgm-0 was still running
    assert second["settings"]["command"] == "python -m bench.robustness --steps 6"
    assert sorted(p.name for p in (tmp_path / "repo" / "mine").iterdir()) == ["anit-0.json.gz", "it-0.json.gz"]
    # a restored run the protocol now scores under more conditions starts again (no adapter to extend it with); a
    # run of this work folder resumes as it is
    monkeypatch.setattr(bench_run, "finished", lambda paths, folder: False)
    bench_run.fresh(fresh / "runs" / "it-0", {})
    bench_run.fresh(work / "runs" / "it-0", {})
    assert not (fresh / "runs" / "it-0").exists() and (work / "runs" / "it-0" / "adapter_model.safetensors").exists()


def test_each_run_names_the_machine_it_ran_on_though_the_work_folder_names_the_latest_start(tmp_path):
    from bench.robustness_page import ran_on

    work, store = _work(tmp_path), tmp_path / "archive"
    # it-0 was archived before runs held their own machine.json: its archive names the machine in its header only
    archive.pack(work / "runs" / "it-0", store / "it-0.json.gz", archive.header(work, {"steps": 6}))
    older = tmp_path / "older"
    archive.restore(older, store, None)
    assert json.loads((older / "runs" / "it-0" / "machine.json").read_text())["date"] == "2026-12-04"
    # the next start rewrote the work folder's machine.json; anit-0 finished there, it-0 is archived again
    later = {"cpu": "Other CPU", "cores": 16, "cuda": None, "torch": "2.13.0", "python": "3.11.7",
             "date": "2026-12-05", "jobs": 2}
    (work / "machine.json").write_text(json.dumps(later))
    for run in ("it-0", "anit-0"):
        target = store / f"{run}.json.gz"
        archive.stamp(work / "runs" / run, work, target)
        archive.pack(work / "runs" / run, target, archive.header(work, {"steps": 6}, work / "runs" / run))
    dates = {run: json.loads((work / "runs" / run / "machine.json").read_text())["date"] for run in ("it-0", "anit-0")}
    assert dates == {"it-0": "2026-12-04", "anit-0": "2026-12-05"}
    assert archive.read(store / "it-0.json.gz")["machine"]["date"] == "2026-12-04"
    fresh = tmp_path / "fresh"
    archive.restore(fresh, store, None)
    runs = {run: json.loads((fresh / "runs" / run / "machine.json").read_text()) for run in ("it-0", "anit-0")}
    assert runs["anit-0"] == later
    assert ran_on(later, {**runs, "fgm-0": None}) == (
        "Ran on Test CPU, 2 cores, GPU: none, torch 2.13.0, Python 3.11.7: it-0 on 2026-12-04. Ran on Other CPU, "
        "16 cores, GPU: none, torch 2.13.0, Python 3.11.7; 2 runs at a time (`--jobs`): anit-0 on 2026-12-05. "
        "Where fgm-0 ran is not recorded.")
    assert ran_on(later, {"it-0": runs["it-0"], "it-1": runs["it-0"]}) == (
        "Ran on Test CPU, 2 cores, GPU: none, torch 2.13.0, Python 3.11.7: it-0, it-1 on 2026-12-04.")


def test_the_archives_are_not_ignored_by_git():
    """An archive git ignores is lost with the checkout like the work folder it was meant to outlive."""
    import bench.robustness as bench_run

    root = Path(bench_run.__file__).resolve().parents[1]
    if shutil.which("git") is None or not (root / ".git").exists():
        pytest.skip("not a git checkout")
    target = bench_run.archives("robustness") / "it-0.json.gz"
    checked = subprocess.run(["git", "check-ignore", "-q", str(target.relative_to(root))], cwd=root)
    assert checked.returncode == 1, f"{target.relative_to(root)} is ignored by git"
