"""Training configuration: every hyperparameter is a field here, a YAML key and a ``--set`` override."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from anit.config import option
from anit.errors import AnitError
from anit.plugins import Pluggable

TASK_NOISE_RATES = {"ner": 0.8, "re": 0.9, "tc": 0.5, "absa": 0.5}


def known_method(name: str) -> None:
    """Stop unless ``name`` is a registered training method (the registry imports torch, so it is looked up only
    when a config is checked)."""
    from anit.training.methods import METHODS

    METHODS.get(name)


@dataclass
class TrainConfig(Pluggable):
    model: str = option("smollm2-135m", "Preset (smollm2-135m, gemma3-270m), Hugging Face id, or local path.",
                        path=True)
    method: str = option("anit", "Training method: a registered name (it, noisy_it, neftune, fgm, anit, or one of "
                                 "your own, registered in a module named in plugins).", check=known_method)
    data: str = option("noisy.jsonl", "Training records (from `anit noise build`, or prepared records for `it`).",
                       path=True)
    eval_data: Optional[str] = option(None, "Records to compute the eval loss on during training.", path=True)
    output_dir: str = option("runs/train", "Where checkpoints, logs and the final adapter go.", path=True)
    max_steps: int = option(-1, "Optimizer steps (overrides epochs when > 0).")
    epochs: float = option(1.0, "Epochs when max_steps <= 0.", min=0.0)
    resume: bool = option(False, "Continue from the latest checkpoint in output_dir.")
    init_adapter: Optional[str] = option(None, "Start from this trained adapter (transfer).", path=True)
    sample_fraction: float = option(1.0, "Keep this first fraction of the training records.", min=0.0, max=1.0)
    seed: int = option(42, "Seed of the model init, data order and noise draws.")
    noise_rate: Optional[float] = option(None, "Probability that a drawn example uses its noisy instruction "
                                               "(default by task: ner 0.8, re 0.9, tc 0.5, absa 0.5; 0 for `it`).",
                                         min=0.0, max=1.0)
    prompt_style: str = option("auto", "chat template (auto: if the tokenizer has one) or plain prompt.",
                               choices=("auto", "chat", "plain"))
    max_length: int = option(512, "Maximum tokens per example; the input text is shortened, never the answer.", min=8)
    batch_size: int = option(4, "Per-device batch size.", min=1)
    grad_accum: int = option(1, "Gradient accumulation steps.", min=1)
    lr: float = option(1e-4, "Peak learning rate.", min=0.0)
    scheduler: str = option("cosine", "Learning-rate schedule.", choices=("cosine", "linear", "constant",
                                                                           "constant_with_warmup"))
    warmup_ratio: float = option(0.04, "Warm-up fraction of the steps.", min=0.0, max=1.0)
    weight_decay: float = option(0.01, "AdamW weight decay.", min=0.0)
    max_grad_norm: float = option(0.3, "Gradient clipping norm.", min=0.0)
    optim: str = option("adamw_torch", "Optimizer (paged_adamw_32bit needs bitsandbytes and CUDA).",
                        choices=("adamw_torch", "adamw_torch_fused", "paged_adamw_32bit", "paged_adamw_8bit", "sgd"))
    lora_r: int = option(16, "LoRA rank.", min=1)
    lora_alpha: float = option(16.0, "LoRA alpha.", min=0.0)
    lora_dropout: float = option(0.05, "LoRA dropout.", min=0.0, max=1.0)
    lora_targets: list[str] = option(["all-linear"], "Modules LoRA adapts: all-linear (every linear layer but the "
                                                     "LM head) or module names such as q_proj, v_proj.")
    quantization: Optional[str] = option(None, "QLoRA base weights in 4bit or 8bit (CUDA only).",
                                         choices=("4bit", "8bit"))
    dtype: str = option("auto", "Compute dtype: auto (bf16/fp16 on GPU, fp32 on CPU).",
                        choices=("auto", "float32", "bfloat16", "float16"))
    gradient_checkpointing: bool = option(False, "Recompute activations in the backward pass to save memory.")
    trust_remote_code: bool = option(False, "Allow the model repository's own Python code to run.")
    logging_steps: int = option(5, "Log every N steps.", min=1)
    save_steps: int = option(500, "Checkpoint every N steps.", min=1)
    save_total_limit: int = option(2, "Checkpoints kept.", min=1)
    report_to: list[str] = option(["tensorboard"], "Loggers: tensorboard, none, or any the Trainer supports.")
    group_by_length: bool = option(True, "Batch examples of similar length together so padding stays small.")
    distortion_key: str = option("word_edit", "Which distortion score drives beta(d).")
    nrm_beta_schedule: str = option("linear", "beta(d): linear between nrm_beta_min and nrm_beta_max, or levels by "
                                              "thresholds.",
                                choices=("linear", "levels"))
    nrm_beta_min: float = option(1.0, "beta at d = 0 (linear). nrm_beta_min > nrm_beta_max shrinks beta as d grows.",
                                 min=0.0)
    nrm_beta_max: float = option(5.0, "beta at d = 1 (linear).", min=0.0)
    nrm_beta_thresholds: list[float] = option([0.3, 0.6], "Distortion thresholds between levels (levels schedule).")
    nrm_beta_levels: list[float] = option([1.0, 3.0, 5.0], "beta per level; one more than thresholds.")
    fgm_beta: float = option(3.0, "The one global beta of the fgm baseline.", min=0.0)
    nrm_eps: float = option(1.0, "Uniform start U(-eps, eps) of the perturbation.", min=0.0)
    nrm_alpha: float = option(1.0, "Gradient-ascent step size (per-sample Frobenius-normalised).", min=0.0)
    nrm_step: str = option("fixed", "Ascent step of sample i: fixed (alpha, as the method specifies; beta(d) sets "
                                    "only the uniform start) or beta (alpha * beta(d_i): the step responds to "
                                    "distortion too; fgm's beta is fgm_beta).", choices=("fixed", "beta"))
    nrm_lambda: float = option(1.0, "Weight of the adversarial loss.", min=0.0)
    nrm_scope: str = option("instruction", "Perturb instruction tokens only, or the whole prompt.",
                            choices=("instruction", "prompt"))
    nrm_variant: str = option("exact", "exact: clean + adversarial (about 3 passes); fast: first term at "
                                       "X + delta0 (about 2 passes).", choices=("exact", "fast"))
    neftune_alpha: float = option(5.0, "NEFTune noise alpha.", min=0.0)

    RENAMED = {"beta_schedule": "nrm_beta_schedule", "beta_min": "nrm_beta_min", "beta_max": "nrm_beta_max",
               "beta_thresholds": "nrm_beta_thresholds", "beta_levels": "nrm_beta_levels"}
    """Keys of earlier versions: a config that still uses one is told the new name. The knobs are grouped by
    prefix: ``nrm_*`` (the adversarial step of fgm and anit; ``fgm_beta`` is fgm's own), ``neftune_*``, ``lora_*``."""

    def __post_init__(self) -> None:
        if self.max_steps == 0:
            raise AnitError("field 'max_steps': 0 trains nothing; give a positive number of steps, or -1 to train "
                            "for `epochs`")
        super().__post_init__()
        if self.nrm_beta_schedule == "levels" and len(self.nrm_beta_levels) != len(self.nrm_beta_thresholds) + 1:
            raise AnitError(f"field 'nrm_beta_levels': needs {len(self.nrm_beta_thresholds) + 1} values, one more "
                            f"than nrm_beta_thresholds ({len(self.nrm_beta_thresholds)})")
        if sorted(self.nrm_beta_thresholds) != self.nrm_beta_thresholds:
            raise AnitError("field 'nrm_beta_thresholds': must be in increasing order")

    def rate_for(self, task: str) -> float:
        from anit.training.methods import METHODS

        if not METHODS.get(self.method).noisy:
            return 0.0
        return self.noise_rate if self.noise_rate is not None else TASK_NOISE_RATES.get(task, 0.5)

    def rates_for(self, records: list[dict]) -> dict[str, float]:
        """The noisy-instruction probability of every task among ``records``."""
        return {task: self.rate_for(task) for task in {r["task"] for r in records}}

    def planned_steps(self, records: int, processes: int = 1) -> int:
        """The optimizer steps this run takes on ``records`` training records over ``processes`` data-parallel
        ones: ``max_steps``, else ``epochs`` of the records ``sample_fraction`` keeps, counted as transformers'
        Trainer counts them (batches per process, accumulated steps rounded up, the epochs' total rounded up)."""
        if self.max_steps > 0:
            return self.max_steps
        batches = math.ceil(math.ceil(records * self.sample_fraction) / (self.batch_size * processes))
        return math.ceil(self.epochs * max(1, math.ceil(batches / self.grad_accum)))
