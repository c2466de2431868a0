"""The Noise Response Method's arithmetic, as pure tensor functions.

Per sample i with distortion d_i, real length L_i and hidden size h::

    delta0_i = beta(d_i) / sqrt(L_i * h) * U(-eps, eps)        (on masked positions only)
    g_i      = d L(f(X + delta0), y) / d delta0_i              (no parameter gradients)
    delta1_i = delta0_i + alpha_i * g_i / ||g_i||_F           (alpha_i = alpha, or alpha * beta(d_i): nrm_step)
    loss     = L(f(X), y) + lambda * L(f(X + delta1), y)
"""

from __future__ import annotations

import bisect
from typing import Sequence

import torch
import torch.nn.functional as F


def beta_linear(d: torch.Tensor, beta_min: float, beta_max: float) -> torch.Tensor:
    return beta_min + (beta_max - beta_min) * d.clamp(0.0, 1.0)


def beta_levels(d: torch.Tensor, thresholds: Sequence[float], levels: Sequence[float]) -> torch.Tensor:
    index = [bisect.bisect_right(list(thresholds), float(x)) for x in d.tolist()]
    return torch.tensor([levels[i] for i in index], dtype=d.dtype, device=d.device)


def initial_delta(shape: torch.Size, beta: torch.Tensor, lengths: torch.Tensor, mask: torch.Tensor, eps: float,
                  generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32,
                  device: torch.device | str = "cpu") -> torch.Tensor:
    """``beta_i / sqrt(L_i h) * U(-eps, eps)`` at masked positions, zero elsewhere (padding included)."""
    batch, _, hidden = shape
    noise = torch.rand(shape, generator=generator, dtype=torch.float32, device="cpu").to(device) * 2 - 1
    scale = beta.to(device).float() / torch.sqrt(lengths.to(device).float().clamp(min=1) * hidden)
    delta = noise * eps * scale.view(batch, 1, 1) * mask.to(device).unsqueeze(-1).float()
    return delta.to(dtype)


def ascent(delta0: torch.Tensor, grad: torch.Tensor, alpha: float | torch.Tensor, mask: torch.Tensor
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """``delta0 + alpha * g / ||g||_F`` per sample (``alpha`` one number, or one per sample); returns it and which
    samples had a finite gradient."""
    flat = grad.float().flatten(1)
    finite = torch.isfinite(flat).all(dim=1)
    safe = torch.where(finite.view(-1, 1), flat, torch.zeros_like(flat))
    norm = safe.norm(dim=1).clamp(min=1e-12)
    step = (safe / norm.view(-1, 1)).view_as(grad) * mask.unsqueeze(-1).float()
    size = torch.as_tensor(alpha, dtype=torch.float32, device=grad.device).reshape(-1, 1, 1)
    return delta0 + (size * step).to(delta0.dtype), finite


def answer_positions(labels: torch.Tensor) -> torch.Tensor:
    """Positions whose next token is an answer token in any row: the only logits the loss needs."""
    return (labels[:, 1:] != -100).any(dim=0).nonzero().squeeze(-1)


def token_losses(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample sum of cross-entropy of ``logits`` against aligned ``targets`` (-100 ignored), and counts.

    With ``keep = answer_positions(labels)``, pass the logits at ``keep`` and ``labels[:, 1:][:, keep]``:
    the vocabulary projection then runs on a few positions instead of the whole prompt.
    """
    loss = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), targets.reshape(-1),
                           ignore_index=-100, reduction="none").view(targets.shape)
    valid = targets != -100
    return (loss * valid).sum(dim=1), valid.sum(dim=1)
