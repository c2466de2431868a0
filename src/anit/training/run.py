"""Set up and run one training: model and LoRA, data, Trainer, checkpoints with config and fingerprint."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from anit.config import dump_config
from anit.errors import AnitError
from anit.jsonl import write_json
from anit.models import load_model, load_tokenizer
from anit.stages import file_digest
from anit.records import TRAINING, read_records
from anit.training.config import TrainConfig
from anit.training.data import Collator, InstructionDataset, check_records

# The NRM takes gradients with respect to the embedding perturbation (torch.autograd.grad, delta.grad),
# which reentrant checkpointing cannot give; peft's QLoRA preparation would otherwise choose it.
CHECKPOINTING = {"use_reentrant": False}


def fingerprint(path: str | Path, cfg: TrainConfig) -> dict[str, Any]:
    return {"data": str(path), "sha256": file_digest(path), "sample_fraction": cfg.sample_fraction}


def load_records(cfg: TrainConfig, records: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """``cfg.data``'s training records (``records``, where they are read already), checked for ``cfg.method``, and
    the part of them ``cfg.sample_fraction`` keeps."""
    from anit.training.methods import METHODS

    method = METHODS.get(cfg.method)
    records = read_records(cfg.data, TRAINING) if records is None else records
    check_records(records, cfg.data, method.noisy, cfg.distortion_key if method.needs_distortion else None)
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

    from anit.models import resolve_dtype

    on_gpu = torch.cuda.is_available()
    dtype = resolve_dtype(cfg.dtype)
    return TrainingArguments(
        output_dir=cfg.output_dir, per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size, gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.lr, lr_scheduler_type=cfg.scheduler, warmup_steps=cfg.warmup_ratio,
        weight_decay=cfg.weight_decay, max_grad_norm=cfg.max_grad_norm, optim=cfg.optim,
        max_steps=cfg.max_steps, num_train_epochs=cfg.epochs, logging_steps=cfg.logging_steps,
        save_steps=cfg.save_steps, save_total_limit=cfg.save_total_limit, seed=cfg.seed, data_seed=cfg.seed,
        report_to=[] if cfg.report_to == ["none"] else cfg.report_to,
        remove_unused_columns=False, use_cpu=not on_gpu, bf16=on_gpu and dtype == torch.bfloat16,
        fp16=on_gpu and dtype == torch.float16 and not cfg.quantization, dataloader_num_workers=0,
        eval_strategy="steps" if cfg.eval_data else "no", eval_steps=cfg.save_steps if cfg.eval_data else None,
        ddp_find_unused_parameters=False, disable_tqdm=False,
    )


def checkpoint_step(folder: Path) -> int:
    """The step of a Trainer checkpoint folder, ``checkpoint-<step>``."""
    return int(folder.name.split("-", 1)[1])


def trained_before(checkpoint: Path) -> float | None:
    """Seconds of training a run had behind it when it saved ``checkpoint`` (its ``clock.json``; None where the
    checkpoint does not record it), so a resumed run's ``runtime_s`` counts every part that made its adapter."""
    clock = checkpoint / "clock.json"
    return json.loads(clock.read_text())["train_s"] if clock.exists() else None


def latest_checkpoint(output_dir: Path) -> Path | None:
    """The Trainer's checkpoint folder with the highest step (``checkpoint-<step>``; other names are not its) among
    those whose saving finished (``fingerprint.json`` is written once the Trainer's own files are), so a run killed
    while saving resumes from the checkpoint before; where none finished, the highest of all."""
    checkpoints = [p for p in output_dir.glob("checkpoint-*") if p.is_dir() and p.name.split("-", 1)[1].isdigit()]
    whole = [p for p in checkpoints if (p / "fingerprint.json").exists()]
    return max(whole or checkpoints, key=checkpoint_step) if checkpoints else None


def check_output_dir(cfg: TrainConfig) -> None:
    """Where the run writes must be a folder (or not exist yet); checked before any model loads."""
    output_dir = Path(cfg.output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise AnitError(f"output_dir {output_dir}: is a file; give a folder")


def finished(cfg: TrainConfig) -> dict[str, Any] | None:
    """The summary of a run in ``output_dir`` that already trained as long as ``cfg`` asks (same steps or epochs),
    up to its last checkpoint: there is nothing to resume."""
    import yaml

    output_dir = Path(cfg.output_dir)
    saved, config, latest = output_dir / "train_summary.json", output_dir / "anit_config.yaml", \
        latest_checkpoint(output_dir)
    if not saved.exists() or not config.exists():
        return None
    summary, trained = json.loads(saved.read_text()), yaml.safe_load(config.read_text()) or {}
    same_length = trained.get("max_steps") == cfg.max_steps and trained.get("epochs") == cfg.epochs
    steps, target = summary.get("steps", 0), summary.get("target_steps") or cfg.max_steps
    caught_up = latest is None or checkpoint_step(latest) <= steps
    return summary if same_length and caught_up and 0 < target <= steps else None


def build_trainer(cfg: TrainConfig, model: Any, tokenizer: Any, dataset: Any = None, eval_dataset: Any = None,
                  callbacks: Sequence[Any] = (), collate: Callable[[Any], Any] | None = None) -> Any:
    """The one place a run's trainer is assembled: the method's NRMTrainer with ``cfg``'s arguments, the
    right-padding collator (``collate`` may wrap it, as the speed benchmark does to count tokens) and the callback
    that re-draws noisy instructions per epoch. ``train`` and the benchmarks build theirs here."""
    from anit.training.trainer import EpochCallback, NRMTrainer

    collator = Collator(tokenizer.pad_token_id)
    extra = [EpochCallback(dataset)] if dataset is not None else []
    return NRMTrainer(model=model, args=training_arguments(cfg), train_dataset=dataset, eval_dataset=eval_dataset,
                      data_collator=collate(collator) if collate else collator, processing_class=tokenizer,
                      callbacks=extra + list(callbacks), anit_config=cfg)


def resume_point(cfg: TrainConfig, print_: dict[str, Any]) -> Path:
    """The checkpoint ``--resume`` continues from, trained on the data ``print_`` fingerprints."""
    checkpoint = latest_checkpoint(Path(cfg.output_dir))
    if checkpoint is None:
        raise AnitError(f"--resume: no checkpoint-<step> folder in {cfg.output_dir}")
    if not (checkpoint / "fingerprint.json").exists():
        raise AnitError(f"--resume: {checkpoint} has no fingerprint.json, so the data it was trained on cannot "
                        "be checked; it was not written by `anit train`")
    saved = json.loads((checkpoint / "fingerprint.json").read_text())
    if saved["sha256"] != print_["sha256"] or saved["sample_fraction"] != print_["sample_fraction"]:
        raise AnitError(f"--resume: {cfg.data} differs from the data {checkpoint} was trained on")
    return checkpoint


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Train, save the adapter, tokenizer, config and data fingerprint in ``output_dir``; return a summary
    (``runtime_s``: the seconds of training over every part of a resumed run, the work lost after a stop's last
    checkpoint not counted; ``resumed``: the checkpoint's step and the seconds behind it, None for one part)."""
    from transformers import TrainerCallback

    output_dir = Path(cfg.output_dir)
    check_output_dir(cfg)
    records = load_records(cfg)
    print_ = fingerprint(cfg.data, cfg)
    resume_from = None
    if cfg.resume:
        done = finished(cfg)
        if done is not None:
            return {**done, "finished_before": True}
        resume_from = resume_point(cfg, print_)
    model, tokenizer = build_model(cfg)
    key = cfg.distortion_key
    dataset = InstructionDataset(records, tokenizer, cfg.rates_for(records), cfg.seed, cfg.max_length,
                                 cfg.prompt_style, key)
    eval_dataset = None
    if cfg.eval_data:
        eval_records = read_records(cfg.eval_data, TRAINING)
        check_records(eval_records, cfg.eval_data, False, None)
        eval_dataset = InstructionDataset(eval_records, tokenizer, {}, cfg.seed, cfg.max_length, cfg.prompt_style, key)
    output_dir.mkdir(parents=True, exist_ok=True)

    earlier = 0.0 if resume_from is None else trained_before(resume_from)

    def trained_s() -> float:
        return (earlier or 0.0) + time.perf_counter() - started

    class SaveMeta(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            folder = output_dir / f"checkpoint-{state.global_step}"
            if folder.exists() and state.is_world_process_zero:
                dump_config(cfg, folder / "anit_config.yaml")
                write_json(folder / "fingerprint.json", print_)
                write_json(folder / "clock.json", {"train_s": trained_s()})

    trainer = build_trainer(cfg, model, tokenizer, dataset, eval_dataset, callbacks=[SaveMeta()])
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    summary = {"method": cfg.method, "steps": trainer.state.global_step, "target_steps": trainer.state.max_steps,
               "train_loss": result.training_loss,
               "examples": len(dataset), "shortened_inputs": dataset.shortened,
               "runtime_s": trained_s(), "log_history": trainer.state.log_history,
               "resumed": None if resume_from is None else {"step": checkpoint_step(resume_from), "train_s": earlier},
               "adversarial": trainer.method.beta is not None}
    if trainer.is_world_process_zero():
        trainer.save_model(str(output_dir))
        dump_config(cfg, output_dir / "anit_config.yaml")
        write_json(output_dir / "fingerprint.json", print_)
        write_json(output_dir / "train_summary.json", summary)
    return summary
