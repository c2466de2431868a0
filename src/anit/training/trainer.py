"""The Hugging Face Trainer with a registered method's loss step; everything around it stays standard, so
``accelerate launch``, ``torchrun``, DeepSpeed and FSDP run it unchanged.

Embedding *outputs* are perturbed (the embedding weights are frozen under LoRA, so perturbing them would do
nothing): the batch's embedding output is computed once, a method's forward hook (NEFTune) may change it, and the
method's step (methods.py) runs the model on it through ``inputs_embeds``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import torch
from transformers import Trainer, TrainerCallback

from anit.training import nrm
from anit.training.config import TrainConfig
from anit.training.data import LengthGroupedSampler
from anit.training.methods import METHODS, Method, plain_loss


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
        self.task_names: list[str] = list(getattr(self.train_dataset, "tasks", []))
        self.batch_mask: torch.Tensor | None = None
        self._draw = (-1, 0)
        if self.method.hook is not None:
            self.accelerator.unwrap_model(self.model).get_input_embeddings().register_forward_hook(
                self.method.hook(self))

    @property
    def method(self) -> Method:
        return METHODS.get(self.cfg.method)

    def _get_train_sampler(self, train_dataset: Any = None) -> Any:
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        if self.cfg.group_by_length and hasattr(dataset, "lengths"):
            batch = self.args.per_device_train_batch_size * self.args.gradient_accumulation_steps
            return LengthGroupedSampler(dataset.lengths(), batch, self.args.data_seed or self.args.seed)
        return super()._get_train_sampler(train_dataset)

    def generator(self) -> torch.Generator:
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

    def embed(self, model: Any, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """The embedding layer's output (unwrapped from DDP), with the method's hook applied while training; the
        forward itself runs through ``model``."""
        self.batch_mask = inputs["attention_mask"]
        try:
            return self.accelerator.unwrap_model(model).get_input_embeddings()(inputs["input_ids"])
        finally:
            self.batch_mask = None

    @staticmethod
    def losses(model: Any, embeds: torch.Tensor, inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample answer-token loss sums and counts; logits only where an answer token follows."""
        keep = nrm.answer_positions(inputs["labels"])
        out = model(inputs_embeds=embeds, attention_mask=inputs["attention_mask"], use_cache=False,
                    logits_to_keep=keep)
        return nrm.token_losses(out.logits, inputs["labels"][:, 1:][:, keep])

    def record_tasks(self, sums: torch.Tensor, counts: torch.Tensor, inputs: dict[str, torch.Tensor]) -> None:
        """Per task of a multi-task mixture: its clean answer-token loss, logged as ``loss_<task>``."""
        if len(self.task_names) < 2 or "task" not in inputs:
            return
        for index, name in enumerate(self.task_names):
            rows = inputs["task"] == index
            if rows.any():
                self.stats[f"task_sum_{name}"] += float(sums.detach()[rows].sum())
                self.stats[f"task_count_{name}"] += float(counts[rows].sum())

    def alpha(self, beta: torch.Tensor) -> float | torch.Tensor:
        """The ascent step size: alpha, or alpha * beta(d_i) per sample (``nrm_step``)."""
        return self.cfg.nrm_alpha * beta if self.cfg.nrm_step == "beta" else self.cfg.nrm_alpha

    def perturbation_mask(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        key = "instruction_mask" if self.cfg.nrm_scope == "instruction" else "prompt_mask"
        return inputs[key] * inputs["attention_mask"]

    def delta0(self, embeds: torch.Tensor, inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        beta = self.method.beta(self.cfg, inputs["distortion"].float())
        delta = nrm.initial_delta(embeds.shape, beta, inputs["attention_mask"].sum(1), self.perturbation_mask(inputs),
                                  self.cfg.nrm_eps, self.generator(), embeds.dtype, embeds.device)
        return delta, beta

    def record(self, clean: torch.Tensor, adv: torch.Tensor, beta: torch.Tensor, finite: torch.Tensor) -> None:
        self.stats["clean_loss"] += float(clean)
        self.stats["adv_loss"] += float(adv)
        self.stats["beta_mean"] += float(beta.mean())
        self.stats["beta_max"] = max(self.stats["beta_max"], float(beta.max()))
        self.stats["skipped"] += float((~finite).sum())
        self.stats["n"] += 1

    def compute_loss(self, model: Any, inputs: dict[str, torch.Tensor], return_outputs: bool = False,
                     num_items_in_batch: Any = None) -> Any:
        embeds = self.embed(model, inputs)
        den = self._denominator((inputs["labels"][:, 1:] != -100).sum(1), num_items_in_batch)
        step = self.method.step if model.training else plain_loss
        loss = step(self, model, embeds, inputs, den)
        return (loss, None) if return_outputs else loss

    def training_step(self, model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None) -> torch.Tensor:
        """The fast NRM variant: one backward at X + delta0 yields parameter gradients and g together."""
        cfg = self.cfg
        if self.method.beta is None or cfg.nrm_variant != "fast":
            return super().training_step(model, inputs, num_items_in_batch)
        model.train()
        inputs = self._prepare_inputs(inputs)
        with self.compute_loss_context_manager():
            embeds = self.embed(model, inputs).detach()
            delta0, beta = self.delta0(embeds, inputs)
            delta0.requires_grad_(True)
            den = self._denominator((inputs["labels"][:, 1:] != -100).sum(1), num_items_in_batch)
            sums, counts = self.losses(model, embeds + delta0, inputs)
            first = sums.sum() / den
            self.record_tasks(sums, counts, inputs)
        self.accelerator.backward(first)
        delta1, finite = nrm.ascent(delta0.detach(), delta0.grad, self.alpha(beta), self.perturbation_mask(inputs))
        with self.compute_loss_context_manager():
            adv_sums, _ = self.losses(model, embeds + delta1, inputs)
            finite = finite & torch.isfinite(adv_sums.detach())
            adv = cfg.nrm_lambda * torch.where(finite, adv_sums, torch.zeros_like(adv_sums)).sum() / den
        self.accelerator.backward(adv)
        self.record(first.detach(), adv.detach() / max(cfg.nrm_lambda, 1e-12), beta, finite)
        return (first + adv).detach()

    def log(self, logs: dict[str, float], *args: Any, **kwargs: Any) -> None:
        if "loss" in logs:
            for name in self.task_names:
                count = self.stats.pop(f"task_count_{name}", 0.0)
                total = self.stats.pop(f"task_sum_{name}", 0.0)
                if count:
                    logs[f"loss_{name}"] = total / count
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
