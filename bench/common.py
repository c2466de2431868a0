"""Shared by the benchmark scripts: machine facts, step timing, and writing results to docs/ with the command."""

from __future__ import annotations

import datetime
import json
import os
import platform
import queue
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

from bench.robustness_page import ANSWER, lead, other_runs, sizes

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
Item = TypeVar("Item")


def machine() -> dict[str, Any]:
    import torch

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpu": cpu, "cores": os.cpu_count(), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "python": platform.python_version(), "date": datetime.date.today().isoformat()}


def in_parallel(commands: list[list[str]], jobs: int) -> None:
    """Runs ``commands``, ``jobs`` at a time, each in a slot of the machine (:func:`anit.parallel.machine_slots`: a GPU
    of its own where there are GPUs, else its share of the CPU threads); stops naming every command that failed once
    all have ended (the runs that finished are kept and reused on the next try)."""
    from anit.parallel import machine_slots

    free: queue.Queue = queue.Queue()
    for env in machine_slots(jobs):
        free.put(env)

    def run(argv: list[str]) -> int:
        env = free.get()
        try:
            return subprocess.run(argv, env={**os.environ, **env}).returncode
        finally:
            free.put(env)

    with ThreadPoolExecutor(jobs) as pool:
        codes = list(pool.map(run, commands))
    failed = [f"{shlex.join(argv)} (exit {code})" for argv, code in zip(commands, codes) if code]
    if failed:
        raise SystemExit("worker failed: " + "; ".join(failed))


class Timer:
    """A TrainerCallback recording each optimizer step's wall time (the GPU's queue drained at each end)."""

    def __init__(self):
        import torch
        from transformers import TrainerCallback

        timer = self

        class Callback(TrainerCallback):
            def on_step_begin(self, args, state, control, **kwargs):
                timer.start = time.perf_counter()

            def on_step_end(self, args, state, control, **kwargs):
                if torch.cuda.is_available():
                    torch.cuda.synchronize()
                timer.times.append(time.perf_counter() - timer.start)

        self.times: list[float] = []
        self.callback = Callback()


def counting(collate, tokens: list[int]):
    """``collate``, also recording each batch's real (unpadded) token count in ``tokens``."""

    def wrapped(features):
        batch = collate(features)
        tokens.append(int(batch["attention_mask"].sum()))
        return batch

    return wrapped


def timed_nrm_training(cfg: Any, model: Any, tokenizer: Any, dataset: Any) -> tuple[Any, list[float], list[int]]:
    """Train ``model`` with the NRMTrainer as ``cfg`` says; the trainer, each step's wall time and each
    batch's real token count."""
    from anit.training.run import build_trainer

    tokens: list[int] = []
    timer = Timer()
    trainer = build_trainer(cfg, model, tokenizer, dataset, callbacks=[timer.callback],
                            collate=lambda collator: counting(collator, tokens))
    trainer.train()
    return trainer, timer.times, tokens


def command() -> str:
    """The command line this script runs under, as the docs stamp it (``python -m bench.X`` when run as a module)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None and spec.name.startswith("bench."):
        return f"python -m {spec.name} " + shlex.join(sys.argv[1:])
    return "python " + shlex.join(sys.argv)


def in_place(old: list[Item], fresh: dict[str, list[Item]], key: Callable[[Item], str]) -> list[Item]:
    """``old`` with the items of each key in ``fresh`` (key -> its new items) replaced by the new ones where the first
    of them stood; keys new to ``old`` come last. So re-measuring a table does not reorder docs/."""
    merged, pending = [], dict(fresh)
    for item in old:
        where = key(item)
        if where not in fresh:
            merged.append(item)
        elif where in pending:
            merged += pending.pop(where)
    return merged + [item for items in pending.values() for item in items]


def save(name: str, title: str, sections: list[tuple[str, list[dict[str, Any]]]], notes: list[str],
         measured_on: dict[str, dict[str, Any]] | None = None) -> None:
    """Write docs/benchmarks/<name>.json and re-render docs/BENCHMARKS.md from every result file.

    Sections measured now replace those of the same heading where they stood (new headings come last); others (from
    an earlier, partial run) stay, each with the command and date that produced it. A section is stamped with this
    command and machine, or with ``measured_on[heading]`` (its ``machine`` and, where it records one, its
    ``command``) where its runs were measured elsewhere or earlier and only summarised here; the summarising command
    is then kept too.
    """
    path = DOCS / "benchmarks" / f"{name}.json"
    here = {"command": command(), "machine": machine()}
    new = []
    for heading, rows in sections:
        ran = {**here, **(measured_on or {}).get(heading, {})}
        section = {"heading": heading, "rows": rows, "command": ran["command"], "machine": ran["machine"]}
        if ran["command"] != here["command"]:
            section["summarised"] = here["command"]
        new.append(section)
    old = json.loads(path.read_text())["sections"] if path.exists() else []
    merged = in_place(old, {section["heading"]: [section] for section in new}, lambda section: section["heading"])
    payload = {"title": title, "sections": merged, "notes": notes}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
    render()


def number(value: float) -> str:
    """A measurement as a reader wants it: 0.810, 12.4, 1,234, 93k."""
    if abs(value) >= 1e4:
        return f"{value / 1e3:,.0f}k"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"


def _table(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["(no rows)"]
    keys = list(dict.fromkeys(k for row in rows for k in row))

    def cell(value: Any) -> str:
        return number(value) if isinstance(value, float) else str(value)

    return ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)] + [
        "| " + " | ".join(cell(row.get(k, "")) for k in keys) + " |" for row in rows]


INTERRUPTED = 130
"""The exit status of a benchmark stopped with Ctrl-C (as the anit commands use)."""


def run_benchmark(main: Callable[[], None], resumable: bool = False) -> None:
    """A benchmark's entry point: Ctrl-C stops it with one line and exit status 130, not a traceback (a resumable
    one keeps every stage it finished, and the same command continues from there)."""
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted" + ("; the stages it finished are kept: run the same command to continue" if resumable
                               else ""), file=sys.stderr)
        raise SystemExit(INTERRUPTED) from None


ORDER = ("robustness", "speed", "served", "quality", "perturbation", "gpu")
"""docs/BENCHMARKS.md's order: by importance (the answer first, the CUDA path checks on random weights last)."""


def notes_by_section(headings: list[str], notes: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Each note under the section it speaks of (its ``scope:`` prefix starts that heading; the longest such scope
    wins), the rest general: so a verdict sits under its table, not in a pool after all of them."""
    general: list[str] = []
    placed: dict[str, list[str]] = {heading: [] for heading in headings}
    for note in notes:
        scope = note.split(": ", 1)[0] if ": " in note else ""
        matches = [h for h in headings if scope and (h == scope or h.startswith(scope + ":"))]
        matches = matches or [h for h in headings if scope and h.startswith(scope)]
        if matches:
            placed[min(matches, key=len)].append(note.split(": ", 1)[1])
        else:
            general.append(note)
    return general, placed


DETAIL = "knob tuning on dev"
"""Sections of this kind are per-run detail: they go to docs/benchmarks/<name>-detail.md, linked from BENCHMARKS.md."""


def is_detail(heading: str) -> bool:
    return DETAIL in heading


def _sections(sections: list[dict[str, Any]], placed: dict[str, list[str]]) -> list[str]:
    """Each section's heading, where it ran (said once while the command and machine stay the same), table and
    notes."""
    lines, shown = [], None
    for section in sections:
        m = section["machine"]
        ran = (section["command"], m["cpu"], m["date"])
        stamp = (f"`{section['command']}` on {m['cpu']}, {m['cores']} cores ({m['threads']} torch threads), "
                 f"torch {m['torch']}, GPU: {m['cuda'] or 'none'}, Python {m['python']}, {m['date']}."
                 if ran != shown else "Same command and machine as above.")
        if "summarised" in section:
            stamp += f" Summarised from its work folder by `{section['summarised']}`."
        shown = ran
        lines += [f"### {section['heading']}", "", stamp, ""] + _table(section["rows"]) + [""]
        lines += [f"- {note}" for note in placed[section["heading"]]] + ([""] if placed[section["heading"]] else [])
    return lines


def render() -> None:
    lines = ["# Benchmarks", "", "Written by the scripts in `bench/`; each section gives the command, the machine "
             "and the date it was measured on. Numbers are measurements, not claims about other machines.", ""]
    robustness = DOCS / "benchmarks" / f"{ANSWER}.json"
    if robustness.exists():
        summary = json.loads(robustness.read_text())
        lines += ["## Robustness: the answer", "", f"Multi-task LoRA ({sizes(summary['settings'])}), each model "
                  f"attacked on dev and scored on test (tables, intervals and command: [benchmarks/{ANSWER}.md]"
                  f"(benchmarks/{ANSWER}.md)):", ""]
        lines += [lead(summary), ""] if lead(summary) else []
        if (DOCS / "benchmarks" / f"{ANSWER}.png").exists():
            lines += [f"![worst-case drop rate per method and dataset, with the goal's band](benchmarks/{ANSWER}.png)",
                      ""]
        lines += [f"- {v['text']}" for v in summary.get("verdicts", {}).get("generate", [])] + [""]
        if summary.get("headline_near", {}).get("generate"):
            lines += [summary["headline_near"]["generate"], ""]
            lines += [f"- {v['text']}" for v in summary["verdicts_near"]["generate"] if v["measured"]] + [""]
        if summary.get("headline_matched", {}).get("generate"):
            lines += [summary["headline_matched"]["generate"], ""]
    if others := other_runs(DOCS / "benchmarks", "benchmarks/"):
        lines += ["The same benchmark under another protocol:", ""] + [f"- {line}" for line in others] + [""]
    paths = sorted((DOCS / "benchmarks").glob("*.json"),
                   key=lambda p: (ORDER.index(p.stem) if p.stem in ORDER else len(ORDER), p.stem))
    for path in paths:
        data = json.loads(path.read_text())
        if "sections" not in data:
            continue
        general, placed = notes_by_section([section["heading"] for section in data["sections"]], data["notes"])
        lines += [f"## {data['title']}", ""] + [f"- {note}" for note in general] + ([""] if general else [])
        main = [section for section in data["sections"] if not is_detail(section["heading"])]
        detail = [section for section in data["sections"] if is_detail(section["heading"])]
        lines += _sections(sorted(main, key=lambda section: section["heading"] != "Targets"), placed)
        if detail:
            page = DOCS / "benchmarks" / f"{path.stem}-detail.md"
            page.write_text("\n".join([f"# {data['title']}: per-run detail", ""] + _sections(detail, placed)))
            link = f"[benchmarks/{page.name}](benchmarks/{page.name})"
            lines += [f"Per-run detail ({len(detail)} tables: {DETAIL}): {link}", ""]
    (DOCS / "BENCHMARKS.md").write_text("\n".join(lines))


class Scorer:
    """The base model once, and a copy of it with each run's adapter merged in, in turn
    (:func:`anit.evaluation.run.with_adapter`)."""

    def __init__(self) -> None:
        from anit.evaluation.run import load_for_eval

        self.base, self.tokenizer = load_for_eval("smollm2-135m", None)

    def model(self, adapter: Path) -> Any:
        import copy

        from anit.evaluation.run import with_adapter

        return with_adapter(copy.deepcopy(self.base), adapter)
