"""Run by the data-parallel test under torchrun: 2 steps of anit, then each rank saves its adapter."""

import os
import sys
from pathlib import Path

import torch
from peft import get_peft_model_state_dict

from anit.config import load_config
from anit.training import run
from anit.training.config import TrainConfig

model_dir, data, out = sys.argv[1:4]
cfg = load_config(TrainConfig, None, dict(model=model_dir, data=data, output_dir=out, method="anit", max_steps=2,
                                          batch_size=2, report_to=["none"], save_steps=100, lr=1e-2))
captured = {}

from anit.training import trainer as trainer_module  # noqa: E402

base_train = trainer_module.NRMTrainer.train


def train_and_capture(self, *args, **kwargs):
    result = base_train(self, *args, **kwargs)
    captured["state"] = {k: v.detach().cpu().clone() for k, v in get_peft_model_state_dict(self.model).items()}
    return result


trainer_module.NRMTrainer.train = train_and_capture
run.train(cfg)
Path(out).mkdir(parents=True, exist_ok=True)
torch.save(captured["state"], Path(out) / f"rank{os.environ['RANK']}.pt")
