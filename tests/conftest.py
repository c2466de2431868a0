from __future__ import annotations

import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(os.environ.get("ANIT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture
def fixture_data() -> Path:
    return FIXTURES / "data"


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "README.md").exists():
        pytest.skip(f"shared datasets not found at {SHARED_DATA} (set ANIT_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def no_model_loads(monkeypatch) -> None:
    """Every model or tokenizer load refused, in anit.models and in the module that binds its loaders at import
    (imported here first: imported while they are refused, it would keep the refusal for the tests after this one)."""
    import anit.models
    import anit.training.run

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the input was checked")

    for module in (anit.models, anit.training.run):
        monkeypatch.setattr(module, "load_model", refuse)
        monkeypatch.setattr(module, "load_tokenizer", refuse)
