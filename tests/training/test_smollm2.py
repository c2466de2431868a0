import json
from pathlib import Path

import pytest

from anit.config import load_config
from anit.data import DATASETS, load_examples
from anit.data.prepare import to_record
from anit.training.config import TrainConfig
from anit.training.run import train

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "anit" / "resources" / "sample_data"


@pytest.mark.slow
def test_training_loss_falls_on_the_embedded_model(tmp_path):
    examples, _ = load_examples("sst2", "train", data_dir=SAMPLE)
    data = tmp_path / "sst2.jsonl"
    data.write_text("".join(json.dumps(to_record(e, DATASETS.get("sst2"))) + "\n" for e in examples[:8]))
    cfg = load_config(TrainConfig, None, dict(model="smollm2-135m", method="it", data=str(data),
                                              output_dir=str(tmp_path / "run"), max_steps=20, batch_size=4, lr=1e-3,
                                              report_to=["none"], logging_steps=1, save_steps=100, max_length=192))
    history = [h["loss"] for h in train(cfg)["log_history"] if "loss" in h]
    assert len(history) == 20
    assert sum(history[-4:]) / 4 < 0.7 * sum(history[:4]) / 4
