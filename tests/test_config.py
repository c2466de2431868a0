from dataclasses import dataclass
from typing import Optional

import pytest

from anit.config import load_config, option, parse_sets
from anit.errors import AnitError


@dataclass
class Toy:
    method: str = option("it", "method", choices=("it", "anit"))
    lr: float = option(1e-4, "learning rate", min=0.0)
    steps: int = option(3, "steps", min=1)
    limit: Optional[int] = option(None, "limit")
    targets: list[str] = option(["q", "v"], "targets")
    flag: bool = option(False, "flag")


def test_defaults_yaml_then_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("method: anit\nlr: 0.001\ntargets: [a, b]\n")
    cfg = load_config(Toy, path, {"steps": "7", "lr": None, "flag": "true"})
    got = (cfg.method, cfg.lr, cfg.steps, cfg.targets, cfg.flag, cfg.limit)
    assert got == ("anit", 0.001, 7, ["a", "b"], True, None)


def test_bad_choice_names_file_line_field_and_allowed_values(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("lr: 0.1\n\nmethod: anti\n")
    with pytest.raises(AnitError) as err:
        load_config(Toy, path)
    assert str(err.value) == (f"{path}:3: field 'method': 'anti' is not allowed; choose one of it, anit; "
                              "did you mean 'anit'?")


def test_unknown_field_suggests_close_name(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("step: 3\n")
    with pytest.raises(AnitError, match=r":1: unknown field 'step'; did you mean 'steps'\?"):
        load_config(Toy, path)


def test_type_and_bounds_errors_from_command_line():
    with pytest.raises(AnitError, match="command line: field 'steps': expected a whole number, got 'x'"):
        load_config(Toy, None, {"steps": "x"})
    with pytest.raises(AnitError, match="below the minimum 1"):
        load_config(Toy, None, {"steps": 0})


def test_bad_yaml_and_missing_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("a: [1,\n")
    with pytest.raises(AnitError, match="not valid YAML"):
        load_config(Toy, path)
    with pytest.raises(AnitError, match="config file not found"):
        load_config(Toy, tmp_path / "none.yaml")


def test_parse_sets_reads_values_as_yaml():
    assert parse_sets(["a=3", "b=0.5", "c=[x, y]", "d=text"]) == {"a": 3, "b": 0.5, "c": ["x", "y"], "d": "text"}
    with pytest.raises(AnitError, match="expected key=value"):
        parse_sets(["novalue"])


def test_an_old_key_says_what_it_was_renamed_to(tmp_path):
    from anit.training.config import TrainConfig

    old = tmp_path / "old.yaml"
    old.write_text("method: anit\nbeta_max: 10\n")
    with pytest.raises(AnitError, match=r"old.yaml:2: field 'beta_max' was renamed to 'nrm_beta_max'"):
        load_config(TrainConfig, old)
    assert load_config(TrainConfig, None, {"nrm_beta_max": 10}).nrm_beta_max == 10.0


@dataclass
class Paths:
    data: str = option("d.jsonl", "data", path=True)
    conditions: list[str] = option(["raw"], "conditions or files", path=True)
    name: str = option("run", "a name, not a path")


def test_a_path_field_expands_home_as_a_shell_would(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = tmp_path / "home" / "run.yaml"
    config.parent.mkdir()
    config.write_text("data: ~/data/test.jsonl\nconditions: [raw, ~/worst.yaml, runs/~x.yaml]\nname: ~/kept\n")
    cfg = load_config(Paths, "~/run.yaml", {"data": None})
    home = str(tmp_path / "home")
    assert (cfg.data, cfg.conditions, cfg.name) == (
        f"{home}/data/test.jsonl", ["raw", f"{home}/worst.yaml", "runs/~x.yaml"], "~/kept")
    assert load_config(Paths, None, {"data": "~"}).data == home


def test_every_command_expands_home_in_its_file_fields(tmp_path, monkeypatch):
    from anit.compare import CompareConfig
    from anit.evaluation.config import AttackConfig, EvalConfig
    from anit.training.config import TrainConfig

    monkeypatch.setenv("HOME", str(tmp_path))
    train = load_config(TrainConfig, None, {"model": "~/base", "data": "~/t.jsonl", "output_dir": "~/out"})
    assert (train.model, train.data, train.output_dir) == (f"{tmp_path}/base", f"{tmp_path}/t.jsonl", f"{tmp_path}/out")
    assert load_config(TrainConfig, None, {"model": "smollm2-135m"}).model == "smollm2-135m"
    ev = load_config(EvalConfig, None, {"adapter": "~/a", "data": "~/x.jsonl", "instructions": ["raw", "~/w.yaml"],
                                        "out": "~/r"})
    assert (ev.adapter, ev.data, ev.instructions, ev.out) == (
        f"{tmp_path}/a", f"{tmp_path}/x.jsonl", ["raw", f"{tmp_path}/w.yaml"], f"{tmp_path}/r")
    attack = load_config(AttackConfig, None, {"data": "~/dev.jsonl", "instructions": "~/mine.yaml"})
    assert (attack.data, attack.instructions) == (f"{tmp_path}/dev.jsonl", f"{tmp_path}/mine.yaml")
    compare = load_config(CompareConfig, None, {"train": "~/a", "dev": "~/b", "test": "~/c", "out": "~/o"})
    assert [compare.train, compare.dev, compare.test, compare.out] == [f"{tmp_path}/{n}" for n in "abco"]
