import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from anit.config import load_config
from anit.errors import AnitError, DataError
from anit.training.config import TrainConfig
from anit.training.data import Collator, InstructionDataset
from anit.training.run import build_model, train
from anit.training.trainer import NRMTrainer


def _cfg(tiny_model, data, out, **kw):
    base = dict(model=str(tiny_model), data=str(data), output_dir=str(out), max_steps=3, batch_size=4,
                report_to=["none"], logging_steps=1, save_steps=3, lr=1e-2)
    base.update(kw)
    return load_config(TrainConfig, None, base)


def _adapter(folder):
    return load_file(str(Path(folder) / "adapter_model.safetensors"))


def _batch(cfg, data):
    model, tok = build_model(cfg)
    records = [json.loads(line) for line in Path(data).read_text().splitlines()]
    ds = InstructionDataset(records, tok, {"tc": 1.0, "ner": 1.0, "absa": 1.0}, 0, 256)
    batch = Collator(tok.pad_token_id)([ds[i] for i in range(4)])
    return model, tok, batch


def _trainer(cfg, model, tok):
    from anit.training.run import build_trainer

    return build_trainer(cfg, model, tok)


def test_padding_gets_no_perturbation_and_instruction_mask_marks_instruction(tiny_model, noisy_data, tmp_path):
    cfg = _cfg(tiny_model, noisy_data, tmp_path)
    model, tok, batch = _batch(cfg, noisy_data)
    assert (batch["attention_mask"] == 0).any()
    trainer = _trainer(cfg, model, tok)
    embeds = model.get_input_embeddings()(batch["input_ids"])
    delta, _ = trainer.delta0(embeds, batch)
    assert (delta[batch["attention_mask"] == 0] == 0).all()
    assert (delta[batch["instruction_mask"] == 0] == 0).all()
    assert (delta[batch["instruction_mask"] == 1] != 0).any()
    row = batch["input_ids"][0][batch["instruction_mask"][0] == 1]
    text = tok.decode(row)
    first = json.loads(Path(noisy_data).read_text().splitlines()[0])
    assert text.strip() and text.strip() in first["noisy_instruction"]


def test_probe_pass_leaves_parameter_grads_untouched(tiny_model, noisy_data, tmp_path):
    cfg = _cfg(tiny_model, noisy_data, tmp_path)
    model, tok, batch = _batch(cfg, noisy_data)
    trainer = _trainer(cfg, model, tok)
    model.train()
    embeds = model.get_input_embeddings()(batch["input_ids"])
    delta0, _ = trainer.delta0(embeds, batch)
    delta0.requires_grad_(True)
    probe, _ = trainer.losses(model, embeds.detach() + delta0, batch)
    (grad,) = torch.autograd.grad(probe.sum(), delta0)
    assert grad.abs().sum() > 0
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("alpha,step,ascends", [(0.0, "fixed", False), (1.0, "fixed", True), (1.0, "beta", False)])
def test_zero_beta_loss_is_twice_the_clean_loss_unless_a_fixed_step_ascends(tiny_model, noisy_data, tmp_path, alpha,
                                                                              step, ascends):
    cfg = _cfg(tiny_model, noisy_data, tmp_path, nrm_beta_min=0.0, nrm_beta_max=0.0, nrm_alpha=alpha, nrm_step=step,
               lora_dropout=0.0)
    model, tok, batch = _batch(cfg, noisy_data)
    trainer = _trainer(cfg, model, tok)
    model.train()
    nrm_loss = trainer.compute_loss(model, batch)
    cfg.method = "it"
    clean = trainer.compute_loss(model, batch)
    assert bool(nrm_loss > 2 * clean * (1 + 1e-4)) is ascends
    assert ascends or torch.isclose(nrm_loss, 2 * clean, rtol=1e-5)


def test_ascent_raises_the_loss(tiny_model, noisy_data, tmp_path):
    from anit.training import nrm

    cfg = _cfg(tiny_model, noisy_data, tmp_path, lora_dropout=0.0)
    model, tok, batch = _batch(cfg, noisy_data)
    trainer = _trainer(cfg, model, tok)
    model.eval()
    embeds = model.get_input_embeddings()(batch["input_ids"]).detach()
    delta0, _ = trainer.delta0(embeds, batch)
    delta0.requires_grad_(True)
    at0, _ = trainer.losses(model, embeds + delta0, batch)
    (grad,) = torch.autograd.grad(at0.sum(), delta0)
    delta1, _ = nrm.ascent(delta0.detach(), grad, 0.5, trainer.perturbation_mask(batch))
    at1, _ = trainer.losses(model, embeds + delta1, batch)
    assert at1.sum() > at0.sum()


@pytest.mark.parametrize("method,variant", [("it", "exact"), ("noisy_it", "exact"), ("neftune", "exact"),
                                            ("fgm", "exact"), ("anit", "exact"), ("anit", "fast")])
def test_each_method_trains_and_changes_the_adapter(tiny_model, noisy_data, tmp_path, method, variant):
    from peft import get_peft_model_state_dict

    cfg = _cfg(tiny_model, noisy_data, tmp_path / "run", method=method, nrm_variant=variant)
    model, _ = build_model(cfg)
    before = {k: v.clone() for k, v in get_peft_model_state_dict(model).items()}
    summary = train(cfg)
    after = _adapter(cfg.output_dir)
    assert summary["steps"] == 3
    changed = [k for k in after
               if not torch.allclose(after[k], before[k.replace(".default", "")] if k in before else before[k])]
    assert changed
    out = Path(cfg.output_dir)
    assert (out / "anit_config.yaml").exists() and (out / "fingerprint.json").exists()
    assert (out / "checkpoint-3" / "anit_config.yaml").exists() and (out / "tokenizer_config.json").exists()
    if method in ("fgm", "anit"):
        logged = [h for h in summary["log_history"] if "adv_loss" in h]
        assert logged and all("beta_mean" in h and "adv_skipped" in h for h in logged)


def test_resume_matches_a_straight_run(tiny_model, noisy_data, tmp_path):
    straight = _cfg(tiny_model, noisy_data, tmp_path / "a", method="anit", max_steps=6, save_steps=3)
    train(straight)
    first = _cfg(tiny_model, noisy_data, tmp_path / "b", method="anit", max_steps=6, save_steps=3)
    resumed = _cfg(tiny_model, noisy_data, tmp_path / "b", method="anit", max_steps=6, save_steps=3, resume=True)
    import transformers

    class Stop(transformers.TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 3:
                control.should_training_stop = True

    from unittest import mock

    original = NRMTrainer.__init__

    def init(self, *a, **k):
        original(self, *a, **k)
        self.add_callback(Stop())

    with mock.patch.object(NRMTrainer, "__init__", init):
        stopped = train(first)
    before = json.loads((tmp_path / "b" / "checkpoint-3" / "clock.json").read_text())["train_s"]
    assert 0 < before <= stopped["runtime_s"] and stopped["resumed"] is None
    summary = train(resumed)
    assert summary["resumed"] == {"step": 3, "train_s": before} and summary["runtime_s"] > before
    assert summary["steps"] == 6
    a, b = _adapter(tmp_path / "a"), _adapter(tmp_path / "b")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-5), key


def test_bad_training_input(tiny_model, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(DataError, match="no training records"):
        train(_cfg(tiny_model, empty, tmp_path / "o"))
    missing = tmp_path / "missing.jsonl"
    missing.write_text('{"id": "1", "task": "tc"}\n')          # the task supplies the wording, not the example
    with pytest.raises(DataError, match=r"missing.jsonl:1: missing field\(s\) options, input, output$"):
        train(_cfg(tiny_model, missing, tmp_path / "o"))
    missing.write_text('{"id": "1", "task": "TC"}\n')
    with pytest.raises(DataError, match=r"missing.jsonl:1: field 'task': unknown task 'TC'; known: .* mean 'tc'"):
        train(_cfg(tiny_model, missing, tmp_path / "o"))


def test_max_length_too_small_names_the_fix(tiny_model, noisy_data, tmp_path):
    with pytest.raises(AnitError, match="raise max_length"):
        train(_cfg(tiny_model, noisy_data, tmp_path / "o", max_length=8))


def test_long_inputs_are_shortened_not_the_answer(tiny_model, noisy_data, tmp_path):
    from anit.models import load_tokenizer
    from anit.training.data import encode

    tok = load_tokenizer(str(tiny_model))
    record = json.loads(Path(noisy_data).read_text().splitlines()[0])
    record["input"] = " ".join(["a warm funny film"] * 200)
    enc, cut = encode(tok, record, record["instruction"], False, 160)
    assert cut and len(enc.input_ids) <= 160
    answer = [t for t in enc.labels if t != -100]
    assert tok.decode(answer[:-1]).strip() == record["output"]


def test_qlora_without_cuda_says_so(tiny_model, noisy_data, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("CUDA present: QLoRA runs for real")
    with pytest.raises(AnitError, match="needs a CUDA GPU"):
        train(_cfg(tiny_model, noisy_data, tmp_path / "o", quantization="4bit"))


@pytest.mark.parametrize("quantization", [None, "4bit"])
@pytest.mark.parametrize("method,variant", [("anit", "exact"), ("anit", "fast"), ("neftune", "exact")])
def test_gradient_checkpointing_trains_every_perturbing_method(tiny_model, noisy_data, tmp_path, monkeypatch,
                                                                quantization, method, variant):
    """With checkpointing on, the NRM still gets its gradient w.r.t. the perturbation. The QLoRA branch
    (peft's k-bit preparation, which picks reentrant checkpointing unless told) runs here on the float
    model, marked as 4-bit while peft prepares it, since this machine cannot quantise."""
    import peft

    import anit.training.run as run

    def load_model(model, dtype, quantization, trust):
        return run_load(model, dtype, None, trust)

    def prepare(model, **kwargs):
        model.is_loaded_in_4bit = True
        prepared = peft_prepare(model, **kwargs)
        del model.is_loaded_in_4bit
        return prepared

    run_load, peft_prepare = run.load_model, peft.prepare_model_for_kbit_training
    monkeypatch.setattr(run, "load_model", load_model)
    monkeypatch.setattr(peft, "prepare_model_for_kbit_training", prepare)
    cfg = _cfg(tiny_model, noisy_data, tmp_path / "run", method=method, nrm_variant=variant, max_steps=2,
               gradient_checkpointing=True, quantization=quantization)
    model, _ = build_model(cfg)
    assert model.base_model.model.is_activation_checkpointing
    summary = train(cfg)
    assert summary["steps"] == 2 and torch.isfinite(torch.tensor(summary["train_loss"]))
    if method == "anit":
        assert [h for h in summary["log_history"] if "adv_loss" in h]


def test_two_process_data_parallel_anit_keeps_ranks_identical(tiny_model, noisy_data, tmp_path):
    script = Path(__file__).with_name("ddp_worker.py")
    out = tmp_path / "ddp"
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                           "--master_port", "29533", str(script), str(tiny_model), str(noisy_data), str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rank0 = torch.load(out / "rank0.pt")
    rank1 = torch.load(out / "rank1.pt")
    assert rank0.keys() == rank1.keys() and rank0
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key


def test_a_checkpoint_without_a_clock_leaves_the_time_before_it_unknown(tmp_path):
    from anit.training.run import trained_before

    (tmp_path / "checkpoint-3").mkdir()
    assert trained_before(tmp_path / "checkpoint-3") is None
    (tmp_path / "checkpoint-3" / "clock.json").write_text('{"train_s": 12.5}')
    assert trained_before(tmp_path / "checkpoint-3") == 12.5


def test_resuming_skips_a_checkpoint_whose_saving_was_stopped(tmp_path):
    from anit.training.run import latest_checkpoint

    assert latest_checkpoint(tmp_path) is None
    for step in (30, 60, 90):
        (tmp_path / f"checkpoint-{step}").mkdir()
    (tmp_path / "checkpoint-other").mkdir()
    assert latest_checkpoint(tmp_path).name == "checkpoint-90"        # none finished: the highest of all
    for step in (30, 60):
        (tmp_path / f"checkpoint-{step}" / "fingerprint.json").write_text("{}")
    assert latest_checkpoint(tmp_path).name == "checkpoint-60"        # 90 was being saved when the run stopped


@pytest.mark.parametrize("epochs,grad_accum,fraction", [(2.5, 4, 1.0), (1.0, 2, 0.45), (0.3, 1, 1.0)])
def test_planned_steps_are_the_steps_the_trainer_takes(tiny_model, noisy_data, tmp_path, epochs, grad_accum,
                                                       fraction):
    lines = noisy_data.read_text().splitlines()
    data = tmp_path / "train.jsonl"                    # 23 records: 6 batches of 4, the last one short
    data.write_text("".join(lines[i % len(lines)] + "\n" for i in range(23)))
    cfg = _cfg(tiny_model, data, tmp_path / "run", method="it", max_steps=-1, epochs=epochs, grad_accum=grad_accum,
               sample_fraction=fraction, save_steps=500)
    planned = cfg.planned_steps(23)
    assert planned == {2.5: 5, 1.0: 2, 0.3: 2}[epochs]  # 2 accumulated steps x 2.5; 11 -> 3 batches -> 2; 6 x 0.3
    assert train(cfg)["steps"] == planned
    assert cfg.planned_steps(23, processes=2) == {2.5: 3, 1.0: 1, 0.3: 1}[epochs]
    assert _cfg(tiny_model, data, tmp_path, max_steps=7).planned_steps(23) == 7
