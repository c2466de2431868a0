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
