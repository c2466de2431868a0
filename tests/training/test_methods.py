"""The method registry: every method trains, and each one's loss differs from it's exactly where it should."""

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from anit.errors import AnitError
from anit.training.methods import METHODS
from anit.training.run import build_model, train
from anit.training.data import Collator, InstructionDataset
from test_train import _cfg, _trainer

FREELB = Path(__file__).resolve().parents[2] / "docs" / "examples" / "freelb.py"


def _same_batch(cfg, data, noisy_rate):
    model, tok = build_model(cfg)
    records = [json.loads(line) for line in Path(data).read_text().splitlines()]
    dataset = InstructionDataset(records, tok, {"tc": noisy_rate, "ner": noisy_rate, "absa": noisy_rate}, 0, 256)
    return model, tok, Collator(tok.pad_token_id)([dataset[i] for i in range(4)])


def _loss(cfg, model, tok, batch, method):
    cfg.method = method
    trainer = _trainer(cfg, model, tok)
    model.train()
    torch.manual_seed(0)
    return float(trainer.compute_loss(model, batch))


@pytest.mark.parametrize("method", [name for name in METHODS if name != "freelb"])
def test_every_registered_method_trains_two_steps(tiny_model, noisy_data, tmp_path, method):
    summary = train(_cfg(tiny_model, noisy_data, tmp_path / method, method=method, max_steps=2, save_steps=2))
    assert summary["steps"] == 2 and summary["adversarial"] == (METHODS.get(method).beta is not None)
    logged = [h for h in summary["log_history"] if "loss" in h]
    assert logged and all({"loss_tc", "loss_ner", "loss_absa"} & set(h) for h in logged)   # per task of the mixture
    assert all(torch.isfinite(torch.tensor(h["loss"])) for h in summary["log_history"] if "loss" in h)


def test_each_methods_loss_differs_from_its_where_it_should(tiny_model, noisy_data, tmp_path):
    """On one batch (noisy instructions, no dropout): neftune, fgm and anit add their term; noisy_it is it."""
    cfg = _cfg(tiny_model, noisy_data, tmp_path, lora_dropout=0.0, neftune_alpha=50.0)
    model, tok, batch = _same_batch(cfg, noisy_data, 1.0)
    base = _loss(cfg, model, tok, batch, "it")
    assert _loss(cfg, model, tok, batch, "noisy_it") == pytest.approx(base, rel=1e-6)
    for method in ("neftune", "fgm", "anit"):
        assert abs(_loss(cfg, model, tok, batch, method) - base) > 1e-4 * base, method
    assert _loss(cfg, model, tok, batch, "anit") > 2 * base * (1 - 1e-3)   # clean + adversarial, both near base


def test_noisy_it_on_raw_records_is_it(tiny_model, noisy_data, tmp_path):
    cfg = _cfg(tiny_model, noisy_data, tmp_path / "noisy", method="noisy_it", noise_rate=0.0, max_steps=2)
    plain = _cfg(tiny_model, noisy_data, tmp_path / "it", method="it", max_steps=2)
    a, b = train(cfg), train(plain)
    assert [h["loss"] for h in a["log_history"] if "loss" in h] == [h["loss"] for h in b["log_history"] if "loss" in h]


def test_neftune_noise_uses_each_sequences_real_length(tiny_model, noisy_data, tmp_path):
    """The hook's noise on a short sequence padded into a long batch equals the noise it gets alone."""
    cfg = _cfg(tiny_model, noisy_data, tmp_path, method="neftune", lora_dropout=0.0)
    model, tok, batch = _same_batch(cfg, noisy_data, 0.0)
    trainer = _trainer(cfg, model, tok)
    model.train()
    seen = []
    layer = model.get_input_embeddings()
    clean = layer(batch["input_ids"]).detach()
    handle = layer.register_forward_hook(lambda m, a, out: seen.append(out.detach()))
    trainer.embed(model, batch)
    handle.remove()
    noise = seen[0] - clean
    mask = batch["attention_mask"]
    assert torch.all(noise[mask == 0] == 0)
    lengths = mask.sum(1).float()
    bound = cfg.neftune_alpha / torch.sqrt(lengths * clean.size(-1))
    peak = noise.abs().amax(dim=(1, 2))
    assert torch.all(peak <= bound + 1e-6) and torch.all(peak > 0.5 * bound)


def test_a_non_finite_adversarial_loss_is_skipped_and_counted(tiny_model, noisy_data, tmp_path, monkeypatch):
    from anit.training.trainer import NRMTrainer

    real, calls = NRMTrainer.losses, []

    def poisoned(model, embeds, inputs):
        sums, counts = real(model, embeds, inputs)
        calls.append(1)
        if len(calls) % 2 == 0:   # each step: the probe, then [clean; adversarial]: poison the first adversarial row
            row = torch.arange(sums.size(0)) == sums.size(0) // 2
            sums = torch.where(row, sums + float("inf"), sums)
        return sums, counts

    monkeypatch.setattr(NRMTrainer, "losses", staticmethod(poisoned))
    summary = train(_cfg(tiny_model, noisy_data, tmp_path, method="anit", max_steps=2, logging_steps=1))
    logged = [h for h in summary["log_history"] if "adv_skipped" in h]
    assert logged and all(h["adv_skipped"] == 1 for h in logged)
    assert all(torch.isfinite(torch.tensor(h["loss"])) for h in summary["log_history"] if "loss" in h)
    from safetensors.torch import load_file

    weights = load_file(str(tmp_path / "adapter_model.safetensors"))
    assert all(torch.isfinite(w).all() for w in weights.values())


def test_a_method_registered_in_your_own_file_trains_from_the_command_line(tiny_model, noisy_data, tmp_path):
    from anit.cli import app

    result = CliRunner().invoke(app, ["train", "--model", str(tiny_model), "--data", str(noisy_data), "--method",
                                      "freelb", "--max-steps", "2", "--output-dir", str(tmp_path / "freelb"),
                                      "--set", f"plugins=[{FREELB}]", "--set", "report_to=[none]"])
    assert result.exit_code == 0, result.output
    assert "trained freelb for 2 steps" in result.output
    with pytest.raises(AnitError, match="unknown training method 'nope'; known: .*anit.*freelb"):
        _cfg(tiny_model, noisy_data, tmp_path, method="nope")
