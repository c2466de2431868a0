import pytest
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
    again = runner.invoke(app, ["demo", "--tiny", "--out", str(out)], catch_exceptions=False)
    assert again.stdout.count("[cached]") == 9
