"""The Hugging Face Trainer with the methods' loss step; everything around it stays standard, so
``accelerate launch``, ``torchrun``, DeepSpeed and FSDP run it unchanged.

Embedding *outputs* are perturbed through ``inputs_embeds`` (the embedding weights are frozen under
LoRA, so perturbing them would do nothing). ``it`` and ``noisy_it`` use the plain loss; ``neftune``
adds alpha/sqrt(L h) uniform noise; ``fgm`` and ``anit`` add the one-step adversarial term (see nrm.py).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import torch
from transformers import Trainer, TrainerCallback

from anit.training import nrm
from anit.training.config import ADVERSARIAL, TrainConfig
from anit.training.data import LengthGroupedSampler


class EpochCallback(TrainerCallback):
    """Tells the dataset which epoch it is, so that the noisy/raw draw changes per epoch."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    def on_epoch_begin(self, args, state, control, **kwargs):
        self.dataset.epoch = int(state.epoch or 0)


class NRMTrainer(Trainer):
    def __init__(self, *args: Any, anit_config: TrainConfig, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cfg = anit_config
        self.loss_is_scaled_for_ga = True
        self.stats: dict[str, float] = defaultdict(float)
        self._draw = (-1, 0)

    def _get_train_sampler(self, train_dataset: Any = None) -> Any:
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        if self.cfg.group_by_length and hasattr(dataset, "lengths"):
            batch = self.args.per_device_train_batch_size * self.args.gradient_accumulation_steps
            return LengthGroupedSampler(dataset.lengths(), batch, self.args.data_seed or self.args.seed)
        return super()._get_train_sampler(train_dataset)

    def _generator(self) -> torch.Generator:
        """A per-micro-step generator, so that a resumed run draws the same perturbations."""
        step, micro = self._draw
        self._draw = (self.state.global_step, micro + 1 if step == self.state.global_step else 0)
        return torch.Generator().manual_seed(self.cfg.seed * 1_000_003 + self._draw[0] * 1_009 + self._draw[1])

    def _denominator(self, counts: torch.Tensor, num_items_in_batch: Any) -> torch.Tensor:
        if num_items_in_batch is not None:
            total = torch.as_tensor(num_items_in_batch, device=counts.device, dtype=torch.float32)
            if self.args.average_tokens_across_devices:
                total = total / self.accelerator.num_processes
            return total.clamp(min=1)
        steps = getattr(self, "current_gradient_accumulation_steps", self.args.gradient_accumulation_steps)
        return counts.sum().float().clamp(min=1) * steps

    def _embed(self, model: Any, input_ids: torch.Tensor) -> torch.Tensor:
        """The embedding layer's output (unwrapped from DDP); the forward itself runs through ``model``."""
        return self.accelerator.unwrap_model(model).get_input_embeddings()(input_ids)

    @staticmethod
    def _losses(model: Any, embeds: torch.Tensor, inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample answer-token loss sums and counts; logits only where an answer token follows."""
        keep = nrm.answer_positions(inputs["labels"])
        out = model(inputs_embeds=embeds, attention_mask=inputs["attention_mask"], use_cache=False,
                    logits_to_keep=keep)
        return nrm.token_losses(out.logits, inputs["labels"][:, 1:][:, keep])

    def _beta(self, distortion: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        if cfg.method == "fgm":
            return torch.full_like(distortion, cfg.fgm_beta)
        if cfg.beta_schedule == "levels":
            return nrm.beta_levels(distortion, cfg.beta_thresholds, cfg.beta_levels)
        return nrm.beta_linear(distortion, cfg.beta_min, cfg.beta_max)

    def _alpha(self, beta: torch.Tensor) -> float | torch.Tensor:
        """The ascent step size: alpha, or alpha * beta(d_i) per sample (``nrm_step``)."""
        return self.cfg.nrm_alpha * beta if self.cfg.nrm_step == "beta" else self.cfg.nrm_alpha

    def _perturbation_mask(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        key = "instruction_mask" if self.cfg.nrm_scope == "instruction" else "prompt_mask"
        return inputs[key] * inputs["attention_mask"]

    def _delta0(self, embeds: torch.Tensor, inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        beta = self._beta(inputs["distortion"].float())
        delta = nrm.initial_delta(embeds.shape, beta, inputs["attention_mask"].sum(1), self._perturbation_mask(inputs),
                                  self.cfg.nrm_eps, self._generator(), embeds.dtype, embeds.device)
        return delta, beta

    def _record(self, clean: torch.Tensor, adv: torch.Tensor, beta: torch.Tensor, finite: torch.Tensor) -> None:
        self.stats["clean_loss"] += float(clean)
        self.stats["adv_loss"] += float(adv)
        self.stats["beta_mean"] += float(beta.mean())
        self.stats["beta_max"] = max(self.stats["beta_max"], float(beta.max()))
        self.stats["skipped"] += float((~finite).sum())
        self.stats["n"] += 1

    def compute_loss(self, model: Any, inputs: dict[str, torch.Tensor], return_outputs: bool = False,
                     num_items_in_batch: Any = None) -> Any:
        cfg = self.cfg
        embeds = self._embed(model, inputs["input_ids"])
        den = self._denominator((inputs["labels"][:, 1:] != -100).sum(1), num_items_in_batch)
        if cfg.method in ADVERSARIAL and model.training:
            loss = self._nrm_loss(model, embeds, inputs, den)
        else:
            if cfg.method == "neftune" and model.training:
                mask = inputs["attention_mask"]
                alpha = torch.full((embeds.size(0),), cfg.neftune_alpha)
                embeds = embeds + nrm.initial_delta(embeds.shape, alpha, mask.sum(1), mask, 1.0, self._generator(),
                                                    embeds.dtype, embeds.device)
            sums, _ = self._losses(model, embeds, inputs)
            loss = sums.sum() / den
        return (loss, None) if return_outputs else loss

    def _nrm_loss(self, model: Any, embeds: torch.Tensor, inputs: dict[str, torch.Tensor], den: torch.Tensor
                  ) -> torch.Tensor:
        """The exact step: probe at X + delta0 for g alone, then the clean and adversarial terms in one
        batched pass over [X; X + delta1] (same arithmetic as two passes, better-filled matmuls)."""
        cfg = self.cfg
        delta0, beta = self._delta0(embeds, inputs)
        delta0.requires_grad_(True)
        probe, _ = self._losses(model, embeds.detach() + delta0, inputs)
        (grad,) = torch.autograd.grad(probe.sum(), delta0)
        delta1, finite = nrm.ascent(delta0.detach(), grad, self._alpha(beta), self._perturbation_mask(inputs))
        pair = {key: torch.cat([inputs[key], inputs[key]]) for key in ("attention_mask", "labels")}
        sums, _ = self._losses(model, torch.cat([embeds, embeds + delta1]), pair)
        clean_sums, adv_sums = sums.chunk(2)
        clean = clean_sums.sum() / den
        adv = (adv_sums * finite).sum() / den
        self._record(clean.detach(), adv.detach(), beta, finite)
        return clean + cfg.nrm_lambda * adv

    def training_step(self, model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None) -> torch.Tensor:
        """The fast NRM variant: one backward at X + delta0 yields parameter gradients and g together."""
        cfg = self.cfg
        if cfg.method not in ADVERSARIAL or cfg.nrm_variant != "fast":
            return super().training_step(model, inputs, num_items_in_batch)
        model.train()
        inputs = self._prepare_inputs(inputs)
        with self.compute_loss_context_manager():
            embeds = self._embed(model, inputs["input_ids"]).detach()
            delta0, beta = self._delta0(embeds, inputs)
            delta0.requires_grad_(True)
            den = self._denominator((inputs["labels"][:, 1:] != -100).sum(1), num_items_in_batch)
            sums, _ = self._losses(model, embeds + delta0, inputs)
            first = sums.sum() / den
        self.accelerator.backward(first)
        delta1, finite = nrm.ascent(delta0.detach(), delta0.grad, self._alpha(beta), self._perturbation_mask(inputs))
        with self.compute_loss_context_manager():
            adv_sums, _ = self._losses(model, embeds + delta1, inputs)
            adv = cfg.nrm_lambda * (adv_sums * finite).sum() / den
        self.accelerator.backward(adv)
        self._record(first.detach(), adv.detach() / max(cfg.nrm_lambda, 1e-12), beta, finite)
        return (first + adv).detach()

    def log(self, logs: dict[str, float], *args: Any, **kwargs: Any) -> None:
        n = self.stats.pop("n", 0)
        if n and "loss" in logs:
            logs["clean_loss"] = self.stats["clean_loss"] / n
            logs["adv_loss"] = self.stats["adv_loss"] / n
            logs["beta_mean"] = self.stats["beta_mean"] / n
            logs["beta_max"] = self.stats["beta_max"]
            logs["adv_skipped"] = self.stats["skipped"]
            self.stats.clear()
        elif n:
            self.stats["n"] = n
        super().log(logs, *args, **kwargs)
