import json

from typer.testing import CliRunner

from anit.cli import app

runner = CliRunner()


def test_list_marks_absent_splits(fixture_data):
    result = runner.invoke(app, ["data", "list", "--data-dir", str(fixture_data)])
    assert result.exit_code == 0
    lines = {line.split("\t")[0]: line for line in result.stdout.splitlines()}
    assert {"conll2003", "ontonotes5", "nyt", "scierc", "sst2", "ag_news", "aste_14lap", "aste_14res"} <= set(lines)
    assert "task=re" in lines["nyt"] and "train(absent)" in lines["nyt"] and "dev(absent)" not in lines["nyt"]


def test_stats_counts_found_splits(fixture_data):
    result = runner.invoke(app, ["data", "stats", "--data-dir", str(fixture_data), "--dataset", "conll2003",
                                 "--dataset", "nyt"])
    assert result.exit_code == 0
    assert "conll2003\ttrain\t3" in result.stdout and "nyt\ttrain\tabsent" in result.stdout
    assert "nyt\tdev\t2" in result.stdout


def test_prepare_writes_records_loadable_by_datasets(fixture_data, tmp_path):
    out = tmp_path / "p.jsonl"
    result = runner.invoke(app, ["data", "prepare", "--dataset", "conll2003", "--split", "dev", "--limit", "2",
                                 "--seed", "1", "--data-dir", str(fixture_data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 2
    assert set(records[0]) == {"id", "dataset", "task", "instruction", "question", "format", "options", "input",
                               "output", "gold"}
    import datasets

    table = datasets.load_dataset("json", data_files=str(out), split="train")
    assert table.num_rows == 2


def test_prepare_from_config_with_override(fixture_data, tmp_path):
    cfg = tmp_path / "prep.yaml"
    cfg.write_text(f"dataset: sst2\nsplit: dev\ndata_dir: {fixture_data}\nout: {tmp_path / 'a.jsonl'}\n")
    result = runner.invoke(app, ["data", "prepare", "--config", str(cfg), "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == 1


def test_bad_input_leaves_no_file_and_skip_bad_counts(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("ok .####[([0], [0], 'POS')]\nbroken\n")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["data", "prepare", "--dataset", "aste_14res", "--path", str(bad), "--out", str(out)])
    assert result.exit_code != 0 and not out.exists()
    assert "bad.txt:2" in str(result.exception)
    result = runner.invoke(app, ["data", "prepare", "--dataset", "aste_14res", "--path", str(bad), "--out", str(out),
                                 "--skip-bad"])
    assert result.exit_code == 0 and "skipped 1 bad record(s)" in result.stdout
    assert len(out.read_text().splitlines()) == 1
    assert not list(tmp_path.glob(".*.tmp"))


def test_empty_input_gives_empty_valid_output(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["data", "prepare", "--dataset", "aste_14lap", "--path", str(empty), "--out", str(out)])
    assert result.exit_code == 0 and out.exists() and out.read_text() == ""


def test_console_script_prints_one_line_errors(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "from anit.cli import main; main()", "data", "prepare",
                           "--dataset", "nope", "--out", str(tmp_path / "x.jsonl")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: ") and "unknown dataset 'nope'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_prepare_mixes_datasets_balanced_and_shuffled(fixture_data, tmp_path):
    out = tmp_path / "mix.jsonl"
    args = ["data", "prepare", "--dataset", "sst2", "--dataset", "conll2003", "--dataset", "aste_14res", "--split",
            "dev", "--limit-per-dataset", "2", "--data-dir", str(fixture_data), "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["dataset"] for r in records) == ["aste_14res"] * 2 + ["conll2003"] * 2 + ["sst2"] * 2
    assert [r["dataset"] for r in records] != sorted(r["dataset"] for r in records)  # shuffled, not in blocks
    assert runner.invoke(app, args + ["--out", str(tmp_path / "again.jsonl")]).exit_code == 0
    assert (tmp_path / "again.jsonl").read_text() == out.read_text()
    twice = runner.invoke(app, ["data", "prepare", "--dataset", "sst2", "--dataset", "sst2", "--out", str(out)])
    assert twice.exit_code != 0 and "named twice" in str(twice.exception)


def test_a_missing_data_folder_is_said_once_by_list_and_stops_stats(tmp_path, monkeypatch):
    monkeypatch.setenv("ANIT_DATA_DIR", str(tmp_path / "gone"))
    listed = CliRunner().invoke(app, ["data", "list"])
    assert listed.exit_code == 0 and "sst2\ttask=tc\tsplits=train(absent) dev(absent) test(absent)" in listed.stdout
    assert listed.stderr.count("data folder not found ($ANIT_DATA_DIR)") == 1
    counted = CliRunner().invoke(app, ["data", "stats", "--dataset", "sst2"])
    assert counted.exit_code != 0 and counted.stdout == ""
    assert str(counted.exception) == f"{tmp_path / 'gone'}: data folder not found ($ANIT_DATA_DIR); point it at the " \
                                     "folder holding the datasets"
    elsewhere = CliRunner().invoke(app, ["data", "stats", "--data-dir", str(tmp_path / "nope")])
    assert "nope: data folder not found (--data-dir)" in str(elsewhere.exception)


def test_help_gives_a_default_only_where_there_is_one():
    shown = " ".join(CliRunner().invoke(app, ["data", "stats", "--help"], env={"COLUMNS": "200"}).stdout.split())
    assert "Only these datasets (repeatable; default: all)." in shown and "default: all). (default" not in shown
    assert "else ../shared/data beside the checkout)." in shown and "checkout). (default" not in shown
    assert "(default: )" not in shown and "(default: 3407)" in " ".join(CliRunner().invoke(
        app, ["data", "prepare", "--help"], env={"COLUMNS": "200"}).stdout.split())
    trained = " ".join(CliRunner().invoke(app, ["train", "--help"], env={"COLUMNS": "500"}).stdout.split())
    assert "0 for `it`)." in trained and "0 for `it`). (default" not in trained    # "default by task: ..." too
