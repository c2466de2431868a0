"""Speed: training steps (it vs anit exact/fast vs neftune vs TRL's SFTTrainer), achieved FLOP/s,
evaluation (batched vs one-at-a-time generation, choice scoring), noise and distortion throughput.

    python bench/speed.py [--steps 8] [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import copy
import random
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Timer, counting, save, timed_nrm_training  # noqa: E402

from anit.data import DATASETS, default_data_dir, load_examples  # noqa: E402
from anit.data.prepare import sample, to_record  # noqa: E402
from anit.distortion import SCORERS  # noqa: E402
from anit.evaluation.run import choice_predictions  # noqa: E402
from anit.generation import generate, task_prompt  # noqa: E402
from anit.models import load_model, load_tokenizer  # noqa: E402
from anit.noise import NOISES  # noqa: E402
from anit.noise.build import NoiseSpec, noise_records, score_records  # noqa: E402
from anit.distortion import resolve_scorers  # noqa: E402
from anit.tasks import TASKS  # noqa: E402
from anit.training.config import TrainConfig  # noqa: E402
from anit.training.data import InstructionDataset  # noqa: E402

MODEL = "smollm2-135m"


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
        name = f"{method}" + (f" ({variant})" if method in ("fgm", "anit") else "")
        rows.append(row(name + ", length-grouped", times, tokens, base_time))
    times, tokens = time_anit(base, tokenizer, records, "it", "exact", steps, warm, grouped=False)
    random_it = statistics.median(times)
    rows.append(row("it, random batches", times, tokens, base_time))
    times, tokens = time_sft(base, tokenizer, records, steps, warm)
    rows.append(row("TRL SFTTrainer, random batches (same LoRA, data, batch)", times, tokens, base_time)
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


def bench_noise():
    pool = [t for name in TASKS for t in TASKS.get(name).instructions]
    texts = [pool[i % len(pool)] for i in range(4000)]
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


def bench_scores():
    pool = [t for name in TASKS for t in TASKS.get(name).instructions]
    rng = random.Random(0)
    raws = [pool[i % len(pool)] for i in range(20000)]
    noisys = [NOISES.get("random_replace").apply(t, 0.3, rng).text for t in raws]
    rows = []
    for name in ("word_edit", "char_edit", "jaccard", "chrf", "bleu"):
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warm", type=int, default=2)
    parser.add_argument("--eval-examples", type=int, default=48)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--parts", nargs="+", default=["training", "eval", "noise", "scores"],
                        choices=["training", "eval", "noise", "scores"])
    args = parser.parse_args()
    root = args.data_dir or default_data_dir()
    spec = DATASETS.get("sst2")
    examples, _ = load_examples("sst2", "train", data_dir=root)
    train_records = [to_record(e, spec) for e in sample(examples, 4 * (args.steps + args.warm), 1)]
    train_records = noise_records(train_records, [NoiseSpec("random_replace", 0.3)], seed=1)
    score_records(train_records, resolve_scorers(["hard"]))
    dev, _ = load_examples("sst2", "dev", data_dir=root)
    eval_records = [to_record(e, spec) for e in sample(dev, args.eval_examples, 2)]
    sections = []
    if "noise" in args.parts:
        sections.append(("Rule-based noise (0.3 rate)", bench_noise()))
    if "scores" in args.parts:
        sections.append(("Distortion scorers", bench_scores()))
    if "training" in args.parts or "eval" in args.parts:
        tokenizer, base = load_tokenizer(MODEL), load_model(MODEL)
        if "training" in args.parts:
            peak = matmul_flops()
            sections.append(("Training step, SmolLM2-135M, LoRA r16 all-linear, batch 4, SST-2",
                             bench_training(base, tokenizer, train_records, args.steps, args.warm, peak)))
        if "eval" in args.parts:
            sections.append((f"Evaluation, SST-2 dev, {args.eval_examples} examples",
                             bench_eval(base, tokenizer, eval_records)))
    notes = ["FLOP share counts 4 x (parameters of every linear layer, LM head included) FLOPs per real (unpadded) "
             "token for a LoRA step (forward and input-gradient matmuls; LoRA's own weight gradients are negligible), "
             "against the fp32 matmul peak measured in the same run. Attention FLOPs are not counted. For fgm and "
             "anit the share still counts one pass per token, though they run about 3 (exact) or 2 (fast) passes.",
             "The length-grouped methods all see the same batches (noise_rate 0, the trainer's seeded length-grouped "
             "sampler, the default); `it` and TRL's SFTTrainer are also timed on random batches, TRL's own order, "
             "so compare those two by tokens/s. The first steps are warm-up."]
    save("speed", "Speed", sections, notes)


if __name__ == "__main__":
    main()
