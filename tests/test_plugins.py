"""Your own datasets, noise types and scorers, from a file named with --plugins, on every command; a plugin that
fails to import stops with one line naming its own file and line."""

import json
import os

import pytest
from typer.testing import CliRunner

from anit.cli import app
from anit.config import load_config
from anit.errors import AnitError
from anit.evaluation.config import AttackConfig
from anit.plugins import load_plugins
from anit.training.config import TrainConfig

EXTENSION = '''
from anit.data import DatasetSpec, register_dataset
from anit.data.ner import read_bio_columns
from anit.distortion import register_scorer
from anit.noise.operators import Noisy, register_noise


@register_dataset
def plug_ner():
    return DatasetSpec(name="plug_ner", task="ner", reader=read_bio_columns, labels=("PER", "LOC"),
                       files={"train": "plug_ner/train.txt"})


@register_noise("plug_shout", "Upper-case the instruction.")
def plug_shout(instruction, rate, rng, mode="fixed"):
    return Noisy(instruction.upper(), len(instruction.split()), "")


@register_scorer("plug_length", family="hard")
def plug_length(raw, noisy):
    return 1 - min(len(raw), len(noisy)) / max(len(raw), len(noisy), 1)
'''
@pytest.fixture(autouse=True)
def registries_as_they_were(monkeypatch):
    """What a test's plugins register stays in that test: the other tests' noise pools and name lists are left as
    they were (an attack's default noises are every registered type)."""
    import anit.plugins
    from anit.data import DATASETS
    from anit.distortion import SCORERS
    from anit.noise import NOISES
    from anit.tasks import TASKS

    for registry in (DATASETS, SCORERS, NOISES, TASKS):
        monkeypatch.setattr(registry, "_items", dict(registry._items))
    monkeypatch.setattr(anit.plugins, "_LOADED", set(anit.plugins._LOADED))


BIO = "Alice B-PER\nlives O\nin O\nNew B-LOC\nYork I-LOC\n. O\n\nBob B-PER\nleft O\n. O\n"


def test_a_dataset_noise_and_scorer_of_your_own_work_on_every_command(tmp_path):
    plugin = tmp_path / "ext.py"
    plugin.write_text(EXTENSION)
    (tmp_path / "plug_ner").mkdir()
    (tmp_path / "plug_ner" / "train.txt").write_text(BIO)
    runner = CliRunner()
    before = runner.invoke(app, ["data", "prepare", "--dataset", "plug_ner", "--out", str(tmp_path / "x.jsonl")])
    assert isinstance(before.exception, AnitError)
    assert "unknown dataset 'plug_ner'" in str(before.exception) and "--plugins" in str(before.exception)
    listed = runner.invoke(app, ["data", "list", "--plugins", str(plugin), "--data-dir", str(tmp_path)])
    assert listed.exit_code == 0 and "plug_ner\ttask=ner\tsplits=train" in listed.output
    prepared = tmp_path / "p.jsonl"
    result = runner.invoke(app, ["data", "prepare", "--plugins", str(plugin), "--dataset", "plug_ner", "--split",
                                 "train", "--data-dir", str(tmp_path), "--out", str(prepared)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in prepared.read_text().splitlines()]
    assert [r["gold"] for r in records] == [[["PER", "Alice"], ["LOC", "New York"]], [["PER", "Bob"]]]
    assert [r["output"] for r in records] == ["PER: Alice; LOC: New York", "PER: Bob"]
    shown = runner.invoke(app, ["noise", "list", "--plugins", str(plugin)])
    assert "plug_shout\tnoise" in shown.output and "plug_length\tscorer:hard" in shown.output
    noisy = tmp_path / "n.jsonl"
    built = runner.invoke(app, ["noise", "build", "--plugins", str(plugin), "--in", str(prepared), "--noise",
                                "plug_shout:0.5", "--distortion", "plug_length", "--out", str(noisy)])
    assert built.exit_code == 0, built.output
    for row in map(json.loads, noisy.read_text().splitlines()):
        assert row["noisy_instruction"] == row["instruction"].upper()
        assert row["distortion"] == {"plug_length": 0.0}    # upper-casing keeps the length
    # an attack's config takes the noise type once the plugin is named, before any model loads
    assert load_config(AttackConfig, None, {"plugins": [str(plugin)], "noises": ["plug_shout"]}).noises == [
        "plug_shout"]


def test_a_saved_config_names_its_plugin_file_so_it_loads_from_any_folder(tmp_path, monkeypatch):
    (tmp_path / "methods.py").write_text("X = 1\n")
    monkeypatch.chdir(tmp_path)
    cfg = TrainConfig(method="it", plugins=["methods.py"])
    assert cfg.plugins == [str(tmp_path / "methods.py")]
    monkeypatch.chdir(tmp_path.parent)
    assert TrainConfig(method="it", plugins=cfg.plugins).plugins == cfg.plugins   # imported once, not again


@pytest.mark.parametrize("source, expected", [
    ("def broken(:\n    pass\n", r"bad\d\.py:1: plugin .*bad\d\.py: invalid syntax"),
    ("X = 1\nraise RuntimeError('no licence key')\n", r"bad\d\.py:2: plugin .*: RuntimeError: no licence key"),
    ("import numpy\nimport not_installed_anywhere\n",
     r"bad\d\.py:2: plugin .*: ModuleNotFoundError: No module named 'not_installed_anywhere'"),
])
def test_a_plugin_that_fails_to_import_stops_with_its_own_file_and_line(tmp_path, source, expected):
    path = tmp_path / f"bad{len(source) % 10}.py"
    path.write_text(source)
    with pytest.raises(AnitError, match=expected) as raised:
        load_plugins([str(path)])
    assert "\n" not in str(raised.value) and str(path) in str(raised.value)


def test_a_missing_plugin_is_named():
    with pytest.raises(AnitError, match=r"plugin no/such\.py: file not found"):
        load_plugins(["no/such.py"])
    with pytest.raises(AnitError, match=r"plugin no_such_module_here: no such module"):
        load_plugins(["no_such_module_here"])


def test_the_command_line_error_of_a_bad_plugin_is_one_line(tmp_path):
    path = tmp_path / "oops.py"
    path.write_text("1/0\n")
    result = CliRunner().invoke(app, ["noise", "build", "--plugins", str(path), "--in", os.devnull])
    assert isinstance(result.exception, AnitError)
    assert str(result.exception) == f"{path}:1: plugin {path}: ZeroDivisionError: division by zero"


TASK = '''
from anit.tasks import TASKS, classification, metrics
from anit.tasks.base import Task

TASKS.register("plug_nli")(Task(
    name="plug_nli", question="Does the premise entail the hypothesis?", format="one label from the options",
    instructions=("Decide whether the premise entails the hypothesis.", "Is the hypothesis implied?"),
    format_answer=classification.format_answer, parse_answer=classification.parse_answer,
    metric=metrics.classification, primary="accuracy", record_counts=metrics.label_counts, max_new_tokens=8))
'''


def test_a_label_task_of_your_own_is_scored_by_choice_as_tc_is(tmp_path):
    from anit.evaluation.run import check_scoring

    plugin = tmp_path / "nli.py"
    plugin.write_text(TASK)
    record = {"id": "n1", "task": "plug_nli", "options": ["entailment", "neutral", "contradiction"]}
    with pytest.raises(AnitError, match="unknown task 'plug_nli'"):
        check_scoring([record], "choice")
    load_plugins([str(plugin)])
    check_scoring([record, {**record, "id": "t1", "task": "tc"}], "choice")
    with pytest.raises(AnitError, match="record 'e1' is of task 'ner'; use --scoring generate"):
        check_scoring([record, {**record, "id": "e1", "task": "ner"}], "choice")
    with pytest.raises(AnitError, match="record 'n2' is of task 'plug_nli' and has none"):
        check_scoring([{**record, "id": "n2", "options": []}], "choice")


def test_a_report_on_a_task_of_your_own_names_its_metric(tmp_path):
    from anit.report.build import write_report

    plugin = tmp_path / "nli.py"
    plugin.write_text(TASK)
    (tmp_path / "runs" / "zero-shot").mkdir(parents=True)
    (tmp_path / "runs" / "zero-shot" / "metrics.json").write_text(json.dumps({"conditions": {"raw": {
        "toy_nli": {"task": "plug_nli", "accuracy": 0.5, "macro_f1": 0.4, "n": 6, "unparseable": 1}}}}))
    runner = CliRunner()
    before = runner.invoke(app, ["report", str(tmp_path / "runs"), "--out", str(tmp_path / "rep")])
    assert "unknown task 'plug_nli'" in str(before.exception)
    result = runner.invoke(app, ["report", str(tmp_path / "runs"), "--out", str(tmp_path / "rep"),
                                 "--plugins", str(plugin)])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "rep" / "report.md").read_text()
    assert "Scores are each task's metric: accuracy (plug_nli)." in text and "| zero-shot | 0.500 |" in text
    assert write_report([tmp_path / "runs"], tmp_path / "again").exists()


def test_held_out_conditions_of_a_task_with_one_instruction_stop_with_a_way_out(tmp_path):
    from anit.evaluation.run import conditions

    plugin = tmp_path / "one.py"
    plugin.write_text(TASK.replace('"plug_nli"', '"plug_one"').replace(', "Is the hypothesis implied?"', ","))
    load_plugins([str(plugin)])
    records = [{"id": "1", "task": "plug_one", "instruction": "Decide.", "input": "x", "gold": "a"},
               {"id": "2", "task": "tc", "instruction": "Classify.", "input": "y", "gold": "a"}]
    for which in ("unseen", "unseen-pool"):
        with pytest.raises(AnitError, match=f"--instructions {which}: task plug_one has no held-out instructions"):
            conditions(records, which)
    assert [ins for _, ins in conditions(records[1:], "unseen")["unseen"]] == [
        "Please read the following text and decide which of the provided labels best describes it."]


def test_a_task_whose_instructions_are_one_string_stops_at_its_line(tmp_path):
    plugin = tmp_path / "str_task.py"
    plugin.write_text(TASK.replace('"plug_nli"', '"plug_str"').replace(', "Is the hypothesis implied?"', ""))
    line = 1 + TASK.splitlines().index('TASKS.register("plug_nli")(Task(')
    with pytest.raises(AnitError, match=rf"str_task\.py:{line}: plugin .*ValueError: task 'plug_str': instructions "
                                        "must be a tuple of one or more texts"):
        load_plugins([str(plugin)])


def test_the_readmes_extensions_load_as_one_plugin_and_work(tmp_path):
    """The README's scorer, dataset and task examples, written to one file as a user would, register and work."""
    import re
    from pathlib import Path

    from anit.data import DATASETS
    from anit.distortion import SCORERS
    from anit.evaluation.run import check_scoring
    from anit.tasks import TASKS

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("## Extending"):readme.index("## Configuration")]
    blocks = [b for b in re.findall(r"```python\n(.*?)```", section, re.DOTALL) if "register_method" not in b]
    assert len(blocks) == 3
    plugin = tmp_path / "my_ext.py"
    plugin.write_text("\n\n".join(blocks))
    load_plugins([str(plugin)])
    assert SCORERS.get("length_ratio").score(["four"], ["eight"]) == [pytest.approx(1 - 4 / 5)]
    assert DATASETS.get("my_ner").labels == ("PER", "LOC") and DATASETS.get("my_ner").task == "ner"
    nli = TASKS.get("nli")
    assert nli.primary == "accuracy" and len(nli.unseen_instructions) == 1
    assert nli.parse_answer("Answer: contradiction.", ["entailment", "contradiction"]) == "contradiction"
    check_scoring([{"id": "1", "task": "nli", "options": ["entailment", "contradiction"]}], "choice")


def test_an_error_inside_anit_during_a_plugins_import_keeps_its_traceback(tmp_path):
    """Not the plugin's fault as far as anit can tell (raised in anit's own code, not a refusal of what it
    registers): a bug, which keeps its type and traceback instead of becoming one line."""
    path = tmp_path / "calls_in.py"
    path.write_text("from anit.noise.operators import count\ncount('three words', 0.5, None)\n")
    with pytest.raises(TypeError) as raised:
        load_plugins([str(path)])
    assert raised.traceback[-1].path.name == "operators.py"


def test_a_name_only_a_registry_knows_is_refused_at_its_file_line_and_field_and_a_plugins_names_are_known(tmp_path):
    from anit.cli.noise import NoiseConfig
    from anit.config import load_config

    config = tmp_path / "noise.yaml"
    config.write_text("seed: 3\nnoise:\n  - char_typo:0.3\n  - plug_shout:0.5\n")
    with pytest.raises(AnitError) as refused:        # given in the YAML, refused there, not on the command line
        load_config(NoiseConfig, config, {"input": os.devnull})
    assert str(refused.value).startswith(f"{config}:2: field 'noise': unknown noise type 'plug_shout'; known: ")
    plugin = tmp_path / "ext.py"
    plugin.write_text(EXTENSION)
    config.write_text(config.read_text() + f"plugins: [{plugin}]\n")   # named after the noise: imported before
    loaded = load_config(NoiseConfig, config, {"input": os.devnull})
    assert [spec.name for spec in loaded.specs] == ["char_typo", "plug_shout"]
    with pytest.raises(AnitError, match=r"^command line: field 'distortion': unknown distortion scorer") as bad:
        load_config(NoiseConfig, config, {"distortion": ["plug_len"]})
    assert str(bad.value).endswith("; or hard, soft: each family's default")
