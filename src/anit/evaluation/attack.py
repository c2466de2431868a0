"""Worst-case instructions: a budgeted, seeded, cached search for the wordings that lower a model's dev score most.

PromptBench attacks a prompt by perturbing it and keeping what hurts; here the candidates are anit's own noise
types at several rates and seeds, the model-written paraphrase and opposite rewrites, the task's held-out pool and a
user's instructions (round 0), then compositions: the worst instructions so far get a second operation (word-level
noise followed by a character-level typo, as TextBugger and DeepWordBug combine them), beam-style, until the
budget of candidate evaluations is spent::

    worst = attack(evaluator, "tc", base, cfg)   # [Candidate(instruction, origin, score, ...)], worst first

Each evaluation is one pass over the dev records of the task. Under accuracy a candidate stops early once even
all-wrong answers on its remaining records could not bring it among the worst ``top_k`` (its score is then a
lower bound and it is marked incomplete). Test records are never seen here.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from anit.evaluation.robustness import record_stats, score_from
from anit.noise.operators import NOISES
from anit.tasks import TASKS

CHAR_LEVEL = ("char_typo",)
"""Noise types that change characters inside words: the second operation of a composition."""


@dataclass
class Candidate:
    instruction: str
    origin: str
    score: float | None = None
    scored: int = 0
    complete: bool = False
    right: str | None = None
    """Per dev record in data order: "1" right, "0" wrong, "." not scored (accuracy only)."""

    @property
    def key(self) -> str:
        return self.instruction


def rule_candidates(base: str, rates: Sequence[float], seeds: Sequence[int], names: Sequence[str] | None = None,
                    prefix: str = "") -> list[Candidate]:
    """``base`` under every rule-based noise type (or ``names``) at every rate and seed; unchanged ones dropped."""
    out = []
    for name in names or [n for n in NOISES if not NOISES.get(n).batched]:
        for rate in rates:
            for seed in seeds:
                noisy = NOISES.get(name).apply(base, rate, random.Random(f"attack:{seed}:{name}:{rate}"), "fixed")
                if noisy.text != base:
                    out.append(Candidate(noisy.text, f"{prefix}{name}:{rate:g}@{seed}"))
    return out


def unique(candidates: Sequence[Candidate], seen: set[str]) -> list[Candidate]:
    """Candidates whose instruction is not in ``seen`` (which grows), first occurrence kept."""
    out = []
    for candidate in candidates:
        if candidate.key not in seen:
            seen.add(candidate.key)
            out.append(candidate)
    return out


OVERHEAD = 40
"""Characters a record's prompt costs beyond its input (its line prefix, end of turn, the answer's opening)."""


class Evaluator:
    """Scores an instruction on a task's dev records with ``predict(pairs) -> answer texts``.

    Under accuracy with a ``threshold`` (the score a candidate must stay at or under to enter the worst k), the
    records answered right most often so far (``learn``: the raw instruction and every candidate) per unit of
    length run first, and each call runs just enough records that the candidate could exceed the
    threshold (at least ``chunk``); it stops as soon as its right answers alone exceed the threshold over all
    records, so its final score could not. Otherwise one call runs every record.
    """

    def __init__(self, predict: Callable[[list[tuple[dict[str, Any], str]]], list[str]],
                 records: Sequence[dict[str, Any]], chunk: int = 4) -> None:
        self.predict, self.records, self.chunk = predict, list(records), max(1, chunk)
        self.tally: dict[str, np.ndarray] = {}

    def learn(self, task: str, right: str | None) -> None:
        """Count a scored candidate's answers (``right`` as ``score`` returns it) towards the order."""
        if right:
            tally = self.tally.setdefault(task, np.zeros((len(right), 2)))
            tally[:, 0] += [c == "1" for c in right]
            tally[:, 1] += [c != "." for c in right]

    def order(self, task: str, records: Sequence[dict[str, Any]]) -> list[int]:
        """Records by right answers per unit of cost: how often each was answered right (add-one smoothed) over
        its length in characters plus ``OVERHEAD`` (the prompt's own tail), the cheapest right answers first."""
        tally = self.tally.get(task, np.zeros((len(records), 2)))
        rate = (tally[:, 0] + 1) / (tally[:, 1] + 2)
        return sorted(range(len(records)), key=lambda i: -rate[i] / (len(records[i]["input"]) + OVERHEAD))

    def score(self, task: str, instruction: str, threshold: float | None = None
              ) -> tuple[float, int, bool, str | None]:
        """(score, records scored, complete, per record in data order "1" right, "0" wrong or "." not scored; None
        unless the task's metric is accuracy)."""
        spec = TASKS.get(task)
        records = [r for r in self.records if r["task"] == task]
        n = len(records)
        early = threshold is not None and spec.primary == "accuracy"
        order = self.order(task, records) if early else list(range(n))
        counts: dict[int, tuple[float, ...]] = {}
        right = 0.0
        while len(counts) < n:
            size = n - len(counts)
            if early:
                size = min(size, max(self.chunk, int(np.floor(threshold * n)) + 1 - int(right)))
            part = order[len(counts):len(counts) + size]
            for i, text in zip(part, self.predict([(records[i], instruction) for i in part])):
                counts[i] = record_stats(task, spec.parse_answer(text, records[i]["options"]), records[i]["gold"])
                right += counts[i][0] if spec.primary == "accuracy" else 0
            if early and len(counts) < n and right / n > threshold:
                break
        marks = ("".join("." if i not in counts else "1" if counts[i][0] == 1 else "0" for i in range(n))
                 if spec.primary == "accuracy" else None)
        if len(counts) < n:
            return right / n, len(counts), False, marks
        sums = np.asarray([counts[i] for i in range(n)], dtype=np.float64).sum(0)
        return float(score_from(task, sums)), n, True, marks


class Cache:
    """Scored candidates as JSON lines, so a stopped attack resumes without re-scoring."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.held: dict[tuple[str, str], Candidate] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    task = row.pop("task")
                    self.held[(task, row["instruction"])] = Candidate(**row)

    def get(self, task: str, instruction: str) -> Candidate | None:
        return self.held.get((task, instruction))

    def put(self, task: str, candidate: Candidate) -> None:
        self.held[(task, candidate.key)] = candidate
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"task": task, **asdict(candidate)}, ensure_ascii=False) + "\n")


def threshold_of(scored: Sequence[Candidate], top_k: int) -> float | None:
    """The score a candidate must stay at or under to enter the worst ``top_k`` (None until ``top_k`` exist)."""
    complete = sorted(c.score for c in scored if c.complete and c.score is not None)
    return complete[top_k - 1] if len(complete) >= top_k else None


def at_floor(scored: Sequence[Candidate], top_k: int) -> bool:
    """Whether the worst ``top_k`` scored all score 0, the lowest a score can be: a later candidate could only tie."""
    return threshold_of(scored, top_k) == 0


def search(evaluate: Callable[[Candidate, float | None], Candidate], first: Sequence[Candidate],
           expand: Callable[[Candidate, int], list[Candidate]], budget: int, top_k: int, beam: int,
           rng: random.Random, progress: Callable[[Candidate], None] = lambda c: None,
           pinned: Sequence[Candidate] = ()) -> list[Candidate]:
    """The budgeted search: up to ``budget`` evaluations. The ``pinned`` candidates (a user's own instructions) run
    first, in their order; round 0 then draws from ``first`` (shuffled with ``rng``, at most two thirds of the
    budget left when there are more candidates than that), then rounds ``expand`` the ``beam`` worst with a further
    operation (the rest of round 0 queues behind the first of them). Once the user's candidates ran and the worst
    ``top_k`` score 0, the lowest any score can be, the search stops: a later candidate could only tie, and ties
    keep the order they were scored in. Returns every scored candidate, worst first."""
    seen: set[str] = set()
    ahead = unique(pinned, seen)
    pool = unique(first, seen)
    rng.shuffle(pool)
    left = max(0, budget - len(ahead))
    cut = max(1, (2 * left) // 3) if len(pool) > left else len(pool)
    opening, rest = ahead + pool[:cut], pool[cut:]
    scored: list[Candidate] = []

    def spent() -> bool:
        return len(scored) >= budget or (len(scored) >= len(ahead) and at_floor(scored, top_k))

    def run(batch: Iterator[Candidate]) -> None:
        for candidate in batch:
            if spent():
                return
            done = evaluate(candidate, threshold_of(scored, top_k))
            scored.append(done)
            progress(done)

    run(iter(opening))
    depth = 1
    while not spent():
        worst = sorted((c for c in scored if c.complete), key=lambda c: c.score)[:beam]
        grown = unique([child for parent in worst for child in expand(parent, depth)], seen)
        rng.shuffle(grown)
        grown += rest if depth == 1 else []
        if not grown:
            break
        run(iter(grown))
        depth += 1
    return sorted(scored, key=lambda c: (not c.complete, c.score))


def compositions(rates: Sequence[float], seeds: Sequence[int], allowed: Sequence[str] | None = None
                 ) -> Callable[[Candidate, int], list[Candidate]]:
    """A second operation on a candidate: a character-level typo on a word-level result (TextBugger's order), or a
    word-level noise on a typo'd or model-written one."""

    def expand(parent: Candidate, depth: int) -> list[Candidate]:
        char_level = parent.origin.split("+")[-1].split(":")[0] in CHAR_LEVEL
        rules = [n for n in allowed or NOISES.names() if not NOISES.get(n).batched]
        names = [n for n in rules if (n in CHAR_LEVEL) != char_level]
        if not names:
            return []
        return rule_candidates(parent.instruction, rates, [s + 1000 * depth for s in seeds], names,
                               prefix=parent.origin + "+")

    return expand


def fingerprint(cfg: Any, records: Sequence[dict[str, Any]], model_name: str) -> dict[str, Any]:
    """What an attack's scores depend on; a cache made under another fingerprint is not reused."""
    import hashlib

    digest = hashlib.sha256(json.dumps([[r["id"], r["input"], r["gold"]] for r in records]).encode()).hexdigest()
    return {"model": model_name, "adapter": cfg.adapter, "data_sha256": digest, "scoring": cfg.scoring,
            "max_new_tokens": cfg.max_new_tokens, "prompt_style": cfg.prompt_style}


def check_reuse(cfg: Any, records: Sequence[dict[str, Any]], model_name: str | None = None) -> None:
    """Stop (one line) where ``cfg.reuse`` holds an attack on another model, adapter, data or scoring than this one:
    its scores would not be this attack's. Without ``model_name`` (before the model loads) the model is not
    compared."""
    from anit.errors import AnitError

    if not cfg.reuse:
        return
    stamp = Path(cfg.reuse) / "fingerprint.json"
    held, here = json.loads(stamp.read_text()), fingerprint(cfg, records, model_name)
    differ = [key for key in here if (key != "model" or model_name is not None) and held.get(key) != here[key]]
    if differ:
        raise AnitError(f"--reuse {cfg.reuse}: its attack differs from this one in {', '.join(differ)} ({stamp}), "
                        "so its scores are not this attack's")


def candidate_family(origin: str) -> str:
    """The kind of candidate an origin names, by its first operation: unseen, file, paraphrase, opposite, or noise
    (a rule-based type); a composition belongs to the family it started from."""
    root = origin.split("+", 1)[0].split("-", 1)[0]
    return root if root in ("unseen", "file", "paraphrase", "opposite") else "noise"


def first_candidates(task: str, base: str, cfg: Any, rewriter: Any, user: dict[str, list[str]]) -> list[Candidate]:
    """Round 0 from the families ``cfg.families`` asks for: rule-based noise of ``base``, the held-out pool, the
    user's file and the model's rewrites (the rewrite model runs only for a family asked for)."""
    wanted: list[Candidate] = []
    if "unseen" in cfg.families:
        wanted += [Candidate(text, f"unseen-{k}") for k, text in enumerate(TASKS.get(task).unseen_instructions)]
    if "file" in cfg.families:
        wanted += [Candidate(text, f"file-{k}") for k, text in enumerate(user.get(task, []))]
    for kind in ("paraphrase", "opposite"):
        if rewriter is not None and kind in cfg.families:
            wanted += [Candidate(text, f"{kind}-{k}") for k, text in enumerate(rewriter.variants(kind, [base])[base])]
    if "noise" in cfg.families:
        wanted += rule_candidates(base, cfg.rates, range(cfg.noise_seeds), cfg.noises)
    return [c for c in wanted if c.instruction != base]


def rewrite_ahead(records: Sequence[dict[str, Any]], rewriter: Any, families: Sequence[str]) -> None:
    """Writes to ``rewriter``'s cache the rewrites each task's attack on ``records`` draws (:func:`first_candidates`),
    so attacks running at once in other processes read the same ones instead of each sampling its own."""
    for task in sorted({r["task"] for r in records}):
        base, _ = raw_instruction([r for r in records if r["task"] == task])
        for kind in ("paraphrase", "opposite"):
            if kind in families:
                rewriter.variants(kind, [base])


def within(candidates: Sequence[Candidate], base: str, bound: float | None, scorer: Any) -> list[Candidate]:
    """The candidates whose distortion from ``base`` (``scorer``) is at most ``bound`` (all of them when None)."""
    if bound is None or not candidates:
        return list(candidates)
    distortion = scorer.score([base] * len(candidates), [c.instruction for c in candidates])
    return [c for c, d in zip(candidates, distortion) if d <= bound]


def run_attack(cfg: Any, predict: Callable[[list[tuple[dict[str, Any], str]]], list[str]],
               records: Sequence[dict[str, Any]], model_name: str, rewriter: Any = None,
               user: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Attack every task among ``records`` and write ``worst.yaml``, ``attack.json`` and the cache to ``cfg.out``;
    returns what attack.json holds."""
    import shutil

    import yaml

    from anit.distortion import resolve_scorers
    from anit.errors import AnitError
    from anit.evaluation.run import found_on
    from anit.jsonl import atomic_path, write_json

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    print_ = fingerprint(cfg, records, model_name)
    stamp = out / "fingerprint.json"
    if stamp.exists() and json.loads(stamp.read_text()) != print_:
        raise AnitError(f"{out}: holds an attack on another model, data or scoring ({stamp}); choose another --out")
    write_json(stamp, print_)
    check_reuse(cfg, records, model_name)
    if cfg.reuse and not (out / "candidates.jsonl").exists() and (Path(cfg.reuse) / "candidates.jsonl").exists():
        shutil.copyfile(Path(cfg.reuse) / "candidates.jsonl", out / "candidates.jsonl")
    # generation decodes a batch step by step: a call smaller than a batch would waste its steps
    chunk = 4 if cfg.scoring == "choice" else cfg.batch_size
    cache, evaluator = Cache(out / "candidates.jsonl"), Evaluator(predict, records, chunk)
    scorer = resolve_scorers(["hard"])[0]
    report: dict[str, Any] = {"settings": {k: v for k, v in vars(cfg).items()}, "fingerprint": print_, "tasks": {}}
    worst_yaml: dict[str, list[dict[str, Any]]] = {}
    where = found_on(model_name, cfg.adapter)
    for task in sorted({r["task"] for r in records}):
        report["tasks"][task] = attack_task(task, cfg, evaluator, cache, scorer, rewriter, user or {})
        ranked = report["tasks"][task]["ranked"][:cfg.top_k]
        worst_yaml[task] = [shown_row({**row, "found_on": where}) for row in ranked]
    with atomic_path(out / "worst.yaml") as tmp:
        tmp.write_text("# The worst instructions found on dev, worst first; `anit eval --instructions` takes this "
                       "file as it is.\n" + yaml.safe_dump(worst_yaml, sort_keys=False, allow_unicode=True,
                                                            width=1000), encoding="utf-8")
    write_json(out / "attack.json", report)
    return report


def shown_row(row: dict[str, Any]) -> dict[str, Any]:
    """A worst.yaml entry as a person reads it: scores to 4 decimals (1 - 0.333/0.417 is 0.2, not
    0.20000000000000007), every mapping its own (so YAML writes no anchors)."""
    return {key: shown_row(value) if isinstance(value, dict) else round(value, 4) if isinstance(value, float)
            else value for key, value in row.items()}


def raw_instruction(records: Sequence[dict[str, Any]]) -> tuple[str, int]:
    """The instruction the records of one task carry (what they were trained and are scored under as raw), and how
    many different ones they carry: where several, the attack perturbs the most common (the first on a tie)."""
    counts = Counter(r["instruction"] for r in records)
    return counts.most_common(1)[0][0], len(counts)


def attack_task(task: str, cfg: Any, evaluator: Evaluator, cache: Cache, scorer: Any, rewriter: Any,
                user: dict[str, list[str]]) -> dict[str, Any]:
    """One task's search; its raw dev score (not counted in the budget) and every scored candidate, worst first."""
    import time

    from tqdm.auto import tqdm

    base, bases = raw_instruction([r for r in evaluator.records if r["task"] == task])
    started, fresh = time.perf_counter(), 0
    raw = cache.get(task, base) or Candidate(base, "raw")
    if not raw.complete or (raw.right is None and TASKS.get(task).primary == "accuracy"):
        raw.score, raw.scored, raw.complete, raw.right = evaluator.score(task, base)
        cache.put(task, raw)
    evaluator.learn(task, raw.right)
    bar = tqdm(total=cfg.budget, desc=f"attack {task}", leave=False)

    def evaluate(candidate: Candidate, threshold: float | None) -> Candidate:
        nonlocal fresh
        held = cache.get(task, candidate.instruction)
        if held is not None and (held.complete or (threshold is not None and held.score > threshold)):
            evaluator.learn(task, held.right)
            return Candidate(held.instruction, candidate.origin, held.score, held.scored, held.complete, held.right)
        candidate.score, candidate.scored, candidate.complete, candidate.right = evaluator.score(
            task, candidate.instruction, threshold)
        evaluator.learn(task, candidate.right)
        cache.put(task, candidate)
        fresh += 1
        return candidate

    grow = compositions(cfg.rates[:1], range(cfg.noise_seeds), cfg.noises)
    first = first_candidates(task, base, cfg, rewriter, user)
    bounded = within(first, base, cfg.max_distortion, scorer)
    outside = len(first) - len(bounded)
    own = unique([c for c in bounded if candidate_family(c.origin) == "file"], set())
    others = [c for c in bounded if candidate_family(c.origin) != "file"]

    def expand(parent: Candidate, depth: int) -> list[Candidate]:
        """A composition adds rule-based noise: only where the noise family is searched, within the bound."""
        nonlocal outside
        children = grow(parent, depth) if "noise" in cfg.families else []
        kept = within(children, base, cfg.max_distortion, scorer)
        outside += len(children) - len(kept)
        return kept

    ranked = search(evaluate, others, expand, cfg.budget, cfg.top_k, cfg.beam,
                    random.Random(cfg.seed), progress=lambda c: bar.update(1), pinned=own)
    bar.close()
    complete = [c for c in ranked if c.complete]
    distortion = scorer.score([base] * len(complete), [c.instruction for c in complete])
    rows = [{"instruction": c.instruction, "dev_score": c.score, "raw_dev_score": raw.score,
             "pdr": 1 - c.score / raw.score if raw.score else None, "origin": c.origin,
             "family": candidate_family(c.origin), "distortion": {scorer.name: d}}
            for c, d in zip(complete, distortion)]
    return {"raw_instruction": base, "raw_instructions": bases, "raw_dev_score": raw.score, "dev_records": raw.scored,
            "evaluated": len(ranked), "at_floor": len(ranked) < cfg.budget and at_floor(ranked, cfg.top_k),
            "newly_scored": fresh, "stopped_early": sum(not c.complete for c in ranked),
            "outside_bound": outside, "own": len(own),
            "own_scored": len({c.key for c in own} & {c.key for c in ranked}), "seconds": time.perf_counter() - started,
            "ranked": rows}


def attack_model(model: Any, tokenizer: Any, records: Sequence[dict[str, Any]], out: str | Path | None = None, *,
                 config: Any = None, name: str | None = None, style: str | None = None, rewriter: Any = None,
                 user: dict[str, list[str]] | None = None, **options: Any) -> dict[str, Any]:
    """``anit attack`` on a loaded model (in-process or served): the settings are ``config`` (an AttackConfig) or
    AttackConfig's fields as ``options`` with ``out``; ``style`` the prompt style (default: the config's, else
    auto), ``rewriter`` a Rewriter to share (default: one caching in ``out``), ``user`` your own candidate
    instructions per task. Writes worst.yaml to the output folder and returns what attack.json holds."""
    from anit.evaluation.config import AttackConfig
    from anit.evaluation.run import EvalOptions, check_scoring, predict
    from anit.generation import Openings
    from anit.noise.rewrite import Rewriter
    from anit.tasks.prompt import uses_chat

    cfg = config or AttackConfig(out=str(out), **options)
    check_scoring(records, cfg.scoring)
    style = style or cfg.prompt_style or "auto"
    chat, evaluation = uses_chat(tokenizer, style), EvalOptions(cfg.batch_size, cfg.max_new_tokens, cfg.scoring,
                                                                seed=cfg.seed, prompt_style=style)
    if rewriter is None and cfg.rewrites:
        rewriter = Rewriter(cfg.rewrite_model, cache_path=Path(cfg.out) / "rewrites.json", seed=cfg.seed,
                            k=cfg.rewrites)
    name = name or getattr(getattr(model, "config", None), "name_or_path", "model")
    openings = Openings()
    return run_attack(cfg, lambda pairs: predict(model, tokenizer, pairs, chat, evaluation, openings=openings),
                      records, name, rewriter, user)
