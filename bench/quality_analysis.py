"""The quality benchmark's judgement: standings and the half-drop verdicts per method, seed by seed, and how often
two methods give the same answer (and how close their adapters are)."""

from __future__ import annotations

import argparse
import functools
import statistics
from typing import Any

from safetensors.torch import load_file
from bench.quality_runs import GROUPS, METHODS, eval_dir, raw_predictions, run_name, wall_of

from anit.data import DATASETS
from anit.training.config import TrainConfig

ANITS = ("anit", "anit-fast", "anit-step", "anit-wide")
"""The ANIT variants the goal is checked for."""


BASELINES = ("it", "it-matched", "noisy_it", "neftune", "fgm", "fgm-wide")
"""The trained methods each ANIT variant is set beside, condition by condition."""


def paired(by_seed: dict[tuple[str, str], dict[int, float]], name: str,
           other: str) -> tuple[list[int], dict[tuple[str, str], float]]:
    """The seeds on which both ``name`` and ``other`` finished every condition, and each one's mean score per
    condition over those seeds (``by_seed``: (method, group) -> seed -> score); no seeds if either did not run."""
    runs = [(method, group) for method in (name, other) for group in GROUPS]
    common = sorted(set.intersection(*(set(by_seed.get(run, {})) for run in runs)))
    return common, {run: statistics.fmean(by_seed[run][seed] for seed in common) for run in runs} if common else {}


def standings(where: str, by_seed: dict[tuple[str, str], dict[int, float]]) -> list[str]:
    """Each ANIT variant beside each baseline that ran, per condition on the seeds both finished, so that where ANIT
    does not win is as plain as where it does; and on how many of those seeds it is ahead or level, since a mean
    lead that one seed carries is not one to build on."""
    lines = []
    for name in ANITS:
        for other in BASELINES:
            common, means = paired(by_seed, name, other)
            if not common:
                continue
            ahead = [group for group in GROUPS if means[(name, group)] >= means[(other, group)]]
            lines.append(f"{where}: {name} against {other} (seeds {common}): "
                         + ", ".join(f"{group} {means[(name, group)]:.3f} vs {means[(other, group)]:.3f}"
                                     for group in GROUPS)
                         + f"; ahead or level under {len(ahead)} of {len(GROUPS)} conditions"
                         + (f" ({', '.join(ahead)})" if ahead else "")
                         + "; ahead or level per seed: "
                         + ", ".join(f"{group} {seeds_ahead(by_seed, name, other, group, common)}/{len(common)}"
                                     for group in GROUPS) + ".")
    return lines


def seeds_ahead(by_seed: dict[tuple[str, str], dict[int, float]], name: str, other: str, group: str,
                seeds: list[int]) -> int:
    """On how many of ``seeds`` ``name`` scores at least ``other``'s under ``group`` instructions."""
    return sum(by_seed[(name, group)][seed] >= by_seed[(other, group)][seed] for seed in seeds)


def verdicts(where: str, by_seed: dict[tuple[str, str], dict[int, float]]) -> list[str]:
    """The goal, checked plainly: anit at least as good as it under raw instructions, and drops at most half of it's.
    Each pair is compared on the seeds both finished in every condition group (``by_seed``: (method, group) ->
    seed -> score), named when that leaves out a seed either finished. A drop no larger than the standard deviation
    of its per-seed drops is not told apart from none: where it's is such a drop, half of it is not judged, and the
    goal is not met only where anit's own drop exceeds its spread. ``where`` (a ``scope``) starts each line."""
    lines = []
    for name in ANITS:
        common, means = paired(by_seed, name, "it")
        if not common:
            continue
        if any(set(by_seed[(method, group)]) != set(common) for method in (name, "it") for group in GROUPS):
            lines.append(f"{where}: {name} and it are compared on the seeds both finished, {common}.")
        raw_ok = means[(name, "raw")] >= means[("it", "raw")]
        lines.append(f"{where}: {name} under raw instructions is {'at least as good as' if raw_ok else 'worse than'} "
                     f"it ({means[(name, 'raw')]:.3f} vs {means[('it', 'raw')]:.3f}).")
        for group in GROUPS[1:]:
            drop, spread = drop_spread(by_seed, name, group, common)
            it_drop, it_spread = drop_spread(by_seed, "it", group, common)
            if it_drop > it_spread:
                met = drop <= it_drop / 2
                verdict = "met" if met else "not met"
                if met and means[(name, group)] < means[("it", group)]:
                    verdict += (f", but only through a lower raw score: under {group} instructions it is still below "
                                f"it ({means[(name, group)]:.3f} vs {means[('it', group)]:.3f})")
            else:
                it_flat = (f"it does not drop under {group} instructions" if it_drop <= 0 else
                           f"it's drop is within its seed-to-seed spread (per-seed drops vary by {it_spread:.3f}, "
                           "standard deviation)")
                verdict = (f"not met: {name}'s drop exceeds its own seed-to-seed spread ({spread:.3f}) and {it_flat}"
                           if drop > spread else f"not judged: {it_flat}")
            lines.append(f"{where}: {name}'s raw-to-{group} drop {drop:+.3f} vs it's {it_drop:+.3f}: goal (at most "
                         f"half of it's) {verdict}.")
    return lines


def drop_spread(by_seed: dict[tuple[str, str], dict[int, float]], name: str, group: str,
                seeds: list[int]) -> tuple[float, float]:
    """``name``'s mean raw-to-``group`` drop over ``seeds`` and the standard deviation of its per-seed drops (0 for
    one seed)."""
    drops = [by_seed[(name, "raw")][seed] - by_seed[(name, group)][seed] for seed in seeds]
    return statistics.fmean(drops), statistics.stdev(drops) if len(drops) > 1 else 0.0


AGREEMENTS = [("anit", "noisy_it"), ("anit", "fgm"), ("anit-fast", "fgm"), ("neftune", "fgm"), ("anit-step", "anit"),
              ("anit-wide", "anit"), ("anit-wide", "fgm-wide"), ("fgm-wide", "fgm")]
"""Pairs of methods that train on the same noisy-instruction draws (where their chosen knobs give the same
``draw_rate``), so that where their answers and adapters agree, the perturbations that tell them apart made little
difference (anit against noisy_it: all of the NRM's)."""


def draw_rate(name: str, knobs: dict[str, float], task: str) -> float:
    """How often method ``name`` with ``knobs`` trains a ``task`` record on its noisy instruction, by TrainConfig's
    own rule (the draws are seeded, so methods with equal rates draw the same instructions on a seed)."""
    return TrainConfig(**METHODS[name][0], **knobs).rate_for(task)


def agreements(args: argparse.Namespace, dataset: str, where: str, chosen: dict[str, dict[str, float]],
               test_ids: list[str]) -> list[str]:
    """For each pair in ``AGREEMENTS`` that ran, how often the two give the same raw-instruction answer on the test
    records ``test_ids`` (runs scored on other records are left out), and how far apart their adapters are."""
    @functools.cache
    def answers(name: str, seed: int) -> list[str] | None:
        run_dir = eval_dir(args.work / dataset, name, chosen.get(name, {}), seed)
        if wall_of(run_dir).get("ids") != test_ids:
            return None
        return [row["generation"] for row in raw_predictions(run_dir)]

    @functools.cache
    def weights(name: str, seed: int) -> dict[str, Any] | None:
        path = args.work / dataset / run_name(name, chosen.get(name, {}), seed) / "adapter_model.safetensors"
        return load_file(str(path)) if path.exists() else None

    task = DATASETS.get(dataset).task
    lines = []
    for name, other in AGREEMENTS:
        if (name not in args.methods or other not in args.methods
                or draw_rate(name, chosen.get(name, {}), task) != draw_rate(other, chosen.get(other, {}), task)):
            continue
        same = 0
        gaps, both = [], []
        for seed in args.seeds:
            ours, theirs = answers(name, seed), answers(other, seed)
            if ours is not None and theirs is not None:
                same += sum(a == b for a, b in zip(ours, theirs))
                both.append(seed)
            mine, reference = weights(name, seed), weights(other, seed)
            if mine is not None and reference is not None:
                largest = max(float(w.abs().max()) for w in reference.values())
                gaps.append(max(float((mine[k] - reference[k]).abs().max()) for k in reference) / largest)
        if both:
            lines.append(f"{where}: {name} gives the same raw-instruction answer as {other} on {same}/"
                         f"{len(both) * len(test_ids)} test records (seeds {both}, where both runs finished).")
        if gaps:
            lines.append(f"{where}: {name}'s adapter differs from {other}'s by at most {max(gaps):.1%} of {other}'s "
                         f"largest adapter weight (the largest over seeds).")
    return lines
