"""Generate, parse and score under instruction conditions: raw, noisy (one per noise type), unseen, a file.

    runs/eval/raw.predictions.jsonl   {"id", "condition", "instruction", "generation", "parsed", "gold", "correct"}
    runs/eval/raw.metrics.json        {"sst2": {"accuracy": .., "macro_f1": .., "unparseable": ..}}
    runs/eval/metrics.json            every condition, and the robustness gaps (noisy - raw, unseen - raw)
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import yaml

from anit.errors import AnitError
from anit.generation import answer_text, generate, task_prompt, uses_chat
from anit.jsonl import write_json, write_jsonl
from anit.tasks import TASKS

PRIMARY = {"tc": "accuracy", "ner": "f1", "re": "f1", "absa": "f1"}


@dataclass
class EvalOptions:
    batch_size: int = 8
    max_new_tokens: int | None = None
    scoring: str = "generate"
    do_sample: bool = False
    temperature: float = 1.0
    seed: int = 0
    prompt_style: str = "auto"


def conditions(records: Sequence[dict[str, Any]], which: str) -> dict[str, list[tuple[dict[str, Any], str]]]:
    """Condition name -> (record, instruction) pairs."""
    if which == "raw":
        return {"raw": [(r, TASKS.get(r["task"]).default_instruction) for r in records]}
    if which == "noisy":
        out: dict[str, list] = defaultdict(list)
        for r in records:
            if "noisy_instruction" in r:
                out[f"noisy-{r['noise_type']}"].append((r, r["noisy_instruction"]))
        if not out:
            raise AnitError("--instructions noisy: no record has a noisy_instruction; use `anit noise build`")
        return dict(out)
    if which == "unseen":
        pairs = []
        for i, r in enumerate(records):
            unseen = TASKS.get(r["task"]).unseen_instructions
            pairs.append((r, unseen[i % len(unseen)]))
        return {"unseen": pairs}
    path = Path(which)
    if not path.exists():
        raise AnitError(f"--instructions {which!r}: expected raw, noisy, unseen or a YAML/JSON file")
    table = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(table, dict) or not all(isinstance(v, list) for v in table.values()):
        raise AnitError(f"{path}: expected a mapping from task name (ner, re, tc, absa) to a list of instructions")
    out = {}
    for task, instructions in table.items():
        for j, instruction in enumerate(instructions):
            out[f"{path.stem}-{task}-{j}"] = [(r, str(instruction)) for r in records if r["task"] == task]
    return out


def choice_predictions(model: Any, tokenizer: Any, prompts: Sequence[str], options: Sequence[Sequence[str]],
                       chat: bool, batch_size: int) -> list[str]:
    """The option with the highest total log-likelihood as the answer continuation (no generation)."""
    import torch

    rows = [(i, option) for i, opts in enumerate(options) for option in opts]
    scores: dict[tuple[int, str], float] = {}
    device = next(model.parameters()).device
    side = tokenizer.padding_side
    tokenizer.padding_side = "right"
    try:
        for start in range(0, len(rows), batch_size):
            chunk = rows[start:start + batch_size]
            prompt_ids = [tokenizer(prompts[i], add_special_tokens=False)["input_ids"] for i, _ in chunk]
            answer_ids = [tokenizer(answer_text(o, chat), add_special_tokens=False)["input_ids"] for _, o in chunk]
            seqs = [p + a for p, a in zip(prompt_ids, answer_ids)]
            width = max(map(len, seqs))
            ids = torch.full((len(seqs), width), tokenizer.pad_token_id)
            mask = torch.zeros((len(seqs), width), dtype=torch.long)
            for k, seq in enumerate(seqs):
                ids[k, :len(seq)] = torch.tensor(seq)
                mask[k, :len(seq)] = 1
            with torch.inference_mode():
                logp = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float().log_softmax(-1)
            for k, (key, p, a) in enumerate(zip(chunk, prompt_ids, answer_ids)):
                positions = torch.arange(len(p) - 1, len(p) + len(a) - 1)
                scores[key] = float(logp[k, positions, torch.tensor(a)].sum())
    finally:
        tokenizer.padding_side = side
    return [max(opts, key=lambda o: scores[(i, o)]) for i, opts in enumerate(options)]


def evaluate(model: Any, tokenizer: Any, records: Sequence[dict[str, Any]], which: Sequence[str], out: Path,
             options: EvalOptions) -> dict[str, Any]:
    chat = uses_chat(tokenizer, options.prompt_style)
    summary: dict[str, Any] = {"conditions": {}}
    for name_of in which:
        for condition, pairs in conditions(records, name_of).items():
            summary["conditions"][condition] = score_condition(model, tokenizer, condition, pairs, chat, out, options)
    summary["gaps"] = gaps(summary["conditions"])
    write_json(out / "metrics.json", summary)
    return summary


def score_condition(model: Any, tokenizer: Any, condition: str, pairs: Sequence[tuple[dict[str, Any], str]],
                    chat: bool, out: Path, options: EvalOptions) -> dict[str, Any]:
    prompts = [task_prompt(tokenizer, r, ins, chat) for r, ins in pairs]
    tasks = {r["task"] for r, _ in pairs}
    if options.scoring == "choice":
        if tasks != {"tc"}:
            raise AnitError("--scoring choice ranks label options and needs classification records only")
        generations = choice_predictions(model, tokenizer, prompts, [r["options"] for r, _ in pairs], chat,
                                         options.batch_size)
    else:
        budget = options.max_new_tokens or max(TASKS.get(t).max_new_tokens for t in tasks)
        generations = generate(model, tokenizer, prompts, budget, options.batch_size, options.do_sample,
                               options.temperature, seed=options.seed, progress=condition)
    rows, by_dataset = [], defaultdict(lambda: ([], [], []))
    for (record, instruction), text in zip(pairs, generations):
        task = TASKS.get(record["task"])
        parsed = task.parse_answer(text, record["options"])
        gold = record["gold"] if isinstance(record["gold"], str) else [tuple(x) for x in record["gold"]]
        correct = parsed == gold if isinstance(gold, str) else parsed is not None and sorted(parsed) == sorted(gold)
        rows.append({"id": record["id"], "dataset": record["dataset"], "condition": condition,
                     "instruction": instruction, "input": record["input"], "generation": text, "parsed": parsed,
                     "gold": record["gold"], "correct": bool(correct),
                     "distortion": record.get("distortion", {}) if condition.startswith("noisy") else {}})
        preds, golds, opts = by_dataset[(record["dataset"], record["task"])]
        preds.append(parsed)
        golds.append(gold)
        opts[:] = record["options"]
    write_jsonl(out / f"{condition}.predictions.jsonl", rows)
    metrics = {dataset: {"task": task, **TASKS.get(task).metric(p, g, o)}
               for (dataset, task), (p, g, o) in by_dataset.items()}
    write_json(out / f"{condition}.metrics.json", metrics)
    return metrics


def gaps(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per dataset and condition: its primary score minus the raw one (negative = a drop)."""
    raw = results.get("raw", {})
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for condition, per_dataset in results.items():
        if condition == "raw":
            continue
        for dataset, metrics in per_dataset.items():
            if dataset in raw:
                key = PRIMARY[metrics["task"]]
                out[dataset][condition] = metrics[key] - raw[dataset][key]
    return dict(out)


def load_for_eval(model_name: str, adapter: str | None, trust_remote_code: bool = False) -> tuple[Any, Any]:
    from anit.models import load_model, load_tokenizer

    saved = adapter is not None and (Path(adapter) / "tokenizer_config.json").exists()
    tokenizer = load_tokenizer(adapter if saved else model_name, trust_remote_code)
    model = load_model(model_name, "auto", None, trust_remote_code)
    if adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter)
    model.eval()
    return model, tokenizer
