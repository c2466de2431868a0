"""Speed: training steps (it vs anit exact/fast vs neftune vs TRL's SFTTrainer), achieved FLOP/s,
evaluation (batched vs one-at-a-time generation, choice scoring, a LoRA adapter merged or beside the weights), noise
(rule-based and model-written) and distortion throughput, loading a preset, and the issue's targets checked against
what was measured.

    python -m bench.speed [--steps 8] [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from bench.common import DOCS, Timer, counting, run_benchmark, save, timed_nrm_training

from anit.data import default_data_dir
from anit.data.prepare import prepare
from anit.distortion import SCORERS
from anit.evaluation.run import choice_predictions, with_adapter
from anit.generation import generate
from anit.tasks.prompt import task_prompt
from anit.models import load_model, load_tokenizer
from anit.noise import NOISES
from anit.noise.build import build_noisy
from anit.noise.rewrite import Rewriter
from anit.tasks import TASKS
from anit.training.config import TrainConfig
from anit.training.data import InstructionDataset

MODEL = "smollm2-135m"
TRAINING = "Training step, SmolLM2-135M, LoRA r16 all-linear, batch 4, SST-2"
RULES = "Rule-based noise (0.3 rate)"
REWRITES = "Model-written noise, SmolLM2-135M, batch 8"
SCORES = "Distortion scorers"
HARD = ("word_edit", "char_edit", "jaccard", "chrf", "bleu")
EVALUATION = "Evaluation, SST-2 dev"
ADAPTER = "Scoring with a LoRA adapter, SST-2 dev"
SFT = "TRL SFTTrainer, random batches (same LoRA, data, batch)"
LOADING = "Loading a preset"


def matmul_flops(n: int = 2048, reps: int = 10) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    start = time.perf_counter()
    for _ in range(reps):
        torch.mm(a, b)
    return 2 * n ** 3 * reps / (time.perf_counter() - start)


def matmul_params(model) -> int:
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))


def time_anit(base, tokenizer, records, method, variant, steps, warm, grouped=True):
    from peft import LoraConfig, get_peft_model

    cfg = TrainConfig(model=MODEL, method=method, nrm_variant=variant, max_steps=steps + warm, batch_size=4,
                      max_length=256, report_to=["none"], save_steps=10_000, noise_rate=0.0, group_by_length=grouped,
                      output_dir="/tmp/anit-bench", logging_steps=10_000, lr=1e-4)
    model = get_peft_model(copy.deepcopy(base), LoraConfig(r=16, lora_alpha=16, lora_dropout=0.05,
                                                           target_modules="all-linear", task_type="CAUSAL_LM"))
    _, times, tokens = timed_nrm_training(cfg, model, tokenizer, InstructionDataset(records, tokenizer, {}, 0, 256))
    return times[warm:], tokens[warm:warm + steps]


def time_sft(base, tokenizer, records, steps, warm):
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    rows = [{"prompt": task_prompt(tokenizer, r, None, True), "completion": r["output"]} for r in records]
    args = SFTConfig(output_dir="/tmp/anit-bench-sft", max_steps=steps + warm, per_device_train_batch_size=4,
                     learning_rate=1e-4, max_length=256, packing=False, completion_only_loss=True, report_to=[],
                     use_cpu=True, save_strategy="no", logging_steps=10_000, optim="adamw_torch",
                     lr_scheduler_type="cosine", warmup_steps=0.04, weight_decay=0.01, max_grad_norm=0.3,
                     dataloader_num_workers=0, bf16=False, gradient_checkpointing=False)
    timer = Timer()
    trainer = SFTTrainer(model=copy.deepcopy(base), args=args, train_dataset=Dataset.from_list(rows),
                         processing_class=tokenizer, callbacks=[timer.callback],
                         peft_config=LoraConfig(r=16, lora_alpha=16, lora_dropout=0.05, target_modules="all-linear",
                                                task_type="CAUSAL_LM"))
    tokens: list[int] = []
    trainer.data_collator = counting(trainer.data_collator, tokens)
    trainer.train()
    return timer.times[warm:], tokens[warm:warm + steps]


def method_row(method: str, variant: str = "exact", grouped: bool = True) -> str:
    """The name of a training row: the method, its variant where it has two, and the order of its batches."""
    name = method + (f" ({variant})" if method in ("fgm", "anit") else "")
    return name + (", length-grouped" if grouped else ", random batches")


def bench_training(base, tokenizer, records, steps, warm, peak):
    """Every method on the same length-grouped batches; ``it`` and TRL also on the same random batches."""
    n_params = matmul_params(base)
    rows, base_time = [], None

    def row(name, times, tokens, reference):
        per_step, tok_s = statistics.median(times), sum(tokens) / sum(times)
        return {"method": name, "s/step (median)": per_step, "tokens/s": tok_s, "x it step": per_step / reference,
                "matmul FLOP/s share": 4 * n_params * tok_s / peak, "matmul peak GFLOP/s": peak / 1e9}

    for method, variant in (("it", "exact"), ("neftune", "exact"), ("fgm", "exact"), ("anit", "exact"),
                            ("anit", "fast")):
        times, tokens = time_anit(base, tokenizer, records, method, variant, steps, warm)
        base_time = base_time or statistics.median(times)
        rows.append(row(method_row(method, variant), times, tokens, base_time))
    times, tokens = time_anit(base, tokenizer, records, "it", "exact", steps, warm, grouped=False)
    random_it = statistics.median(times)
    rows.append(row(method_row("it", grouped=False), times, tokens, base_time))
    times, tokens = time_sft(base, tokenizer, records, steps, warm)
    rows.append(row(SFT, times, tokens, base_time)
                | {"x it random": statistics.median(times) / random_it})
    return rows


def bench_eval(base, tokenizer, records):
    prompts = [task_prompt(tokenizer, r, None, True) for r in records]
    budget = TASKS.get("tc").max_new_tokens
    n = len(records)
    start = time.perf_counter()
    single = [generate(base, tokenizer, [p], budget, batch_size=1)[0] for p in prompts]
    t_single = time.perf_counter() - start
    rows = [{"mode": "one at a time", "examples/s": n / t_single}]
    for size in (16, n):
        start = time.perf_counter()
        batched = generate(base, tokenizer, prompts, budget, batch_size=size)
        elapsed = time.perf_counter() - start
        rows.append({"mode": f"batched ({size})", "examples/s": n / elapsed, "x one at a time": t_single / elapsed,
                     "same answers": sum(a == b for a, b in zip(batched, single)) / n})
    start = time.perf_counter()
    choice_predictions(base, tokenizer, prompts, [r["options"] for r in records], True, batch_size=16)
    rows.append({"mode": "choice scoring (batch 16)", "examples/s": n / (time.perf_counter() - start)})
    return rows


def bench_adapter(base, tokenizer, records, folder: Path):
    """Scoring with a LoRA adapter (r16, all linear layers, as the benchmarks train) beside the base weights, as
    PEFT runs it, and merged into them (:func:`anit.evaluation.run.with_adapter`): generation and choice scoring of
    the same records, with how many answers agree."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    lora = get_peft_model(copy.deepcopy(base), LoraConfig(r=16, lora_alpha=16, target_modules="all-linear"))
    for name, weight in lora.named_parameters():
        if "lora_B" in name:                    # a trained adapter's B is not zero (PEFT starts it at zero)
            torch.nn.init.normal_(weight, std=0.02)
    lora.save_pretrained(str(folder))
    prompts = [task_prompt(tokenizer, r, None, True) for r in records]
    options = [r["options"] for r in records]
    budget, n, rows, first = TASKS.get("tc").max_new_tokens, len(records), [], {}
    generate(base, tokenizer, prompts[:16], budget, batch_size=16)        # warm-up: the first call is not timed
    for mode, merge in (("beside the weights (PEFT)", False), ("merged", True)):
        model = with_adapter(copy.deepcopy(base), folder, merge=merge)
        for kind in ("generation (batch 16)", "choice scoring (batch 16)"):
            start = time.perf_counter()
            answers = (generate(model, tokenizer, prompts, budget, batch_size=16) if kind.startswith("generation")
                       else choice_predictions(model, tokenizer, prompts, options, True, batch_size=16))
            rate = n / (time.perf_counter() - start)
            row = {"adapter": mode, "scoring": kind, "examples/s": rate}
            if kind in first:
                row |= {"x beside": rate / first[kind][0],
                        "same answers": sum(a == b for a, b in zip(answers, first[kind][1])) / n}
            else:
                first[kind] = (rate, answers)
            rows.append(row)
    return rows


def bench_loading(repeats: int = 2) -> list[dict[str, Any]]:
    """Each preset's tokenizer and model loaded from its GGUF file (what every load did before the conversion
    cache) and from the converted folder (:func:`anit.models.converted`, what a load does now): median seconds."""
    from anit.models import PRESETS, _load_model, _load_tokenizer, resolve

    def seconds(load, *args) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            load(*args)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    rows = []
    for name in PRESETS:
        packed, folder = PRESETS[name](), resolve(name)          # resolve converts once where it has not yet
        for source, label in ((packed, "GGUF file"), (folder, "converted folder")):
            rows.append({"preset": name, "from": label, "tokenizer s": seconds(_load_tokenizer, source),
                         "model s": seconds(_load_model, name, source, {"dtype": torch.float32})})
    return rows


def instructions(n: int) -> list[str]:
    """``n`` instructions cycling through every task's pool, as a noised dataset's records repeat them."""
    pool = [t for name in TASKS for t in TASKS.get(name).instructions]
    return [pool[i % len(pool)] for i in range(n)]


def bench_noise():
    texts = instructions(4000)
    rows = []
    for name in NOISES:
        noise = NOISES.get(name)
        if noise.batched:
            continue
        rng = random.Random(0)
        noise.apply(texts[0], 0.3, rng)
        start = time.perf_counter()
        for text in texts:
            noise.apply(text, 0.3, rng)
        rows.append({"noise": name, "instructions/s": len(texts) / (time.perf_counter() - start)})
    return rows


def bench_rewrites(n: int = 4000):
    """``paraphrase`` and ``opposite`` on ``n`` records' instructions, with the rewrite cache cold (the model is
    loaded first, by a rewrite outside the timing) and then warm. The records share the pools' few instructions and
    the model writes each unique one once, so ``unique/s`` is the model's own rate."""
    texts = instructions(n)
    unique = len(set(texts))
    rewriter = Rewriter(model_name=MODEL)
    rewriter.rewrite("paraphrase", ["Load the model before the timing starts."])
    rows = []
    for kind in ("paraphrase", "opposite"):
        for cache in ("cold (model loaded)", "warm"):
            failed = len(rewriter.failures)
            start = time.perf_counter()
            rewriter.rewrite(kind, texts)
            elapsed = time.perf_counter() - start
            rows.append({"noise": kind, "cache": cache, "instructions": n, "unique": unique,
                         "instructions/s": n / elapsed, "unique/s": unique / elapsed,
                         "left unchanged": len(rewriter.failures) - failed})
    return rows


def bench_scores():
    rng = random.Random(0)
    raws = instructions(20000)
    noisys = [NOISES.get("random_replace").apply(t, 0.3, rng).text for t in raws]
    rows = []
    for name in HARD:
        rates = []
        for _ in range(5):
            start = time.perf_counter()
            SCORERS.get(name).score(raws, noisys)
            rates.append(len(raws) / (time.perf_counter() - start))
        rows.append({"scorer": name, "pairs/s": statistics.median(rates), "runs": len(rates),
                     "slowest run": min(rates)})
    minilm = SCORERS.get("minilm").score
    minilm(["warm up the model"], ["load it once"])
    n = 2000
    start = time.perf_counter()
    minilm(raws[:n], noisys[:n])
    cold = n / (time.perf_counter() - start)
    start = time.perf_counter()
    minilm(raws[:n], noisys[:n])
    rows.append({"scorer": "minilm (cache cold, model loaded)", "pairs/s": cold, "runs": 1})
    rows.append({"scorer": "minilm (cache warm)", "pairs/s": n / (time.perf_counter() - start), "runs": 1})
    return rows


ATTACK = "Attack, SmolLM2-135M zero-shot, SST-2 dev, choice scoring"


def bench_attack(base, tokenizer, records, budget: int, work: Path):
    """One ``anit attack`` (no model rewrites: those are timed above) from a cold cache: wall time, candidates
    scored, how many stopped early, and the records it scored (early stops score fewer)."""
    import shutil

    from anit.evaluation.attack import attack_model

    shutil.rmtree(work, ignore_errors=True)
    start = time.perf_counter()
    report = attack_model(base, tokenizer, records, work, budget=budget, scoring="choice", rewrites=0,
                          batch_size=32)["tasks"]["tc"]
    seconds = time.perf_counter() - start
    scored = sum(json.loads(line)["scored"] for line in (work / "candidates.jsonl").read_text().splitlines())
    return [{"dev records": len(records), "budget": budget, "candidates": report["evaluated"],
             "stopped early": report["stopped_early"], "records scored": scored, "wall s": seconds,
             "candidates/s": report["evaluated"] / seconds,
             "worst dev accuracy": report["ranked"][0]["dev_score"], "raw dev accuracy": report["raw_dev_score"]}]


TARGETS = "Targets"
GOALS = [
    ("exact anit step at most 3.0x an it step", TRAINING, "<=", 3.0,
     lambda rows: by(rows, "method", method_row("anit"))["x it step"]),
    ("fast anit step at most 2.1x an it step", TRAINING, "<=", 2.1,
     lambda rows: by(rows, "method", method_row("anit", "fast"))["x it step"]),
    ("it at least as fast as TRL's SFTTrainer (SFTTrainer's step time over it's, random batches)", TRAINING, ">=",
     1.0, lambda rows: by(rows, "method", SFT)["x it random"]),
    ("it's LoRA step at 50% or more of the measured matmul FLOP/s", TRAINING, ">=", 0.5,
     lambda rows: by(rows, "method", method_row("it"))["matmul FLOP/s share"]),
    ("batched evaluation at least 5x one at a time (the best batch size)", EVALUATION, ">=", 5.0,
     lambda rows: max(row["x one at a time"] for row in rows if "x one at a time" in row)),
    ("rule-based noise at 10,000 instructions/s or more (the slowest type)", RULES, ">=", 1e4,
     lambda rows: min(row["instructions/s"] for row in rows)),
    ("hard scores at 50,000 pairs/s or more (the slowest scorer's median)", SCORES, ">=", 5e4,
     lambda rows: min(row["pairs/s"] for row in rows if row["scorer"] in HARD)),
    ("an attack of 100 candidates on 64 dev records in at most 5 minutes (choice scoring)", ATTACK, "<=", 300.0,
     lambda rows: rows[0]["wall s"] * 100 / rows[0]["candidates"]),
]
"""The issue's speed targets: what each says, the start of the heading of the section it is measured in, the
comparison and bound, and how the value is read from that section's rows."""


def by(rows: list[dict[str, Any]], key: str, value: str) -> dict[str, Any]:
    """The row of ``rows`` whose ``key`` is ``value``."""
    return next(row for row in rows if row[key] == value)


def target_rows(sections: list[tuple[str, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """Each target in ``GOALS`` checked against the last of ``sections`` (heading and rows, oldest first) whose
    heading starts with the target's: the value measured, the bound and whether it is met. A target none of them
    measures is left out."""
    rows = []
    for target, start, compare, bound, read in GOALS:
        found = [section_rows for heading, section_rows in sections if heading.startswith(start)]
        if not found:
            continue
        value = read(found[-1])
        met = value <= bound if compare == "<=" else value >= bound
        rows.append({"target": target, "measured": value, "bound": f"{compare} {bound:g}",
                     "met": "yes" if met else "no"})
    return rows


def earlier_sections() -> list[tuple[str, list[dict[str, Any]]]]:
    """The speed sections already in docs/ (heading and rows), so that the targets of parts not measured now are
    checked against their latest measurement."""
    path = DOCS / "benchmarks" / "speed.json"
    return [(s["heading"], s["rows"]) for s in json.loads(path.read_text())["sections"]] if path.exists() else []


PARTS = ("training", "eval", "noise", "rewrites", "scores", "attack", "adapter", "loading")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warm", type=int, default=2)
    parser.add_argument("--eval-examples", type=int, default=48)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--parts", nargs="+", default=list(PARTS), choices=list(PARTS))
    args = parser.parse_args()
    root = args.data_dir or default_data_dir()
    train_records = build_noisy(prepare("sst2", "train", 4 * (args.steps + args.warm), 1, data_dir=root)[0],
                                ["random_replace:0.3"], 1, mix="per-type")
    eval_records = prepare("sst2", "dev", args.eval_examples, 2, data_dir=root)[0]
    sections = []
    if "noise" in args.parts:
        sections.append((RULES, bench_noise()))
    if "rewrites" in args.parts:
        sections.append((REWRITES, bench_rewrites()))
    if "scores" in args.parts:
        sections.append((SCORES, bench_scores()))
    if "loading" in args.parts:
        sections.append((LOADING, bench_loading()))
    if {"training", "eval", "attack", "adapter"} & set(args.parts):
        tokenizer, base = load_tokenizer(MODEL), load_model(MODEL)
        if "training" in args.parts:
            peak = matmul_flops()
            sections.append((TRAINING, bench_training(base, tokenizer, train_records, args.steps, args.warm, peak)))
        if "eval" in args.parts:
            sections.append((f"{EVALUATION}, {args.eval_examples} examples",
                             bench_eval(base, tokenizer, eval_records)))
        if "attack" in args.parts:
            dev = prepare("sst2", "dev", 64, 3, data_dir=root)[0]
            sections.append((ATTACK, bench_attack(base, tokenizer, dev, 100, Path("runs/bench-speed-attack"))))
        if "adapter" in args.parts:
            sections.append((f"{ADAPTER}, {args.eval_examples} examples",
                             bench_adapter(base, tokenizer, eval_records, Path("runs/bench-speed-adapter"))))
    notes = ["FLOP share counts 4 x (parameters of every linear layer, LM head included) FLOPs per real (unpadded) "
             "token for a LoRA step (forward and input-gradient matmuls; LoRA's own weight gradients are negligible), "
             "against the fp32 matmul peak measured in the same run. Attention FLOPs are not counted. For fgm and "
             "anit the share still counts one pass per token, though they run about 3 (exact) or 2 (fast) passes.",
             "The length-grouped methods all see the same batches (noise_rate 0, the trainer's seeded length-grouped "
             "sampler, the default); `it` and TRL's SFTTrainer are also timed on random batches, TRL's own order, "
             "so compare those two by tokens/s. The first steps are warm-up.",
             "Model-written noise: a dataset's records repeat its task's few pool instructions, and the rewriter "
             "writes each unique instruction once (then caches it), so instructions/s counts records and unique/s "
             "the instructions the model wrote; 'left unchanged' counts rewrites rejected after every retry.",
             "Attack: each candidate's opening (system turn, instruction) runs once for all its dev records "
             "(anit.generation.Openings); the records answered right most often per character so far run first, "
             "in calls just large enough to pass the worst-k threshold, so a candidate that cannot enter the worst k "
             "stops early (exact: its final score could only be higher); batches group similar lengths (padding at "
             "most a fifth once a batch holds 256 tokens). Before these (2026-12-03) the same attack took 499 s "
             "with no early stop and fixed-size batches.",
             "Loading a preset: each load from the GGUF file builds the tokenizer from it and de-quantises every "
             "weight; the converted folder (float32 safetensors and the tokenizer's files, written once per machine "
             "under ~/.cache/anit/models) holds the same weights and tokenizer (tests/test_models.py checks both). Its "
             "safetensors are memory-mapped, so the first forward pass reads them (from the page cache once warm).",
             "Targets: each is checked against the latest measurement of its section, whose command and date the "
             "section gives."]
    sections.append((TARGETS, target_rows(earlier_sections() + sections)))
    save("speed", "Speed", sections, notes)


if __name__ == "__main__":
    run_benchmark(main)
