"""Training methods: each one a small registered piece, the loss step of one training batch (or a forward hook).

A method says whether it draws noisy instructions, whether it needs a distortion score, and how its loss is
computed from the batch's embedding output; the trainer around it stays the standard Hugging Face one::

    @register_method("it", noisy=False)
    def it(trainer, model, embeds, inputs, den):
        return plain_loss(trainer, model, embeds, inputs, den)

``trainer.losses(model, embeds, inputs)`` gives per-sample answer-token loss sums and counts; ``den`` is the
batch's token denominator (gradient accumulation and devices included). ``neftune`` is a forward hook on the
embedding output, as transformers' Trainer does it; ``fgm`` and ``anit`` share one adversarial step and differ only
in how beta is chosen. Register your own from your code and name it in ``--method`` (with ``plugins``); the README
shows a FreeLB-style multi-step ascent in about 30 lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from anit.registry import Registry
from anit.training import nrm

Step = Callable[[Any, Any, torch.Tensor, dict[str, torch.Tensor], torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Method:
    name: str
    step: Step
    """The loss of one training batch: (trainer, model, embeds, inputs, den) -> scalar."""
    noisy: bool = True
    """Draws each record's noisy instruction with the task's noise rate (``it`` trains on raw ones only)."""
    needs_distortion: bool = False
    """Reads each noisy record's distortion score (``distortion_key``)."""
    hook: Callable[[Any], Callable] | None = None
    """``hook(trainer)`` gives a forward hook for the embedding layer, attached while training."""
    beta: Callable[[Any, torch.Tensor], torch.Tensor] | None = None
    """Adversarial methods: per-sample beta from (config, distortion); the fast NRM variant applies to them."""
    description: str = ""


METHODS: Registry[Method] = Registry("training method")


def register_method(name: str, *, noisy: bool = True, needs_distortion: bool = False,
                    hook: Callable[[Any], Callable] | None = None,
                    beta: Callable[[Any, torch.Tensor], torch.Tensor] | None = None) -> Callable[[Step], Step]:
    """Register ``step`` as training method ``name`` (its docstring's first line describes it in ``--help``)."""

    def decorator(step: Step) -> Step:
        doc = (step.__doc__ or "").strip().splitlines()
        METHODS.add(name, Method(name, step, noisy, needs_distortion, hook, beta, doc[0] if doc else name))
        return step

    return decorator


def plain_loss(trainer: Any, model: Any, embeds: torch.Tensor, inputs: dict[str, torch.Tensor],
               den: torch.Tensor) -> torch.Tensor:
    """The answer-token cross-entropy of the batch as it is."""
    sums, counts = trainer.losses(model, embeds, inputs)
    trainer.record_tasks(sums, counts, inputs)
    return sums.sum() / den


def adversarial_loss(trainer: Any, model: Any, embeds: torch.Tensor, inputs: dict[str, torch.Tensor],
                     den: torch.Tensor) -> torch.Tensor:
    """The exact NRM step (nrm.py): probe at X + delta0 for g alone, then the clean and adversarial terms in one
    batched pass over [X; X + delta1] (same arithmetic as two passes, better-filled matmuls)."""
    delta0, beta = trainer.delta0(embeds, inputs)
    delta0.requires_grad_(True)
    probe, _ = trainer.losses(model, embeds.detach() + delta0, inputs)
    (grad,) = torch.autograd.grad(probe.sum(), delta0)
    delta1, finite = nrm.ascent(delta0.detach(), grad, trainer.alpha(beta), trainer.perturbation_mask(inputs))
    pair = {key: torch.cat([inputs[key], inputs[key]]) for key in ("attention_mask", "labels")}
    sums, counts = trainer.losses(model, torch.cat([embeds, embeds + delta1]), pair)
    clean_sums, adv_sums = sums.chunk(2)
    trainer.record_tasks(clean_sums, counts.chunk(2)[0], inputs)
    clean = clean_sums.sum() / den
    finite = finite & torch.isfinite(adv_sums.detach())
    adv = torch.where(finite, adv_sums, torch.zeros_like(adv_sums)).sum() / den
    trainer.record(clean.detach(), adv.detach(), beta, finite)
    return clean + trainer.cfg.nrm_lambda * adv


def neftune_hook(trainer: Any) -> Callable:
    """NEFTune's noise alpha / sqrt(L h) U(-1, 1) on the embedding output while training, with each sequence's real
    length L and only on its real tokens (never the padded length: transformers issue 34659)."""

    def hook(module: Any, args: Any, output: torch.Tensor) -> torch.Tensor:
        if not module.training or trainer.batch_mask is None:
            return output
        mask = trainer.batch_mask
        alpha = torch.full((output.size(0),), trainer.cfg.neftune_alpha)
        return output + nrm.initial_delta(output.shape, alpha, mask.sum(1), mask, 1.0, trainer.generator(),
                                          output.dtype, output.device)

    return hook


def anit_beta(cfg: Any, distortion: torch.Tensor) -> torch.Tensor:
    """beta(d): linear between nrm_beta_min and nrm_beta_max, or levels by thresholds."""
    if cfg.nrm_beta_schedule == "levels":
        return nrm.beta_levels(distortion, cfg.nrm_beta_thresholds, cfg.nrm_beta_levels)
    return nrm.beta_linear(distortion, cfg.nrm_beta_min, cfg.nrm_beta_max)


@register_method("it", noisy=False)
def it(trainer: Any, model: Any, embeds: torch.Tensor, inputs: dict[str, torch.Tensor], den: torch.Tensor) -> Any:
    """Instruction tuning on the raw instructions."""
    return plain_loss(trainer, model, embeds, inputs, den)


@register_method("noisy_it")
def noisy_it(trainer: Any, model: Any, embeds: torch.Tensor, inputs: dict[str, torch.Tensor], den: torch.Tensor
             ) -> Any:
    """Instruction tuning on noisy instructions drawn with the task's noise rate."""
    return plain_loss(trainer, model, embeds, inputs, den)


@register_method("neftune", hook=neftune_hook)
def neftune(trainer: Any, model: Any, embeds: torch.Tensor, inputs: dict[str, torch.Tensor], den: torch.Tensor
            ) -> Any:
    """noisy_it with NEFTune's uniform noise on the embedding output (a forward hook)."""
    return plain_loss(trainer, model, embeds, inputs, den)


@register_method("fgm", beta=lambda cfg, distortion: torch.full_like(distortion, cfg.fgm_beta))
def fgm(trainer: Any, model: Any, embeds: torch.Tensor, inputs: dict[str, torch.Tensor], den: torch.Tensor) -> Any:
    """The adversarial step with one global beta (fgm_beta) for every sample."""
    return adversarial_loss(trainer, model, embeds, inputs, den)


@register_method("anit", needs_distortion=True, beta=anit_beta)
def anit(trainer: Any, model: Any, embeds: torch.Tensor, inputs: dict[str, torch.Tensor], den: torch.Tensor
         ) -> Any:
    """The Noise Response Method: the adversarial step with beta(d) responding to each sample's distortion."""
    return adversarial_loss(trainer, model, embeds, inputs, den)
