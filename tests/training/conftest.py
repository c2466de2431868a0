import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tiny  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return tiny.build(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def noisy_data(tmp_path_factory) -> Path:
    from anit.data import load_examples
    from anit.data.base import DATASETS
    from anit.data.prepare import to_record
    from anit.distortion import resolve_scorers
    from anit.noise.build import NoiseSpec, noise_records, score_records

    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "data"
    records = []
    for name, split in (("sst2", "dev"), ("conll2003", "train"), ("aste_14res", "dev")):
        examples, _ = load_examples(name, split, data_dir=fixtures)
        records += [to_record(e, DATASETS.get(name)) for e in examples]
    noisy = noise_records(records, [NoiseSpec("random_replace", 0.3)], seed=1)
    score_records(noisy, resolve_scorers(["hard"]))
    path = tmp_path_factory.mktemp("data") / "noisy.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in noisy))
    return path
