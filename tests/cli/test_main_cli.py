import platform
import sys
from importlib.metadata import version

import anit
from anit.cli import main


def test_version_names_anit_and_the_stack_it_runs_on_and_exits_0(capsys, monkeypatch, no_model_loads):
    monkeypatch.setattr(sys, "argv", ["anit", "--version"])
    try:
        main()
        code = 0
    except SystemExit as done:
        code = done.code
    said = capsys.readouterr().out.strip()
    assert code in (0, None)
    assert said == (f"anit {anit.__version__} (Python {platform.python_version()}; torch {version('torch')}, "
                    f"transformers {version('transformers')}, peft {version('peft')}, "
                    f"accelerate {version('accelerate')})")
    assert anit.__version__ == version("anit")            # the package's metadata and its __version__ agree
