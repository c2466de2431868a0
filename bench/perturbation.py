"""What moves the loss in the NRM perturbation: the uniform start (its size set by beta) or the normalised
ascent step (alpha)? On one fixed batch of the base model, the answer-token loss at X + delta1 for a grid
of beta and alpha, against the clean loss, averaged over draws of the start.

    python -m bench.perturbation [--dataset sst2] [--records 8] [--betas 1 3 10 50] [--alphas 0 0.1 1]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import torch

from bench.common import run_benchmark, save

from anit.data import default_data_dir
from anit.data.prepare import prepare
from anit.models import load_model, load_tokenizer
from anit.training import nrm
from anit.training.data import Collator, InstructionDataset
from anit.training.trainer import NRMTrainer

MODEL = "smollm2-135m"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="sst2")
    parser.add_argument("--records", type=int, default=8)
    parser.add_argument("--betas", nargs="+", type=float, default=[1.0, 3.0, 10.0, 50.0])
    parser.add_argument("--alphas", nargs="+", type=float, default=[0.0, 0.1, 1.0])
    parser.add_argument("--draws", type=int, default=3, help="Draws of the uniform start per cell.")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    records = prepare(args.dataset, "train", args.records, 0, data_dir=args.data_dir or default_data_dir())[0]
    tokenizer, model = load_tokenizer(MODEL), load_model(MODEL)
    model.eval()
    dataset = InstructionDataset(records, tokenizer, {}, 0, 256)
    batch = Collator(tokenizer.pad_token_id)([dataset[i] for i in range(len(records))])
    embeds = model.get_input_embeddings()(batch["input_ids"]).detach()
    mask = batch["instruction_mask"] * batch["attention_mask"]
    lengths = batch["attention_mask"].sum(1)

    def loss(inputs: torch.Tensor) -> torch.Tensor:
        sums, counts = NRMTrainer.losses(model, inputs, batch)
        return sums.sum() / counts.sum()

    with torch.no_grad():
        clean = float(loss(embeds))
    instruction_norm = float((embeds * mask.unsqueeze(-1)).norm())
    rows = []
    for beta in args.betas:
        for alpha in args.alphas:
            losses, sizes = [], []
            for draw in range(args.draws):
                generator = torch.Generator().manual_seed(draw)
                delta0 = nrm.initial_delta(embeds.shape, torch.full((len(records),), beta), lengths, mask, 1.0,
                                           generator).requires_grad_(True)
                (grad,) = torch.autograd.grad(loss(embeds + delta0), delta0)
                delta1, _ = nrm.ascent(delta0.detach(), grad, alpha, mask)
                with torch.no_grad():
                    losses.append(float(loss(embeds + delta1)))
                sizes.append(float(delta1.norm()) / instruction_norm)
            mean = statistics.fmean(losses)
            rows.append({"beta": beta, "alpha": alpha, "loss": mean,
                         "rise over clean": f"{(mean - clean) / clean:+.1%}",
                         "delta1 norm / instruction embeddings norm": statistics.fmean(sizes)})
    heading = (f"{args.dataset}, {MODEL} base, {args.records} training records (raw instructions), perturbation on "
               f"instruction tokens, eps 1, {args.draws} draws per cell; clean loss {clean:.4f}")
    save("perturbation", "NRM perturbation: what moves the loss", [(heading, rows)],
         ["beta scales the uniform start, beta_i / sqrt(L_i h) * U(-1, 1); alpha is the Frobenius norm of the "
          "ascent step added to it (nrm.py). The ratio compares the whole batch's perturbation with its "
          "instruction tokens' embeddings."])


if __name__ == "__main__":
    run_benchmark(main)
