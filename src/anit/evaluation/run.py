"""Generate, parse and score under instruction conditions: raw, noisy (one per noise type), unseen, a file.

    runs/eval/raw.predictions.jsonl   {"id", "condition", "instruction", "generation", "parsed", "gold", "correct"}
    runs/eval/raw.metrics.json        {"sst2": {"accuracy": .., "macro_f1": .., "unparseable": ..}}
    runs/eval/metrics.json            every condition, the paired gaps to raw and the instruction sensitivity
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import yaml

from anit.errors import AnitError, DataError
from anit.evaluation.robustness import condition_gaps, sensitivity
from anit.generation import Openings, generate, inference, length_batches, prepare_batch
from anit.evaluation.served import ServedModel
from anit.tasks.prompt import answer_text, context_block, task_prompt, uses_chat
from anit.jsonl import read_jsonl, write_json, write_jsonl
from anit.records import NO_NOISY, noise_type_of
from anit.tasks import TASKS

@dataclass
class EvalOptions:
    batch_size: int = 8
    max_new_tokens: int | None = None
    scoring: str = "generate"
    do_sample: bool = False
    temperature: float = 1.0
    seed: int = 0
    prompt_style: str = "auto"


def distinct(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first record of each id: a file noised per type holds each record once per noise type."""
    seen: dict[str, dict[str, Any]] = {}
    for record in records:
        seen.setdefault(record["id"], record)
    return list(seen.values())


def limit_records(records: Sequence[dict[str, Any]], limit: int | None) -> list[dict[str, Any]]:
    """Every row of the first ``limit`` distinct record ids (``--limit`` counts records, not rows)."""
    if limit is None:
        return list(records)
    keep = {r["id"] for r in distinct(records)[:limit]}
    return [r for r in records if r["id"] in keep]


def instruction_file(path: Path, tasks: set[str]) -> dict[str, list[str]]:
    """Task -> instructions from a YAML/JSON file; an entry is the text, or a mapping with ``instruction`` (as
    ``anit attack`` writes it, with its dev score and distortion beside it). Where the data's records are of one
    task, the file may be a plain list instead: a YAML/JSON list, or a ``.txt`` file of one instruction per line
    (blank lines and lines starting with ``#`` skipped). A bad task or entry names its line."""
    text, table = _loaded(path)
    listed = isinstance(table, list)
    if listed and len(tasks) > 1:
        raise AnitError(f"{path}: a plain list of instructions serves records of one task, and these are of tasks "
                        f"{', '.join(sorted(tasks))}: write a mapping from task name to its instructions")
    if listed:
        table = {next(iter(tasks)): table}
    if not isinstance(table, dict) or not table or not all(isinstance(v, list) and v for v in table.values()):
        raise AnitError(f"{path}: expected a mapping from task name ({', '.join(sorted(TASKS.names()))}) to a "
                        "non-empty list of instructions, or a list of instructions (a .txt file: one per line)")
    out: dict[str, list[str]] = {}
    for task, entries in table.items():
        try:
            TASKS.get(str(task))
        except AnitError as err:
            raise AnitError(f"{path}:{_line_of(text, str(task))}: {err}") from None
        texts = []
        for j, entry in enumerate(entries):
            found = entry.get("instruction") if isinstance(entry, dict) else entry
            if not isinstance(found, str) or not found.strip():
                where = _line_of(text, None if listed else str(task), j)
                raise AnitError(f"{path}:{where}: {'' if listed else task}[{j}]: expected an instruction (text, "
                                f"or a mapping with 'instruction'), got {entry!r}")
            texts.append(found)
        out[str(task)] = texts
    if not tasks & set(out):
        raise AnitError(f"{path}: lists instructions for {', '.join(sorted(out))}, but the data's records are "
                        f"of task {', '.join(sorted(tasks))}")
    return out


def _loaded(path: Path) -> tuple[str, Any]:
    """An instruction file's text and what it holds: a ``.txt`` file's lines (blank and ``#`` ones skipped), else
    the YAML/JSON parsed (an error names its line)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".txt":
        return text, [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    try:
        return text, yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise AnitError(f"{path}{f':{mark.line + 1}' if mark else ''}: not valid YAML "
                        f"({getattr(err, 'problem', err)})") from None


def _line_of(text: str, task: str | None, entry: int | None = None) -> int:
    """The line of ``task``'s key in an instruction file's text, or of its ``entry``-th instruction (of the file's
    list where ``task`` is None): composed only when an error names it."""
    root = yaml.compose(text)
    if task is None:
        return root.value[entry].start_mark.line + 1
    key, value = next((k, v) for k, v in root.value if str(k.value) == task)
    return (key if entry is None else value.value[entry]).start_mark.line + 1


NAMED_CONDITIONS = ("raw", "noisy", "unseen", "unseen-pool")
"""The --instructions values that name a condition rather than a file."""


def found_on(model: str, adapter: str | None) -> dict[str, Any]:
    """Where an attack's instructions were searched, as worst.yaml records it and ``transfers`` compares it."""
    return {"model": model, "adapter": str(Path(adapter).resolve()) if adapter else None}


def searched_on(found: dict[str, Any]) -> str:
    """A :func:`found_on` as the console and the report name it: the model, and its adapter where there was one."""
    return found["model"] + (f" + {found['adapter']}" if found.get("adapter") else "")


def transfers(which: Sequence[str], model: str, adapter: str | None) -> dict[str, dict[str, Any]]:
    """The instruction files among ``which`` whose entries ``anit attack`` found on another model or adapter than
    ``model`` + ``adapter`` (the transfer setting), by condition stem, with where they were found."""
    here = found_on(model, adapter)
    out = {}
    for name in which:
        path = Path(name)
        if name in NAMED_CONDITIONS or not path.exists():
            continue
        table = _loaded(path)[1]
        if not isinstance(table, dict):     # a plain list: nothing says where it was found
            continue
        origins = [e["found_on"] for entries in table.values() for e in entries
                   if isinstance(e, dict) and isinstance(e.get("found_on"), dict)]
        elsewhere = [o for o in origins if o != here]
        if elsewhere:
            out[path.stem] = elsewhere[0]
    return out


def conditions(records: Sequence[dict[str, Any]], which: str) -> dict[str, list[tuple[dict[str, Any], str]]]:
    """Condition name -> (record, instruction) pairs.

    ``raw``: each record's own instruction (what it is trained with: the task's default in the records ``anit data
    prepare`` writes, a user's own in records they wrote); ``noisy``: each record's noisy instruction, one condition per
    noise type; ``unseen``: one held-out instruction per record, in turn; ``unseen-pool``: every record under every
    held-out instruction, one condition each (``unseen-<task>-<k>``); a file: every record under every listed
    instruction of its task (``<stem>-<task>-<k>``). Only ``noisy`` uses every row of a file noised per type.
    """
    unique = distinct(records)
    if which == "raw":
        return {"raw": [(r, r["instruction"]) for r in unique]}
    if which == "noisy":
        out: dict[str, list] = defaultdict(list)
        for r in records:
            if "noisy_instruction" in r:
                out[f"noisy-{noise_type_of(r)}"].append((r, r["noisy_instruction"]))
        if not out:
            raise AnitError(f"--instructions noisy: {NO_NOISY}")
        return dict(out)
    bare = which in ("unseen", "unseen-pool") and sorted(
        t for t in {r["task"] for r in unique} if not TASKS.get(t).unseen_instructions)
    if bare:
        raise AnitError(f"--instructions {which}: task {', '.join(bare)} has no held-out instructions (its Task lists "
                        "one instruction, the raw one); list your own wordings in a YAML file and pass that instead")
    if which == "unseen":
        pairs = []
        for i, r in enumerate(unique):
            unseen = TASKS.get(r["task"]).unseen_instructions
            pairs.append((r, unseen[i % len(unseen)]))
        return {"unseen": pairs}
    if which == "unseen-pool":
        table = {task: list(TASKS.get(task).unseen_instructions) for task in {r["task"] for r in unique}}
        return _per_instruction("unseen", table, unique)
    path = Path(which)
    if not path.exists():
        raise AnitError(f"--instructions {which!r}: expected {', '.join(NAMED_CONDITIONS)} or an instruction file "
                        "(YAML/JSON, or .txt)")
    return _per_instruction(path.stem, instruction_file(path, {r["task"] for r in unique}), unique)


def condition_pairs(records: Sequence[dict[str, Any]], which: Sequence[str], path: str, hint: str = ""
                    ) -> list[tuple[dict[str, Any], str]]:
    """Every (record, instruction) pair of the conditions ``which`` (:func:`conditions`); records read from ``path``
    without the noisy instructions ``noisy`` needs stop with one line naming that file (and ``hint``, another way
    to give them)."""
    pairs = []
    for name in which:
        try:
            pairs += [pair for chosen in conditions(records, name).values() for pair in chosen]
        except AnitError as err:
            raise DataError(path, None, f"{err}{hint}") if name == "noisy" else err from None
    return pairs


def _per_instruction(stem: str, table: dict[str, list[str]], records: Sequence[dict[str, Any]]
                     ) -> dict[str, list[tuple[dict[str, Any], str]]]:
    out = {}
    for task, instructions in sorted(table.items()):
        chosen = [r for r in records if r["task"] == task]
        if chosen:
            for j, instruction in enumerate(instructions):
                out[f"{stem}-{task}-{j}"] = [(r, instruction) for r in chosen]
    return out


def choice_predictions(model: Any, tokenizer: Any, prompts: Sequence[str], options: Sequence[Sequence[str]],
                       chat: bool, batch_size: int, openings: Openings | None = None) -> list[str]:
    """The option with the highest total log-likelihood as the answer continuation (no generation)."""
    scores = choice_scores(model, tokenizer, prompts, options, chat, batch_size, openings)
    return [max(opts, key=per.get) for opts, per in zip(options, scores)]


def choice_scores(model: Any, tokenizer: Any, prompts: Sequence[str], options: Sequence[Sequence[str]],
                  chat: bool, batch_size: int, openings: Openings | None = None) -> list[dict[str, float]]:
    """Each option's total log-likelihood as the continuation of its prompt.

    Each prompt runs once (a shared opening once per batch, or once in all with ``openings``), in batches of
    similar lengths (``length_batches``); its KV cache is copied to every option, so only the option tokens run
    again.
    """

    rows = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    answers = {o: tokenizer(answer_text(o, chat), add_special_tokens=False)["input_ids"]
               for opts in options for o in opts}
    result: list[dict[str, float]] = [{} for _ in prompts]
    with inference(model):
        for batch in length_batches(rows, batch_size):
            inputs = prepare_batch(model, [rows[i] for i in batch], tokenizer.pad_token_id,
                                   max(len(answers[o]) for i in batch for o in options[i]), openings)
            out = model(input_ids=inputs.input_ids[:, inputs.cached:], attention_mask=inputs.attention_mask,
                        position_ids=inputs.position_ids[:, inputs.cached:], cache=inputs.cache, use_cache=True,
                        logits_to_keep=1)
            first = out.logits[:, -1].float().log_softmax(-1)
            pairs = [(k, o) for k, i in enumerate(batch) for o in options[i]]
            scores = {(k, o): float(first[k, answers[o][0]]) for k, o in pairs}
            longer = [(k, o) for k, o in pairs if len(answers[o]) > 1]
            if longer:
                for (k, o), logp in zip(longer, _continuation_logprobs(model, out.cache, inputs, longer, answers)):
                    scores[(k, o)] += logp
            for k, i in enumerate(batch):
                result[i] = {o: scores[(k, o)] for o in options[i]}
    return result


def _continuation_logprobs(model: Any, cache: Any, inputs: Any, pairs: list[tuple[int, str]],
                           answers: dict[str, list[int]]) -> list[float]:
    """Log-probability of each option's tokens after its first, run on copies of the prompt's cache."""
    import torch

    rows = torch.tensor([k for k, _ in pairs], device=inputs.input_ids.device)
    cache.reorder_cache(rows)
    width = max(len(answers[o]) for _, o in pairs) - 1
    ids = torch.zeros((len(pairs), width), dtype=torch.long, device=rows.device)
    for n, (_, o) in enumerate(pairs):
        ids[n, :len(answers[o]) - 1] = torch.tensor(answers[o][:-1])
    mask = torch.cat([inputs.attention_mask[rows], torch.ones_like(ids)], dim=1)
    positions = inputs.position_ids[rows, -1:] + 1 + torch.arange(width, device=rows.device)
    logp = model(input_ids=ids, attention_mask=mask, position_ids=positions, cache=cache).logits.float().log_softmax(-1)
    return [sum(float(logp[n, j, t]) for j, t in enumerate(answers[o][1:])) for n, (_, o) in enumerate(pairs)]


def evaluate(model: Any, tokenizer: Any, records: Sequence[dict[str, Any]], which: Sequence[str], out: Path,
             options: EvalOptions, reuse: bool = False, transfer: dict[str, dict[str, Any]] | None = None
             ) -> dict[str, Any]:
    """Score every condition of ``which`` and write its predictions and metrics to ``out``. With ``reuse``, a
    prediction ``out`` already holds for a record under the same condition and instruction is kept and only the
    other pairs run; the metrics always cover all of ``records``.

    ``metrics.json`` holds every condition's metrics (and ``noisy``, all noise types pooled, where there are
    several), the paired gap of each condition to raw with its bootstrap interval (``gaps``), the spread over
    each family of instructions (``sensitivity``) and, under ``transfer``, the families whose instructions were
    searched on another model (``transfers``).
    """
    chat = uses_chat(tokenizer, options.prompt_style)
    plan = {condition: pairs for name_of in which for condition, pairs in conditions(records, name_of).items()}
    check_scoring([r for pairs in plan.values() for r, _ in pairs], options.scoring)
    earlier = predictions_in(out) if reuse else {}
    summary: dict[str, Any] = {"conditions": {}}
    rows: dict[str, list[dict[str, Any]]] = {}
    openings = Openings()
    for condition, pairs in plan.items():
        summary["conditions"][condition], rows[condition] = score_condition(model, tokenizer, condition, pairs, chat,
                                                                            out, options, earlier, openings)
    by_id = {r["id"]: r for r in records}
    noisy = [c for c in rows if c.startswith("noisy-")]
    if len(noisy) > 1:
        rows["noisy"] = [row for c in noisy for row in rows[c]]
        summary["conditions"]["noisy"] = condition_metrics([(by_id[row["id"]], row["parsed"]) for row in rows["noisy"]])
    summary["gaps"] = condition_gaps(rows, by_id, options.seed)
    summary["sensitivity"] = sensitivity(summary["conditions"], summary["gaps"])
    if transfer:
        summary["transfer"] = transfer
    write_json(out / "metrics.json", summary)
    return summary


def check_scoring(records: Sequence[dict[str, Any]], scoring: str) -> None:
    """Choice scoring ranks a record's options, so every record must have options and be of a task whose answer is
    one of them (scored by accuracy: tc, or a label task of your own), not a list of items."""
    if scoring != "choice":
        return
    bad = next((r for r in records if TASKS.get(r["task"]).primary != "accuracy" or not r.get("options")), None)
    if bad is not None:
        raise AnitError(f"--scoring choice ranks label options and needs label records (one option per answer) with "
                        f"options; record {bad['id']!r} is of task {bad['task']!r}"
                        + ("" if bad.get("options") else " and has none") + "; use --scoring generate")


def predictions_in(out: Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The prediction rows an evaluation wrote to ``out``, by (condition, record id, instruction)."""
    return {(row["condition"], row["id"], row["instruction"]): row
            for path in sorted(out.glob("*.predictions.jsonl")) for row in read_jsonl(path)}


def predict(model: Any, tokenizer: Any, pairs: Sequence[tuple[dict[str, Any], str]], chat: bool,
            options: EvalOptions, progress: str | None = None, openings: Openings | None = None) -> list[str]:
    """The model's answer text for each (record, instruction): generated, or the best option (``choice``);
    ``openings`` keeps the KV caches of prompt openings across calls on the same model."""
    if not pairs:
        return []
    prompts = [task_prompt(tokenizer, r, ins, chat) for r, ins in pairs]
    if isinstance(model, ServedModel):
        return served_predict(model, tokenizer, pairs, prompts, chat, options)
    if options.scoring == "choice":
        return choice_predictions(model, tokenizer, prompts, [r["options"] for r, _ in pairs], chat,
                                  options.batch_size, openings)
    budget = options.max_new_tokens or max(TASKS.get(r["task"]).max_new_tokens for r, _ in pairs)
    return generate(model, tokenizer, prompts, budget, options.batch_size, options.do_sample, options.temperature,
                    seed=options.seed, progress=progress, openings=openings)


def served_predict(served: ServedModel, tokenizer: Any, pairs: Sequence[tuple[dict[str, Any], str]],
                   prompts: list[str], chat: bool, options: EvalOptions) -> list[str]:
    """``predict`` through a served model: the same prompts (as token ids), options and budget."""
    if options.scoring == "choice":
        if tokenizer is None:
            raise AnitError("--scoring choice with --backend openai needs --model (the served model's tokenizer) to "
                            "split each prompt from its options' tokens")
        rows = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        flat = [(k, o) for k, (r, _) in enumerate(pairs) for o in r["options"]]
        ids = {o: tokenizer(answer_text(o, chat), add_special_tokens=False)["input_ids"] for _, o in flat}
        scores = served.option_logprobs([rows[k] for k, _ in flat], [ids[o] for _, o in flat])
        best: dict[int, tuple[float, str]] = {}
        for (k, o), score in zip(flat, scores):
            if k not in best or score > best[k][0]:
                best[k] = (score, o)
        return [best[k][1] for k in range(len(pairs))]
    budget = options.max_new_tokens or max(TASKS.get(r["task"]).max_new_tokens for r, _ in pairs)
    return served.generate(prompts, [context_block(r, ins) for r, ins in pairs], budget)


def score_condition(model: Any, tokenizer: Any, condition: str, pairs: Sequence[tuple[dict[str, Any], str]],
                    chat: bool, out: Path, options: EvalOptions,
                    earlier: dict[tuple[str, str, str], dict[str, Any]] | None = None,
                    openings: Openings | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Metrics and prediction rows of one condition; the pairs ``earlier`` holds a row for are not run again."""
    earlier = earlier or {}
    todo = [(r, ins) for r, ins in pairs if (condition, r["id"], ins) not in earlier]
    generations = predict(model, tokenizer, todo, chat, options, progress=condition, openings=openings)
    new = {}
    for (record, instruction), text in zip(todo, generations):
        task = TASKS.get(record["task"])
        parsed = task.parse_answer(text, record["options"])
        new[(condition, record["id"], instruction)] = {
            "id": record["id"], "dataset": record["dataset"], "condition": condition, "instruction": instruction,
            "input": record["input"], "generation": text, "parsed": parsed, "gold": record["gold"],
            "correct": task.correct(parsed, record["gold"]),
            "distortion": record.get("distortion", {}) if condition.startswith("noisy") else {}}
    rows = [new.get((condition, r["id"], ins)) or earlier[(condition, r["id"], ins)] for r, ins in pairs]
    write_jsonl(out / f"{condition}.predictions.jsonl", rows)
    metrics = condition_metrics([(r, row["parsed"]) for (r, _), row in zip(pairs, rows)])
    write_json(out / f"{condition}.metrics.json", metrics)
    return metrics, rows


def condition_metrics(parsed_answers: Sequence[tuple[dict[str, Any], Any]]) -> dict[str, Any]:
    """Per dataset: its task's metrics over (record, parsed answer) pairs; a parsed structure may be a list of
    lists, as a predictions file holds it."""
    by_dataset: dict[tuple[str, str], tuple[list, list, list]] = defaultdict(lambda: ([], [], []))
    for record, parsed in parsed_answers:
        preds, golds, opts = by_dataset[(record["dataset"], record["task"])]
        preds.append(parsed)
        golds.append(record["gold"])
        opts[:] = record["options"]
    return {dataset: {"task": task, **TASKS.get(task).metric(p, g, o)}
            for (dataset, task), (p, g, o) in by_dataset.items()}


def eval_precision(trained: Any, dtype: str | None, quantization: str | None, cuda: bool
                   ) -> tuple[str, str | None, str | None]:
    """The dtype and quantization to load the base in, and a note when the adapter's own cannot be used.

    Given ones win (``quantization="none"`` asks for a float base); else the adapter's training setting
    (``trained``, a TrainConfig or None), so a QLoRA adapter is scored on the same 4-bit base. Without
    CUDA, inherited half precision and quantization fall back to float32 with a note.
    """
    chosen_dtype = dtype or (trained.dtype if trained else "auto")
    chosen_q = None if quantization == "none" else quantization or (trained.quantization if trained else None)
    if cuda:
        return chosen_dtype, chosen_q, None
    dropped = []
    if dtype is None and chosen_dtype not in ("auto", "float32", "fp32"):
        dropped.append(f"dtype {chosen_dtype}")
    if quantization is None and chosen_q:
        dropped.append(f"{chosen_q} quantization")
    if not dropped:
        return chosen_dtype, chosen_q, None
    note = f"the adapter was trained with {' and '.join(dropped)}, which needs CUDA; evaluating in float32 instead"
    return ("auto" if dtype is None else chosen_dtype), (chosen_q if quantization else None), note


def load_for_eval(model_name: str, adapter: str | None, trust_remote_code: bool = False, dtype: str = "auto",
                  quantization: str | None = None) -> tuple[Any, Any]:
    from anit.models import gpu_map, load_model, load_tokenizer

    saved = adapter is not None and (Path(adapter) / "tokenizer_config.json").exists()
    tokenizer = load_tokenizer(adapter if saved else model_name, trust_remote_code)
    model = load_model(model_name, dtype, quantization, trust_remote_code, device_map=gpu_map())
    if adapter:
        model = with_adapter(model, adapter, merge=quantization is None)
    model.eval()
    return model, tokenizer


def with_adapter(model: Any, adapter: str | Path, merge: bool = True) -> Any:
    """``model`` with the LoRA adapter saved at ``adapter``, merged into its weights with ``merge``: one matmul per
    layer instead of three, the same function to float rounding, and faster to score with (``python -m bench.speed
    --parts adapter``). A quantized model keeps the adapter beside its weights: merging would round it into them."""
    from peft import PeftModel

    adapted = PeftModel.from_pretrained(model, str(adapter))
    return (adapted.merge_and_unload() if merge else adapted).eval()
