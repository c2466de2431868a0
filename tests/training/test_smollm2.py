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


@pytest.mark.slow
def test_the_gemma3_preset_loads_and_trains_two_anit_steps(tmp_path):
    """The preset the set-up installs (four chunk packages, assembled on first use): its loss is finite and its
    adapter moves off LoRA's start (B = 0)."""
    import torch
    from safetensors.torch import load_file

    from anit.noise.build import build_noisy

    examples, _ = load_examples("sst2", "train", data_dir=SAMPLE)
    records = build_noisy([to_record(e, DATASETS.get("sst2")) for e in examples[:4]], ["char_typo:0.3"], seed=0)
    data = tmp_path / "sst2.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    cfg = load_config(TrainConfig, None, dict(model="gemma3-270m", method="anit", data=str(data),
                                              output_dir=str(tmp_path / "run"), max_steps=2, batch_size=2, lr=1e-3,
                                              report_to=["none"], logging_steps=1, save_steps=100, max_length=160))
    summary = train(cfg)
    assert summary["steps"] == 2
    assert all(torch.isfinite(torch.tensor(h["loss"])) for h in summary["log_history"] if "loss" in h)
    after = load_file(str(tmp_path / "run" / "adapter_model.safetensors"))
    assert any(float(w.abs().max()) > 0 for k, w in after.items() if "lora_B" in k)
