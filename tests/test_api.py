"""The README's Python example runs as written (on the tiny model and the bundled SST-2 sample)."""

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tiny  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "src" / "anit" / "resources" / "sample_data"


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Python API"):]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_readme_python_example_runs(tmp_path, monkeypatch):
    import json

    code = readme_example()
    assert code.count("\n") <= 12
    model = tiny.build(tmp_path / "tiny", chat=True)
    code = code.replace('MODEL = "smollm2-135m"', f'MODEL = {str(model)!r}')
    monkeypatch.setenv("ANIT_DATA_DIR", str(SAMPLE))
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    summary = namespace["summary"]
    assert {"raw", "worst-tc-0"} <= set(summary["conditions"])
    assert summary["sensitivity"]["unseen"]["sst2"]["instructions"] == 6
    assert json.loads((tmp_path / "runs" / "anit" / "train_summary.json").read_text())["steps"] == 2
