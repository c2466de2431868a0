from pathlib import Path

from typer.testing import CliRunner

from anit.cli import app
from anit.data import DATASETS
from anit.distortion import SCORERS
from anit.noise import NOISES
from anit.tasks import TASKS
from anit.training.methods import METHODS

runner = CliRunner()
FREELB = Path(__file__).resolve().parents[2] / "docs" / "examples" / "freelb.py"


def _rows(args):
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [line.split("\t") for line in result.stdout.splitlines()]


def test_list_names_every_registry_kind_first_and_each_family_list_is_its_part(fixture_data):
    rows = _rows(["list", "--data-dir", str(fixture_data)])
    by_kind = {}
    for kind, name, *_ in rows:
        by_kind.setdefault(kind, []).append(name)
    assert by_kind["dataset"] == DATASETS.names() and by_kind["task"] == TASKS.names()
    assert by_kind["noise"] == NOISES.names() and by_kind["scorer"] == SCORERS.names()
    assert by_kind["method"] == METHODS.names() and METHODS.names()[:5] == ["it", "noisy_it", "neftune", "fgm", "anit"]
    # `data list` and `noise list` print the same lines without the kind
    assert _rows(["data", "list", "--data-dir", str(fixture_data)]) == [row[1:] for row in rows if row[0] == "dataset"]
    assert _rows(["noise", "list"]) == [row[1:] for row in rows if row[0] in ("noise", "scorer")]
    methods = {row[1]: row[2:] for row in rows if row[0] == "method"}
    assert methods["it"][0] == "uses=raw" and methods["fgm"][0] == "uses=noisy,adversarial"
    assert methods["anit"] == ["uses=noisy,distortion,adversarial", "The Noise Response Method: the adversarial step "
                               "with beta(d) responding to each sample's distortion."]
    noises = {row[1]: row[2] for row in rows if row[0] == "noise"}
    assert noises["paraphrase"] == "noise:model" and noises["char_typo"] == "noise:rule"
    tasks = {row[1]: row[2] for row in rows if row[0] == "task"}
    assert tasks == {"absa": "metric=f1", "tc": "metric=accuracy", "ner": "metric=f1", "re": "metric=f1"}


def test_list_takes_kinds_in_the_order_given_and_a_plugins_method_with_its_docstring(tmp_path):
    rows = _rows(["list", "methods", "tasks", "--plugins", str(FREELB)])
    assert [row[0] for row in rows] == ["method"] * len(METHODS.names()) + ["task"] * len(TASKS.names())
    freelb = {row[1]: row for row in rows}["freelb"]
    assert freelb == ["method", "freelb", "uses=noisy", "FreeLB: K normalised ascent steps on the instruction "
                      "tokens' embeddings, the loss averaged over them."]
    config = tmp_path / "list.yaml"
    config.write_text("kinds: [scorers]\n")
    assert [row[1] for row in _rows(["list", "--config", str(config)])] == SCORERS.names()
