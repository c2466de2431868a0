"""A FreeLB-style method registered from your own code (the README's example): K ascent steps on the embedding
output, the parameter gradients of every step accumulated (Zhu et al., 2020).

    anit train --method freelb --plugins docs/examples/freelb.py --data noisy.jsonl
"""

import torch

from anit.training.methods import register_method


@register_method("freelb")
def freelb(trainer, model, embeds, inputs, den, steps: int = 3, alpha: float = 0.1, eps: float = 0.01):
    """FreeLB: K normalised ascent steps on the instruction tokens' embeddings, the loss averaged over them."""
    mask = trainer.perturbation_mask(inputs).unsqueeze(-1).to(embeds.dtype)
    delta = (torch.rand(embeds.shape, generator=trainer.generator()) * 2 - 1).to(embeds) * eps * mask
    total = 0.0
    for _ in range(steps):
        delta.requires_grad_(True)
        sums, counts = trainer.losses(model, embeds + delta, inputs)
        loss = sums.sum() / den / steps
        total = total + loss
        (grad,) = torch.autograd.grad(loss, delta, retain_graph=True)
        norm = grad.flatten(1).norm(dim=1).clamp(min=1e-12).view(-1, 1, 1)
        delta = (delta + alpha * grad / norm).detach() * mask
    trainer.record_tasks(sums, counts, inputs)
    return total
