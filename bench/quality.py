"""Quality: does ANIT help? Methods side by side on the embedded SmolLM2, several seeds, same data and steps,
evaluated under raw, noisy and unseen instructions; mean and standard deviation, and wall time per run.

    python bench/quality.py [--datasets sst2] [--seeds 0 1 2] [--steps 30] [--train 200] [--test 200]

``it-matched`` trains ``it`` for as many forward+backward passes as exact ``anit`` spends (3x the steps).
A run whose evaluation finished is kept, so an interrupted benchmark continues where it stopped.
Knobs are the defaults of TrainConfig for every method (no per-method tuning in this run).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import save  # noqa: E402

from anit.data import DATASETS, default_data_dir, load_examples  # noqa: E402
from anit.data.prepare import sample, to_record  # noqa: E402
from anit.distortion import resolve_scorers  # noqa: E402
from anit.evaluation.run import PRIMARY, EvalOptions, evaluate  # noqa: E402
from anit.jsonl import write_jsonl  # noqa: E402
from anit.models import load_model, load_tokenizer  # noqa: E402
from anit.noise.build import NoiseSpec, noise_records, score_records  # noqa: E402
from anit.training.config import TrainConfig  # noqa: E402
from anit.training.run import train  # noqa: E402

NOISES = ["random_replace:0.3", "truncate_random:0.3", "char_typo:0.3", "synonym_replace:0.3", "pad_unrelated:0.3"]
METHODS = {"it": ("it", "exact", 1), "noisy_it": ("noisy_it", "exact", 1), "neftune": ("neftune", "exact", 1),
           "fgm": ("fgm", "exact", 1), "anit": ("anit", "exact", 1), "anit-fast": ("anit", "fast", 1),
           "it-matched": ("it", "exact", 3)}


def records_for(dataset: str, split: str, n: int, seed: int, root: Path) -> list[dict[str, Any]]:
    spec = DATASETS.get(dataset)
    examples, _ = load_examples(dataset, split, data_dir=root)
    records = [to_record(e, spec) for e in sample(examples, n, seed)]
    noisy = noise_records(records, [NoiseSpec.parse(x) for x in NOISES], "per-example", "fixed", seed)
    score_records(noisy, resolve_scorers(["hard"]))
    return noisy


def run(args: argparse.Namespace, root: Path) -> None:
    """Train and evaluate every (dataset, seed, method); results stay under ``args.work``."""
    from peft import PeftModel

    tokenizer = load_tokenizer("smollm2-135m")
    base = load_model("smollm2-135m")
    for dataset in args.datasets:
        test_split = "test" if "test" in DATASETS.get(dataset).files else "dev"
        test = records_for(dataset, test_split, args.test, 99, root)
        scoring = "choice" if DATASETS.get(dataset).task == "tc" else "generate"
        for seed in args.seeds:
            data = args.work / dataset / f"train-{seed}.jsonl"
            if not data.exists():
                write_jsonl(data, records_for(dataset, "train", args.train, seed, root))
            for name in ["zero-shot"] + args.methods:
                done = (args.work / dataset / f"eval-{name}-{seed}" / "wall.json").exists()
                if done or (name == "zero-shot" and seed != args.seeds[0]):
                    continue
                net = base
                if name != "zero-shot":
                    method, variant, factor = METHODS[name]
                    out = args.work / dataset / f"{name}-{seed}"
                    train(TrainConfig(model="smollm2-135m", method=method, nrm_variant=variant, data=str(data),
                                      output_dir=str(out), max_steps=args.steps * factor, batch_size=4, lr=2e-4,
                                      max_length=256, seed=seed, report_to=["none"], save_steps=10_000,
                                      logging_steps=10))
                    net = PeftModel.from_pretrained(base, str(out))
                start = time.perf_counter()
                evaluate(net, tokenizer, test, ["raw", "noisy", "unseen"], args.work / dataset / f"eval-{name}-{seed}",
                         EvalOptions(scoring=scoring, batch_size=16))
                (args.work / dataset / f"eval-{name}-{seed}" / "wall.json").write_text(
                    json.dumps({"eval_s": time.perf_counter() - start}))
                if name != "zero-shot":
                    base = net.unload()
                print(json.dumps({"dataset": dataset, "method": name, "seed": seed}), flush=True)


def group_score(conditions: dict[str, Any], dataset: str, group: str) -> float | None:
    """The primary score of a condition group; the noisy group pools its noise types weighted by size."""
    parts = [per[dataset] for name, per in conditions.items()
             if dataset in per and (name == group or (group == "noisy" and name.startswith("noisy-")))]
    if not parts:
        return None
    key = PRIMARY[parts[0]["task"]]
    return sum(p[key] * p["n"] for p in parts) / sum(p["n"] for p in parts)


def summarise(args: argparse.Namespace) -> None:
    """Mean and standard deviation over seeds, the drops from raw, and training wall time, to docs/."""
    sections = []
    notes = [f"{args.train} training records, {args.steps} steps (x3 for it-matched), batch 4, lr 2e-4, LoRA r16; "
             f"{args.test} test records; seeds {args.seeds}; noises {', '.join(NOISES)} (one drawn per record).",
             "noisy pools every record's noisy instruction over the noise types; unseen uses the task's other "
             "pool instructions. Classification is scored by ranking the label options (choice scoring).",
             "Knobs were not tuned per method on dev in this run: every method uses TrainConfig's defaults."]
    for dataset in args.datasets:
        rows, means = [], {}
        for name in ["zero-shot"] + args.methods:
            values: dict[str, list[float]] = {"raw": [], "noisy": [], "unseen": []}
            walls, evals, seeds = [], [], []
            for seed in args.seeds:
                run_dir = args.work / dataset / f"eval-{name}-{seed}"
                if not (run_dir / "metrics.json").exists():
                    continue
                seeds.append(seed)
                metrics = json.loads((run_dir / "metrics.json").read_text())
                if (run_dir / "wall.json").exists():
                    evals.append(json.loads((run_dir / "wall.json").read_text())["eval_s"])
                for group in values:
                    score = group_score(metrics["conditions"], dataset, group)
                    if score is not None:
                        values[group].append(score)
                summary = args.work / dataset / f"{name}-{seed}" / "train_summary.json"
                if summary.exists():
                    walls.append(json.loads(summary.read_text())["runtime_s"])
            if not seeds:
                continue
            row: dict[str, Any] = {"method": name, "seeds": len(seeds)}
            for group, scores in values.items():
                means[(name, group)] = statistics.fmean(scores)
                row[group] = f"{statistics.fmean(scores):.3f} ± {statistics.pstdev(scores):.3f}"
            for group in ("noisy", "unseen"):
                row[f"drop {group}"] = f"{means[(name, 'raw')] - means[(name, group)]:+.3f}"
            row["train wall s"] = f"{statistics.fmean(walls):.0f}" if walls else "-"
            row["eval wall s"] = f"{statistics.fmean(evals):.0f}" if evals else "-"
            rows.append(row)
        sections.append((f"{dataset}: primary score (mean ± std over seeds) and drop from raw", rows))
        notes += verdicts(dataset, means) + agreements(args, dataset)
    save("quality", "Quality", sections, notes)


def verdicts(dataset: str, means: dict[tuple[str, str], float]) -> list[str]:
    """The goal, checked plainly: anit at least as good as it under raw instructions, and drops at most half of it's."""
    lines = []
    for name in ("anit", "anit-fast"):
        if (name, "raw") not in means or ("it", "raw") not in means:
            continue
        raw_ok = means[(name, "raw")] >= means[("it", "raw")]
        lines.append(f"{dataset}: {name} under raw instructions is {'at least as good as' if raw_ok else 'worse than'} "
                     f"it ({means[(name, 'raw')]:.3f} vs {means[('it', 'raw')]:.3f}).")
        for group in ("noisy", "unseen"):
            drop = means[(name, "raw")] - means[(name, group)]
            it_drop = means[("it", "raw")] - means[("it", group)]
            met = drop <= max(it_drop, 0.0) / 2
            lines.append(f"{dataset}: {name}'s raw-to-{group} drop {drop:+.3f} vs it's {it_drop:+.3f}: goal (at most "
                         f"half of it's) {'met' if met else 'not met'}.")
    return lines


def agreements(args: argparse.Namespace, dataset: str) -> list[str]:
    """How often the adversarial methods give the same raw-instruction answer as fgm (same test records)."""
    def answers(name: str, seed: int) -> list[str] | None:
        path = args.work / dataset / f"eval-{name}-{seed}" / "raw.predictions.jsonl"
        if not path.exists():
            return None
        return [json.loads(line)["generation"] for line in path.read_text().splitlines()]

    lines = []
    for name in ("anit", "anit-fast"):
        same = total = 0
        for seed in args.seeds:
            ours, theirs = answers(name, seed), answers("fgm", seed)
            if ours is not None and theirs is not None:
                same += sum(a == b for a, b in zip(ours, theirs))
                total += len(ours)
        if total:
            lines.append(f"{dataset}: {name} gives the same raw-instruction answer as fgm on {same}/{total} "
                         f"test records (all seeds).")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", nargs="+", default=["sst2"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--train", type=int, default=200)
    parser.add_argument("--test", type=int, default=200)
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--work", type=Path, default=Path("runs/bench-quality"))
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--summarise-only", action="store_true", help="Rebuild the tables from --work.")
    args = parser.parse_args()
    if not args.summarise_only:
        run(args, args.data_dir or default_data_dir())
    summarise(args)


if __name__ == "__main__":
    main()
