"""Set up and run one training: model and LoRA, data, Trainer, checkpoints with config and fingerprint."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

from anit.config import dump_config
from anit.errors import AnitError
from anit.jsonl import read_jsonl, write_json
from anit.models import load_model, load_tokenizer
from anit.training.config import ADVERSARIAL, TrainConfig
from anit.training.data import Collator, InstructionDataset, check_records

# The NRM takes gradients with respect to the embedding perturbation (torch.autograd.grad, delta.grad),
# which reentrant checkpointing cannot give; peft's QLoRA preparation would otherwise choose it.
CHECKPOINTING = {"use_reentrant": False}


def fingerprint(path: str | Path, cfg: TrainConfig) -> dict[str, Any]:
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return {"data": str(path), "sha256": digest, "sample_fraction": cfg.sample_fraction}


def load_records(cfg: TrainConfig) -> list[dict[str, Any]]:
    records = read_jsonl(cfg.data)
    needs_noise = cfg.method != "it"
    check_records(records, cfg.data, needs_noise, cfg.distortion_key if cfg.method == "anit" else None)
    keep = math.ceil(len(records) * cfg.sample_fraction)
    if keep == 0:
        raise AnitError(f"sample_fraction {cfg.sample_fraction} keeps no record of {cfg.data}")
    return records[:keep]


def build_model(cfg: TrainConfig) -> tuple[Any, Any]:
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model, prepare_model_for_kbit_training
    from transformers import set_seed

    set_seed(cfg.seed)
    tokenizer = load_tokenizer(cfg.model, cfg.trust_remote_code)
    model = load_model(cfg.model, cfg.dtype, cfg.quantization, cfg.trust_remote_code)
    if cfg.quantization:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=cfg.gradient_checkpointing,
                                                gradient_checkpointing_kwargs=CHECKPOINTING)
    elif cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=CHECKPOINTING)
    if cfg.init_adapter:
        model = PeftModel.from_pretrained(model, cfg.init_adapter, is_trainable=True)
    else:
        targets: Any = "all-linear" if cfg.lora_targets == ["all-linear"] else cfg.lora_targets
        lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                          target_modules=targets, task_type="CAUSAL_LM")
        model = get_peft_model(model, lora)
    if not torch.cuda.is_available():
        model = model.float()
    return model, tokenizer


def training_arguments(cfg: TrainConfig) -> Any:
    import torch
    from transformers import TrainingArguments

    on_gpu = torch.cuda.is_available()
    dtype = cfg.dtype
    if dtype == "auto" and on_gpu:
        dtype = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    return TrainingArguments(
        output_dir=cfg.output_dir, per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size, gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.lr, lr_scheduler_type=cfg.scheduler, warmup_steps=cfg.warmup_ratio,
        weight_decay=cfg.weight_decay, max_grad_norm=cfg.max_grad_norm, optim=cfg.optim,
        max_steps=cfg.max_steps, num_train_epochs=cfg.epochs, logging_steps=cfg.logging_steps,
        save_steps=cfg.save_steps, save_total_limit=cfg.save_total_limit, seed=cfg.seed, data_seed=cfg.seed,
        report_to=[] if cfg.report_to == ["none"] else cfg.report_to,
        remove_unused_columns=False, use_cpu=not on_gpu, bf16=on_gpu and dtype == "bfloat16",
        fp16=on_gpu and dtype == "float16" and not cfg.quantization, dataloader_num_workers=0,
        eval_strategy="steps" if cfg.eval_data else "no", eval_steps=cfg.save_steps if cfg.eval_data else None,
        ddp_find_unused_parameters=False, disable_tqdm=False,
    )


def _latest_checkpoint(output_dir: Path) -> Path | None:
    checkpoints = sorted(output_dir.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    return checkpoints[-1] if checkpoints else None


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Train, save the adapter, tokenizer, config and data fingerprint in ``output_dir``; return a summary."""
    from transformers import TrainerCallback

    from anit.training.trainer import EpochCallback, NRMTrainer

    output_dir = Path(cfg.output_dir)
    records = load_records(cfg)
    print_ = fingerprint(cfg.data, cfg)
    resume_from = None
    if cfg.resume:
        resume_from = _latest_checkpoint(output_dir)
        if resume_from is None:
            raise AnitError(f"--resume: no checkpoint-* folder in {output_dir}")
        saved = json.loads((resume_from / "fingerprint.json").read_text())
        if saved["sha256"] != print_["sha256"] or saved["sample_fraction"] != print_["sample_fraction"]:
            raise AnitError(f"--resume: {cfg.data} differs from the data {resume_from} was trained on")
    model, tokenizer = build_model(cfg)
    key = cfg.distortion_key
    dataset = InstructionDataset(records, tokenizer, cfg.rates_for(records), cfg.seed, cfg.max_length,
                                 cfg.prompt_style, key)
    eval_dataset = None
    if cfg.eval_data:
        eval_records = read_jsonl(cfg.eval_data)
        check_records(eval_records, cfg.eval_data, False, None)
        eval_dataset = InstructionDataset(eval_records, tokenizer, {}, cfg.seed, cfg.max_length, cfg.prompt_style, key)
    output_dir.mkdir(parents=True, exist_ok=True)

    class SaveMeta(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            folder = output_dir / f"checkpoint-{state.global_step}"
            if folder.exists() and state.is_world_process_zero:
                dump_config(cfg, folder / "anit_config.yaml")
                write_json(folder / "fingerprint.json", print_)

    trainer = NRMTrainer(model=model, args=training_arguments(cfg), train_dataset=dataset,
                         eval_dataset=eval_dataset, data_collator=Collator(tokenizer.pad_token_id),
                         processing_class=tokenizer, callbacks=[EpochCallback(dataset), SaveMeta()], anit_config=cfg)
    result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    summary = {"method": cfg.method, "steps": trainer.state.global_step, "train_loss": result.training_loss,
               "examples": len(dataset), "shortened_inputs": dataset.shortened,
               "runtime_s": result.metrics.get("train_runtime"), "log_history": trainer.state.log_history,
               "adversarial": cfg.method in ADVERSARIAL}
    if trainer.is_world_process_zero():
        trainer.save_model(str(output_dir))
        dump_config(cfg, output_dir / "anit_config.yaml")
        write_json(output_dir / "fingerprint.json", print_)
        write_json(output_dir / "train_summary.json", summary)
    return summary
