"""Noise a file of prepared records and score each noisy instruction's distortion.

Only the instruction changes; question, format, options, input and output are copied as they are.
Each record gets ``noisy_instruction``, ``noise_type``, ``noise_rate``, ``noise_changed`` (how many
words changed), ``noise_note`` (why nothing changed, if so) and ``distortion`` ({scorer: score}).
The random stream of a record is seeded by (seed, record id, noise type): same seed, same output.
"""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Sequence

from tqdm.auto import tqdm

from anit.distortion import Scorer, resolve_scorers
from anit.errors import AnitError
from anit.noise.operators import MODES, NOISES, Noisy
from anit.noise.rewrite import Rewriter
from anit.records import noise_type_of


@dataclass(frozen=True)
class NoiseSpec:
    name: str
    rate: float

    @classmethod
    def parse(cls, text: str) -> "NoiseSpec":
        """``name:rate`` (``random_replace:0.2``); the rate defaults to 0.2 and must lie in [0, 1]."""
        name, _, rate = text.partition(":")
        NOISES.get(name.strip())
        try:
            value = float(rate) if rate.strip() else 0.2
        except ValueError:
            raise AnitError(f"--noise {text!r}: the rate after ':' must be a number in [0, 1]") from None
        if not 0.0 <= value <= 1.0:
            raise AnitError(f"--noise {text!r}: the rate must lie in [0, 1]")
        return cls(name.strip(), value)


def record_rng(seed: int, record_id: Any, noise: str) -> random.Random:
    return random.Random(f"{seed}:{record_id}:{noise}")


def noise_records(records: Sequence[dict[str, Any]], specs: Sequence[NoiseSpec], mix: str = "per-type",
                  mode: str = "fixed", seed: int = 3407, force: bool = False,
                  rewriter: Rewriter | None = None) -> list[dict[str, Any]]:
    """One noisy copy per record and noise type (``per-type``), or per record (``per-example``)."""
    if mode not in MODES:
        raise AnitError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    jobs: list[tuple[dict[str, Any], NoiseSpec | None]] = []
    for record in records:
        if "noisy_instruction" in record and not force:
            jobs.append((record, None))
        elif mix == "per-example":
            jobs.append((record, record_rng(seed, record["id"], "mix").choice(list(specs))))
        else:
            jobs.extend((record, spec) for spec in specs)
    results: list[Noisy | None] = [None] * len(jobs)
    batched: dict[str, list[int]] = defaultdict(list)
    for index, (record, spec) in enumerate(tqdm(jobs, desc="noise", leave=False)):
        if spec is None:
            continue
        noise = NOISES.get(spec.name)
        if noise.batched:
            batched[spec.name].append(index)
        else:
            rng = record_rng(seed, record["id"], spec.name)
            results[index] = noise.apply(record["instruction"], spec.rate, rng, mode)
    if batched:
        rewriter = rewriter or Rewriter(seed=seed)
        for name, indices in batched.items():
            texts = [jobs[i][0]["instruction"] for i in indices]
            draws = [record_rng(seed, jobs[i][0]["id"], name).randrange(1 << 30) for i in indices]
            for index, noisy in zip(indices, rewriter.rewrite(name, texts, draws)):
                results[index] = noisy
    out = []
    for (record, spec), noisy in zip(jobs, results):
        if spec is None or noisy is None:
            out.append(dict(record))
            continue
        out.append({**record, "noisy_instruction": noisy.text, "noise_type": spec.name, "noise_rate": spec.rate,
                    "noise_changed": noisy.changed, "noise_note": noisy.note, "distortion": {}})
    return out


def score_records(records: list[dict[str, Any]], scorers: Sequence[Scorer]) -> None:
    """Add every scorer's distortion to each record with a noisy instruction (each unique pair once)."""
    pairs = sorted({(r["instruction"], r["noisy_instruction"]) for r in records if "noisy_instruction" in r})
    raws, noisys = [p[0] for p in pairs], [p[1] for p in pairs]
    for scorer in tqdm(scorers, desc="distortion", leave=False):
        table = dict(zip(pairs, scorer.score(raws, noisys)))
        for record in records:
            if "noisy_instruction" in record:
                record.setdefault("distortion", {})[scorer.name] = table[(record["instruction"],
                                                                          record["noisy_instruction"])]


def build_noisy(records: Sequence[dict[str, Any]], noises: Sequence[str], seed: int, scorers: Sequence[str] = ("hard",),
                mix: str = "per-example", mode: str = "fixed", rewriter: Rewriter | None = None
                ) -> list[dict[str, Any]]:
    """noise -> score in one call (the pipeline ``anit noise build``, the demo and the benchmarks share): each
    record's noisy copy under ``noises`` (``name:rate``), scored by every scorer in ``scorers``.

        build_noisy(prepare("sst2", "train", limit=120)[0], ["char_typo:0.3"], seed=3407)
    """
    noisy = noise_records(records, [NoiseSpec.parse(text) for text in noises], mix, mode, seed, rewriter=rewriter)
    score_records(noisy, resolve_scorers(scorers))
    return noisy


def summary(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per noise type (``own`` for noisy instructions a user wrote): the count, and the mean, min and max of every
    distortion score."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        if "noisy_instruction" in record:
            groups[noise_type_of(record)].append(record)
    rows = []
    for name, group in groups.items():
        row: dict[str, Any] = {"noise_type": name, "count": len(group),
                               "unchanged": sum(r["noisy_instruction"] == r["instruction"] for r in group)}
        scores = sorted({k for r in group for k in r.get("distortion", {})})
        for score in scores:
            values = [r["distortion"][score] for r in group if score in r.get("distortion", {})]
            row[score] = (statistics.fmean(values), min(values), max(values))
        rows.append(row)
    return rows


def format_summary(rows: Sequence[dict[str, Any]]) -> str:
    scores = sorted({k for row in rows for k in row if k not in ("noise_type", "count", "unchanged")})
    header = ["noise_type", "count", "unchanged"] + [f"{s} mean/min/max" for s in scores]
    lines = [header]
    for row in rows:
        cells = [row["noise_type"], str(row["count"]), str(row["unchanged"])]
        cells += ["{:.3f}/{:.3f}/{:.3f}".format(*row[s]) if s in row else "-" for s in scores]
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines)
