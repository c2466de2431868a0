"""The catalogue of user errors: each exits with its code and one message naming the file, line, field or option,
prints no traceback, loads no model and leaves no output or temporary file behind."""

import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from anit.cli import main

GOOD = {"id": "1", "dataset": "sst2", "task": "tc", "instruction": "Classify.", "question": "Which label?",
        "format": "one label", "options": ["negative", "positive"], "input": "good", "output": "positive",
        "gold": "positive"}


def _jsonl(path: Path, *records: dict) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def run(args, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["anit", *map(str, args)])
    code = 0
    try:
        main()
    except SystemExit as done:
        code = done.code
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def make_files(tmp: Path) -> SimpleNamespace:
    """The inputs every case draws from."""
    data = _jsonl(tmp / "test.jsonl", GOOD)
    ner = _jsonl(tmp / "ner.jsonl", {**GOOD, "task": "ner", "options": ["person"], "gold": []})
    (tmp / "ner-only.yaml").write_text("ner: [Tag it.]\n")
    (tmp / "empty.yaml").write_text("tc: []\n")
    (tmp / "broken.yaml").write_text("tc:\n  - [unclosed\n")
    (tmp / "typo-task.yaml").write_text("tc: [Classify.]\nclassification:\n  - Classify it.\n")
    (tmp / "blank-entry.yaml").write_text("tc:\n  - Classify.\n  -\n")
    (tmp / "adapter").mkdir()
    (tmp / "peft-adapter").mkdir()
    (tmp / "peft-adapter" / "adapter_config.json").write_text("{}")
    (tmp / "a-file").write_text("x")
    (tmp / "empty-results").mkdir()
    (tmp / "bad-results" / "it").mkdir(parents=True)
    (tmp / "bad-results" / "it" / "metrics.json").write_text("{not json")
    (tmp / "shape-results" / "it").mkdir(parents=True)
    (tmp / "shape-results" / "it" / "metrics.json").write_text('{"conditions": {"raw": [1, 2]}}')
    (tmp / "run" / "checkpoint-final").mkdir(parents=True)
    (tmp / "run2" / "checkpoint-3").mkdir(parents=True)
    (tmp / "learning.yaml").write_text("learning_rate: 0.1\n")
    (tmp / "out-folder").mkdir()
    return SimpleNamespace(data=data, ner=ner)


CASES = {
    "eval --limit 0": (lambda t, f: ["eval", "--data", f.data, "--limit", "0"], 2, "field 'limit'"),
    "eval --limit -1": (lambda t, f: ["eval", "--data", f.data, "--limit", "-1"], 2, "field 'limit'"),
    "eval instructions of another task": (
        lambda t, f: ["eval", "--data", f.data, "--instructions", t / "ner-only.yaml"], 2,
                                          "ner-only.yaml"),
    "eval empty instruction list": (lambda t, f: ["eval", "--data", f.data, "--instructions", t / "empty.yaml"], 2,
                                    "empty.yaml"),
    "eval malformed instructions YAML": (
        lambda t, f: ["eval", "--data", f.data, "--instructions", t / "broken.yaml"], 2,
                                         "broken.yaml:"),
    "eval gold is null": (lambda t, f: ["eval", "--data", _jsonl(t / "g.jsonl", GOOD, {**GOOD, "gold": None})], 2,
                          "g.jsonl:2: field 'gold': expected text or a list, got null"),
    "eval gold outside the options": (
        lambda t, f: ["eval", "--data", _jsonl(t / "o.jsonl", GOOD, {**GOOD, "gold": "Positive"})], 2,
                                      "o.jsonl:2: field 'gold': 'Positive' is not among the options (negative, "
                                      "positive): no answer is right"),
    "eval instructions for an unknown task": (
        lambda t, f: ["eval", "--data", f.data, "--instructions", t / "typo-task.yaml"], 2,
                                              "typo-task.yaml:2: unknown task 'classification'; known: absa, ner, "
                                              "re, tc"),
    "attack instruction entry that is empty": (
        lambda t, f: ["attack", "--data", f.data, "--instructions", t / "blank-entry.yaml"], 2,
                                               "blank-entry.yaml:3: tc[1]: expected an instruction"),
    "eval instruction is a number": (
        lambda t, f: ["eval", "--data", _jsonl(t / "i.jsonl", {**GOOD, "instruction": 3})], 2,
                                     "i.jsonl:1: field 'instruction': expected text, got int"),
    "eval adapter is not one": (lambda t, f: ["eval", "--data", f.data, "--adapter", t / "adapter"], 2,
                                "not an adapter folder"),
    "eval noisy on records without noisy instructions": (
        lambda t, f: ["eval", "--data", f.data, "--instructions", "noisy"], 2,
        "test.jsonl: --instructions noisy: no record has a noisy_instruction; build them with `anit noise build`"),
    "eval --batch-size 0": (lambda t, f: ["eval", "--data", f.data, "--batch-size", "0"], 2, "field 'batch_size'"),
    "eval --set temperature=nan": (
        lambda t, f: ["eval", "--data", f.data, "--set", "temperature=nan"], 2, "not a finite"),
    "eval choice scoring of ner": (
        lambda t, f: ["eval", "--data", f.ner, "--scoring", "choice"], 2, "--scoring choice"),
    "eval missing data": (lambda t, f: ["eval", "--data", t / "nope.jsonl"], 2, "nope.jsonl: file not found"),
    "attack --budget 0": (lambda t, f: ["attack", "--data", f.data, "--budget", "0"], 2, "field 'budget'"),
    "attack file without the task": (
        lambda t, f: ["attack", "--data", f.data, "--instructions", t / "ner-only.yaml"], 2,
        "ner-only.yaml: lists instructions for ner, but the data's records are of task"),
    "attack choice without options": (lambda t, f: ["attack", "--data", _jsonl(t / "o.jsonl", {**GOOD, "options": []}),
                                       "--scoring", "choice"], 2, "has none"),
    "report without a folder": (lambda t, f: ["report", "--out", t / "rep"], 2, "give at least one result folder"),
    "export without --out": (lambda t, f: ["export", "--model", "smollm2-135m"], 2, "export: give --out"),
    "export without adapter or model": (lambda t, f: ["export", "--out", t / "m"], 2, "give --adapter"),
    "export a folder with no adapter": (lambda t, f: ["export", "--adapter", t / "adapter", "--out", t / "m"], 2,
                                        "not an adapter folder (no adapter_config.json)"),
    "export another tool's adapter without --model": (
        lambda t, f: ["export", "--adapter", t / "peft-adapter", "--out", t / "m"], 2,
        "no anit_config.yaml says its base model; give --model"),
    "demo --steps 0": (lambda t, f: ["demo", "--steps", "0", "--out", t / "demo"], 2, "field 'steps'"),
    "report missing folder": (lambda t, f: ["report", t / "nowhere", "--out", t / "rep"], 2, "no such folder"),
    "report empty folder": (lambda t, f: ["report", t / "empty-results", "--out", t / "rep"], 2, "no metrics.json"),
    "report corrupted metrics": (lambda t, f: ["report", t / "bad-results", "--out", t / "rep"], 2,
                                 "it/metrics.json: not valid JSON"),
    "report wrongly shaped metrics": (lambda t, f: ["report", t / "shape-results", "--out", t / "rep"], 2,
                                      "not an `anit eval` metrics.json"),
    "train --max-steps 0": (lambda t, f: ["train", "--data", f.data, "--max-steps", "0"], 2, "field 'max_steps'"),
    "train output is a file": (
        lambda t, f: ["train", "--data", f.data, "--method", "it", "--output-dir", t / "a-file"], 2,
                               "is a file"),
    "train missing data": (lambda t, f: ["train", "--data", t / "none.jsonl"], 2, "none.jsonl: file not found"),
    "train resume without numbered checkpoint": (lambda t, f: ["train", "--data", f.data, "--method", "it", "--resume",
                                                  "--output-dir", t / "run"], 2, "no checkpoint-<step>"),
    "train resume without fingerprint": (lambda t, f: ["train", "--data", f.data, "--method", "it", "--resume",
                                          "--output-dir", t / "run2"], 2, "no fingerprint.json"),
    "train YAML key by another tool's name": (lambda t, f: ["train", "--config", t / "learning.yaml"], 2,
                                              "learning.yaml:1: unknown field 'learning_rate'; did you mean 'lr'"),
    "train unknown method": (lambda t, f: ["train", "--data", f.data, "--method", "anti"], 2, "known: anit, fgm"),
    "prepare --out a folder": (lambda t, f: ["data", "prepare", "--dataset", "sst2", "--split", "dev", "--data-dir",
                                Path(__file__).parent / "fixtures" / "data", "--out", t / "out-folder"], 2,
                               "is a folder"),
    "noise show --n -1": (lambda t, f: ["noise", "show", "--in", f.data, "--n", "-1"], 2, "field 'n'"),
    "noise show on records never noised": (lambda t, f: ["noise", "show", "--in", f.data], 2,
                                           "test.jsonl: no record has a noisy_instruction"),
    "data stats unknown dataset": (lambda t, f: ["data", "stats", "--dataset", "sst"], 2,
                                   "field 'dataset': unknown dataset 'sst'"),
    "list an unknown kind": (lambda t, f: ["list", "method"], 2,
                             "field 'kinds': 'method' is not allowed; choose one of datasets, tasks, noises, "
                             "scorers, methods; did you mean 'methods'?"),
    "noise build openai without a key": (
        lambda t, f: ["noise", "build", "--in", f.data, "--distortion", "openai", "--out",
                                          t / "n.jsonl"], 2, "needs an API key"),

}


@pytest.mark.parametrize("name", sorted(CASES))
def test_user_error_is_one_clear_line_before_any_model_loads(name, tmp_path, capsys, monkeypatch, no_model_loads):
    monkeypatch.delenv("ANIT_EMBEDDINGS_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    build, code, fragment = CASES[name]
    args = build(tmp_path, make_files(tmp_path))
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    got, output = run(args, capsys, monkeypatch)
    assert got == code, output
    assert fragment in output
    assert "Traceback" not in output and len(output) < 1500
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before   # nothing written, no temp file


def test_ctrl_c_exits_130_with_one_line(tmp_path, capsys, monkeypatch):
    import anit.data.prepare

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(anit.data.prepare, "load_examples", interrupt)
    code, output = run(["data", "prepare", "--dataset", "sst2", "--path", tmp_path / "any.tsv", "--out",
                        tmp_path / "o.jsonl"], capsys, monkeypatch)
    assert code == 130 and output.strip() == "interrupted" and not list(tmp_path.iterdir())


def test_a_missing_data_folder_is_named_not_every_split_absent(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ANIT_DATA_DIR", str(tmp_path / "gone"))
    code, output = run(["data", "prepare", "--dataset", "sst2", "--out", tmp_path / "x.jsonl"], capsys, monkeypatch)
    assert code == 2 and "gone: data folder not found ($ANIT_DATA_DIR)" in output


def test_a_huge_bad_line_is_cut_in_the_message(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "train.tsv"
    bad.write_text("x" * 5_000_000 + "\n")
    code, output = run(["data", "prepare", "--dataset", "sst2", "--path", bad, "--out", tmp_path / "o.jsonl"], capsys,
                       monkeypatch)
    assert code == 2 and "train.tsv:1" in output and len(output) < 1000 and "5000000 characters" in output


def test_skip_bad_skips_a_line_that_is_not_utf8_and_a_bom_is_accepted(tmp_path, capsys, monkeypatch):
    data = tmp_path / "train.tsv"
    data.write_bytes("\ufeffsentence\tlabel\n".encode() + b"good film\t1\n" + b"bad \xff bytes\t0\n" + b"dull\t0\n")
    out = tmp_path / "o.jsonl"
    code, output = run(["data", "prepare", "--dataset", "sst2", "--path", data, "--skip-bad", "--out", out], capsys,
                       monkeypatch)
    assert code == 0, output
    assert [json.loads(line)["gold"] for line in out.read_text().splitlines()] == ["positive", "negative"]
    assert "skipped 1 bad record(s)" in output and "train.tsv:3: not UTF-8" in output


def test_outputs_honour_the_umask_and_a_killed_writers_temp_file_is_cleaned(tmp_path):
    from anit.jsonl import write_jsonl

    target = tmp_path / "out.jsonl"
    stale = tmp_path / ".out.jsonl.999999999.abcd.tmp"
    stale.write_text("half")
    old = os.umask(0o022)
    try:
        write_jsonl(target, [{"a": 1}])
    finally:
        os.umask(old)
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)
    assert not stale.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_an_unlabelled_hub_split_is_refused_not_read_as_positive():
    from anit.data import DATASETS
    from anit.data.classification import _hf_labelled
    from anit.errors import DataError

    table = [{"sentence": "a fine film", "label": 1}, {"sentence": "hidden", "label": -1}]
    reader = _hf_labelled("sentence")(table, DATASETS.get("sst2"))
    assert next(reader).gold == "positive"
    with pytest.raises(DataError, match="2: label -1: this split is unlabelled"):
        next(reader)


def test_a_model_that_is_not_there_is_one_line_at_once(monkeypatch, tmp_path):
    import socket
    import time

    from anit.errors import AnitError
    from anit.models import load_model, load_tokenizer

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr("urllib.request.getproxies", lambda: {})
    with pytest.raises(AnitError, match=r"model '\S+missing-folder': no such folder; give a preset"):
        load_tokenizer(str(tmp_path / "missing-folder"))
    with pytest.raises(AnitError, match="model 'runs/it/adapterx': no such folder"):
        load_model("runs/it/adapterx")
    asked = []

    def no_network(host, port):
        asked.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    begun = time.monotonic()
    with pytest.raises(AnitError, match=r"model 'nobody/no-such-model': not in the Hugging Face cache \(\S+\), and "
                                        r"the hub \(huggingface.co\) cannot be reached \(Name or service not known\)"):
        load_tokenizer("nobody/no-such-model")
    assert time.monotonic() - begun < 5 and asked == ["huggingface.co"]      # not the hub client's retries
    (tmp_path / "models--nobody--cached").mkdir()       # in the cache, or offline: the hub client says what it lacks
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    for model in ("nobody/cached", "nobody/no-such-model"):
        with pytest.raises(AnitError, match=f"model '{model}': not found .* give a preset"):
            load_tokenizer(model)
    assert asked == ["huggingface.co"]
