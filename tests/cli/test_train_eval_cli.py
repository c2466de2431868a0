import json
import shutil
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tiny  # noqa: E402

from anit.cli import app  # noqa: E402

runner = CliRunner()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "data"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    model = tiny.build(root / "model", chat=True)
    prepared, noisy = root / "p.jsonl", root / "n.jsonl"
    runner.invoke(app, ["data", "prepare", "--dataset", "conll2003", "--split", "train", "--data-dir",
                        str(FIXTURES), "--out", str(prepared)], catch_exceptions=False)
    runner.invoke(app, ["noise", "build", "--in", str(prepared), "--noise", "pad_front:0.3", "--noise",
                        "char_typo:0.3", "--out", str(noisy)], catch_exceptions=False)
    return root, model, noisy


def test_train_from_yaml_with_overrides_then_export_and_eval(setup):
    root, model, noisy = setup
    config = root / "run.yaml"
    config.write_text(f"model: {model}\nmethod: anit\nmax_steps: 2\nbatch_size: 2\nreport_to: [none]\n"
                      "gradient_checkpointing: true\n")
    out = root / "run"
    result = runner.invoke(app, ["train", "--config", str(config), "--data", str(noisy), "--output-dir", str(out),
                                 "--nrm-variant", "fast", "--set", "lr=0.01", "--set", "nrm_scope=prompt"],
                           catch_exceptions=False)
    assert result.exit_code == 0 and "trained anit for 2 steps" in result.stdout
    saved = (out / "anit_config.yaml").read_text()
    assert "nrm_variant: fast" in saved and "lr: 0.01" in saved and "nrm_scope: prompt" in saved
    merged = root / "merged"
    result = runner.invoke(app, ["export", "--adapter", str(out), "--out", str(merged)], catch_exceptions=False)
    assert result.exit_code == 0 and (merged / "model.safetensors").exists()
    assert not any(k for k in load_file(str(merged / "model.safetensors")) if "lora" in k)
    foreign = root / "foreign"          # an adapter another tool wrote: no anit_config.yaml, the base given instead
    shutil.copytree(out, foreign, ignore=shutil.ignore_patterns("anit_config.yaml", "checkpoint-*", "tokenizer*",
                                                                "chat_template*", "special_tokens*"))
    result = runner.invoke(app, ["export", "--adapter", str(foreign), "--model", str(model), "--out",
                                 str(root / "merged-foreign")], catch_exceptions=False)
    assert result.exit_code == 0
    theirs, ours = (load_file(str(folder / "model.safetensors")) for folder in (root / "merged-foreign", merged))
    assert theirs.keys() == ours.keys() and all(torch.equal(theirs[k], ours[k]) for k in ours)
    assert (root / "merged-foreign" / "tokenizer_config.json").exists()     # the base model's tokenizer
    kept = root / "kept"                # --no-merge writes the adapter as it is, beside the base it names
    result = runner.invoke(app, ["export", "--adapter", str(out), "--out", str(kept), "--no-merge"],
                           catch_exceptions=False)
    assert result.exit_code == 0 and not (kept / "model.safetensors").exists()
    assert load_file(str(kept / "adapter_model.safetensors")).keys() == load_file(
        str(out / "adapter_model.safetensors")).keys()
    from anit.evaluation.run import load_for_eval, with_adapter
    from anit.models import load_model

    adapted, tok = load_for_eval(str(model), str(out))                  # the adapter merged into the weights
    beside = with_adapter(load_model(str(model)), out, merge=False)     # as PEFT trained it, beside them
    exported, _ = load_for_eval(str(merged), None)
    assert not any("lora" in name for name, _ in adapted.named_parameters())
    assert any("lora" in name for name, _ in beside.named_parameters())
    ids = torch.tensor([tok("Instruction: Tag the names.\nText: Anna visited Paris", add_special_tokens=False)[
        "input_ids"]])
    with torch.no_grad():
        reference = beside(input_ids=ids).logits
        assert not torch.allclose(reference, load_model(str(model))(input_ids=ids).logits, atol=1e-4)
        assert torch.allclose(adapted(input_ids=ids).logits, reference, atol=1e-4)
        assert torch.allclose(exported(input_ids=ids).logits, reference, atol=1e-4)
    results = root / "eval"
    result = runner.invoke(app, ["eval", "--adapter", str(out), "--data", str(noisy),
                                 "--instructions", "raw", "--instructions", "noisy", "--limit", "3",
                                 "--max-new-tokens", "4", "--out", str(results)], catch_exceptions=False)
    assert result.exit_code == 0
    summary = json.loads((results / "metrics.json").read_text())
    assert "raw" in summary["conditions"] and "conll2003" in summary["gaps"]


def test_eval_takes_a_text_file_of_instructions_and_says_why_a_pdr_is_missing(setup):
    root, model, noisy = setup
    lines = root / "wordings.txt"
    lines.write_text("Tag the names: people, places.\nFind every named entity.\n")
    result = runner.invoke(app, ["eval", "--model", str(model), "--data", str(noisy), "--instructions", str(lines),
                                 "--limit", "2", "--max-new-tokens", "4", "--out", str(root / "wordings")],
                           catch_exceptions=False)
    assert result.exit_code == 0
    said = [line for line in result.stdout.splitlines() if line.startswith("wordings\tconll2003")]
    assert len(said) == 1 and "\t2 instructions: mean" in said[0]
    assert said[0].endswith("PDR of the worst - (raw not scored: add --instructions raw)")
    summary = json.loads((root / "wordings" / "metrics.json").read_text())
    assert sorted(summary["conditions"]) == ["wordings-ner-0", "wordings-ner-1"]


def test_transfer_starts_from_an_adapter_and_keeps_a_fraction(setup):
    root, model, noisy = setup
    first = root / "first"
    runner.invoke(app, ["train", "--model", str(model), "--method", "it", "--data", str(noisy), "--max-steps", "1",
                        "--output-dir", str(first), "--set", "report_to=[none]"], catch_exceptions=False)
    start = load_file(str(first / "adapter_model.safetensors"))
    second = root / "second"
    result = runner.invoke(app, ["train", "--model", str(model), "--method", "anit", "--data", str(noisy),
                                 "--init-adapter", str(first), "--sample-fraction", "0.5", "--max-steps", "2",
                                 "--output-dir", str(second), "--set", "report_to=[none]", "--set", "lr=0.01"],
                           catch_exceptions=False)
    assert result.exit_code == 0
    summary = json.loads((second / "train_summary.json").read_text())
    total = len(noisy.read_text().splitlines())
    assert summary["examples"] == -(-total // 2)
    after = load_file(str(second / "adapter_model.safetensors"))
    assert after.keys() == start.keys()
    assert any(not torch.equal(after[k], start[k]) for k in after)


def test_bad_method_and_missing_resume_fail_with_one_line(setup):
    root, model, noisy = setup
    result = runner.invoke(app, ["train", "--method", "anti", "--data", str(noisy)])
    expected = "field 'method': unknown training method 'anti'; known: anit, fgm"
    assert expected in str(result.exception)
    result = runner.invoke(app, ["train", "--model", str(model), "--data", str(noisy), "--resume",
                                 "--output-dir", str(root / "nothing")])
    assert "no checkpoint-<step> folder" in str(result.exception)


def test_resume_of_a_finished_run_says_so_and_changes_nothing(setup):
    root, model, noisy = setup
    out = root / "done"
    args = ["train", "--model", str(model), "--method", "it", "--data", str(noisy), "--max-steps", "2",
            "--output-dir", str(out), "--set", "report_to=[none]", "--set", "save_steps=2"]
    assert runner.invoke(app, args, catch_exceptions=False).exit_code == 0
    before = (out / "train_summary.json").read_text()
    again = runner.invoke(app, args + ["--resume"], catch_exceptions=False)
    assert again.exit_code == 0 and "already finished 2 steps" in again.stdout
    assert (out / "train_summary.json").read_text() == before


def test_tensorboard_logs_are_written(setup):
    root, model, noisy = setup
    out = root / "tb"
    runner.invoke(app, ["train", "--model", str(model), "--method", "anit", "--data", str(noisy), "--max-steps", "2",
                        "--output-dir", str(out), "--set", "logging_steps=1"], catch_exceptions=False)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    (events,) = list(out.rglob("events.out.tfevents.*"))
    scalars = EventAccumulator(str(events)).Reload().Tags()["scalars"]
    for name in ("clean_loss", "adv_loss", "beta_mean", "adv_skipped", "loss"):
        assert f"train/{name}" in scalars, scalars
