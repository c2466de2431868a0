"""anit: Adversarial Noisy Instruction Tuning.

Noise a task's instruction, score how far it drifted, train a causal LM to respond to that drift, and measure how
robust the result is under clean, held-out, noisy and worst-case instructions. The command line (``anit ...``) and
this API call the same functions::

    import anit

    records, _ = anit.prepare("sst2", "train", limit=32)
    anit.write_jsonl("train.jsonl", anit.build_noisy(records, ["char_typo:0.3"], seed=0))
    anit.train(anit.TrainConfig(method="anit", data="train.jsonl", max_steps=2, output_dir="run"))
    model, tokenizer = anit.load_model("smollm2-135m", adapter="run")
    test, _ = anit.prepare("sst2", "dev", limit=16)
    anit.attack(model, tokenizer, test, out="attack", budget=4)
    summary = anit.evaluate(model, tokenizer, test, ["raw", "unseen-pool", "attack/worst.yaml"], "eval")

Everything is imported on first use, so ``import anit`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "prepare": ("anit.data.prepare", "prepare"),
    "mixture": ("anit.data.prepare", "mixture"),
    "build_noisy": ("anit.noise.build", "build_noisy"),
    "read_jsonl": ("anit.jsonl", "read_jsonl"),
    "write_jsonl": ("anit.jsonl", "write_jsonl"),
    "TrainConfig": ("anit.training.config", "TrainConfig"),
    "train": ("anit.training.run", "train"),
    "load_model": ("anit.evaluation.run", "load_for_eval"),
    "EvalOptions": ("anit.evaluation.run", "EvalOptions"),
    "attack": ("anit.evaluation.attack", "attack_model"),
    "report": ("anit.report.build", "write_report"),
    "CompareConfig": ("anit.compare", "CompareConfig"),
    "compare": ("anit.compare", "compare"),
    "paired_gap": ("anit.evaluation.robustness", "paired_gap"),
    "DATASETS": ("anit.data", "DATASETS"),
    "NOISES": ("anit.noise", "NOISES"),
    "SCORERS": ("anit.distortion", "SCORERS"),
    "TASKS": ("anit.tasks", "TASKS"),
    "METHODS": ("anit.training.methods", "METHODS"),
    "register_dataset": ("anit.data", "register_dataset"),
    "register_noise": ("anit.noise.operators", "register_noise"),
    "register_scorer": ("anit.distortion", "register_scorer"),
    "register_method": ("anit.training.methods", "register_method"),
}
__all__ = ["evaluate", *_API]


def evaluate(model: Any, tokenizer: Any, records: list[dict[str, Any]], instructions: list[str], out: str,
             options: Any = None, **kwargs: Any) -> dict[str, Any]:
    """Score ``records`` under each of ``instructions`` (raw, noisy, unseen, unseen-pool or an instruction file)
    and write predictions and metrics.json to ``out``; returns metrics.json's content (conditions, paired gaps to
    raw with bootstrap intervals, and the sensitivity over each family of instructions)."""
    from pathlib import Path

    from anit.evaluation.run import EvalOptions, evaluate as run

    return run(model, tokenizer, records, instructions, Path(out), options or EvalOptions(), **kwargs)


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'anit' has no attribute {name!r}")
    module, attribute = _API[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value
