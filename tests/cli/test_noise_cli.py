import json

from typer.testing import CliRunner

from anit.cli import app

runner = CliRunner()
CONTEXT = ("id", "dataset", "task", "instruction", "question", "format", "options", "input", "output", "gold")


def _prepare(fixture_data, tmp_path):
    out = tmp_path / "p.jsonl"
    runner.invoke(app, ["data", "prepare", "--dataset", "conll2003", "--split", "train", "--data-dir",
                        str(fixture_data), "--out", str(out)], catch_exceptions=False)
    return out


def _read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_build_adds_noise_and_scores_and_keeps_context(fixture_data, tmp_path):
    prepared = _prepare(fixture_data, tmp_path)
    out = tmp_path / "n.jsonl"
    result = runner.invoke(app, ["noise", "build", "--in", str(prepared), "--noise", "random_replace:0.2",
                                 "--noise", "truncate_random:0.5", "--distortion", "hard", "--distortion", "jaccard",
                                 "--seed", "7", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0
    base, noisy = _read(prepared), _read(out)
    assert len(noisy) == 2 * len(base)
    for record in noisy:
        original = next(b for b in base if b["id"] == record["id"])
        assert {k: record[k] for k in CONTEXT} == original
        assert record["noisy_instruction"] != record["instruction"]
        assert record["noise_type"] in ("random_replace", "truncate_random")
        assert set(record["distortion"]) == {"word_edit", "jaccard"}
        assert 0 < record["distortion"]["word_edit"] <= 1
    assert "random_replace" in result.stdout and "word_edit mean/min/max" in result.stdout
    again = tmp_path / "again.jsonl"
    runner.invoke(app, ["noise", "build", "--in", str(prepared), "--noise", "random_replace:0.2", "--noise",
                        "truncate_random:0.5", "--distortion", "hard", "--distortion", "jaccard", "--seed", "7",
                        "--out", str(again)], catch_exceptions=False)
    assert again.read_text() == out.read_text()


def test_per_example_mix_and_keep_unless_force(fixture_data, tmp_path):
    prepared = _prepare(fixture_data, tmp_path)
    first = tmp_path / "a.jsonl"
    runner.invoke(app, ["noise", "build", "--in", str(prepared), "--noise", "char_typo:0.3", "--noise",
                        "pad_rear:0.3", "--mix", "per-example", "--out", str(first)], catch_exceptions=False)
    records = _read(first)
    assert len(records) == len(_read(prepared))
    second = tmp_path / "b.jsonl"
    runner.invoke(app, ["noise", "build", "--in", str(first), "--noise", "truncate_front:0.3", "--out", str(second)],
                  catch_exceptions=False)
    assert [r["noisy_instruction"] for r in _read(second)] == [r["noisy_instruction"] for r in records]
    runner.invoke(app, ["noise", "build", "--in", str(first), "--noise", "truncate_front:0.3", "--force",
                        "--out", str(second)], catch_exceptions=False)
    assert {r["noise_type"] for r in _read(second)} == {"truncate_front"}


def test_show_and_list(fixture_data, tmp_path):
    prepared = _prepare(fixture_data, tmp_path)
    out = tmp_path / "n.jsonl"
    runner.invoke(app, ["noise", "build", "--in", str(prepared), "--noise", "pad_front:0.3", "--out", str(out)],
                  catch_exceptions=False)
    shown = runner.invoke(app, ["noise", "show", "--in", str(out), "--n", "2"], catch_exceptions=False)
    assert shown.stdout.count("[pad_front:0.3]") == 2 and " | " in shown.stdout
    listed = runner.invoke(app, ["noise", "list"]).stdout.splitlines()
    names = [line.split("\t")[0] for line in listed]
    assert {"random_replace", "paraphrase", "opposite", "word_edit", "minilm", "openai"} <= set(names)


def test_bad_noise_spec_and_missing_field_fail_cleanly(fixture_data, tmp_path):
    prepared = _prepare(fixture_data, tmp_path)
    out = tmp_path / "n.jsonl"
    result = runner.invoke(app, ["noise", "build", "--in", str(prepared), "--noise", "random_replace:1.5",
                                 "--out", str(out)])
    assert "rate must lie in [0, 1]" in str(result.exception) and not out.exists()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n')
    result = runner.invoke(app, ["noise", "build", "--in", str(bad), "--out", str(out)])
    assert "bad.jsonl:1: missing field(s) instruction" in str(result.exception)


def test_noisy_instructions_a_user_wrote_are_shown_and_summarised_as_their_own_type(tmp_path):
    own = tmp_path / "own.jsonl"
    own.write_text(json.dumps({"id": "1", "task": "tc", "instruction": "Classify the text.",
                               "noisy_instruction": "Clasify teh text."}) + "\n")
    shown = runner.invoke(app, ["noise", "show", "--in", str(own)], catch_exceptions=False)
    assert shown.stdout.startswith("[own] \n") and "Classify the text." in shown.stdout
    built = runner.invoke(app, ["noise", "build", "--in", str(own), "--out", str(tmp_path / "n.jsonl")],
                          catch_exceptions=False)
    assert "\nown         1      0          0.667/0.667/0.667\n" in built.stdout    # 2 of 3 words edited
