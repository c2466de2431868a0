import json

import pytest
import yaml
from typer.testing import CliRunner

from anit.cli import app


@pytest.mark.slow
def test_demo_tiny_runs_end_to_end_and_reuses_finished_stages(tmp_path):
    runner = CliRunner()
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--tiny", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0
    assert "report:" in result.stdout and (out / "report" / "report.md").exists()
    text = (out / "report" / "report.md").read_text()
    assert "## sst2" in text and "zero-shot" in text and "anit" in text
    for method in ("zero-shot", "it", "anit"):      # each model scored under its own worst instructions from dev
        found = yaml.safe_load((out / "attack" / method / "worst.yaml").read_text())["tc"]
        metrics = json.loads((out / "eval" / method / "metrics.json").read_text())
        assert [metrics["conditions"][f"worst-tc-{k}"]["sst2"]["task"] for k in range(len(found))] == ["tc"] * 2
        assert metrics["sensitivity"]["worst"]["sst2"]["instructions"] == 2
    assert "worst: worst (PDR" in result.stdout
    again = runner.invoke(app, ["demo", "--tiny", "--out", str(out)], catch_exceptions=False)
    assert again.stdout.count("[cached]") == 13   # prepare 3, noise 2, train 2, attack 3, evaluate 3


def test_the_demo_table_fits_its_headers():
    from anit.cli.demo import aligned

    text = aligned([["method", "raw", "unseen: worst (PDR [95% CI])"], ["it", "0.812", "0.700 (0.138 [0.05, 0.2])"]])
    header, rule, row = text.splitlines()
    assert len(rule) == len(header) >= len(row)
    assert header.index("raw") == row.index("0.812") and header.index("unseen") == row.index("0.700")


def test_known_warnings_are_silenced_only_where_they_come_from():
    import warnings

    from anit.cli import quiet_known_warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet_known_warnings()
        warnings.warn_explicit("`is_gradient_checkpointing` is deprecated", FutureWarning, "modeling_utils.py", 1,
                               module="transformers.modeling_utils")
        warnings.warn_explicit("`is_gradient_checkpointing` is deprecated", FutureWarning, "mine.py", 1,
                               module="my_code")
        warnings.warn_explicit("something else", FutureWarning, "modeling_utils.py", 2,
                               module="transformers.modeling_utils")
    assert [str(w.message) for w in caught] == ["`is_gradient_checkpointing` is deprecated", "something else"]
