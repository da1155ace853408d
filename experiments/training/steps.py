"""The trainer core both studies share: one optimizer update, the loss it follows, and exact match.

The length-generalization runs (experiments/length/train.py), the compiled-vs-trained study
(experiments/compiled/study.py) and the benchmarks' baselines all step through `optimizer_step`, so a change
to clipping or zeroing reaches every trainer at once.
"""

from __future__ import annotations

import torch

from .data import IGNORE, Batch
from .stacked_model import member_losses, pack, position_regularizers, stacked_parameters


def position_regularizer(model) -> torch.Tensor:
    """Huang et al.'s APE regularizer of one model (experiments/stacked_model.py: `position_regularizers`)."""
    return position_regularizers(stacked_parameters(model))[0]


def training_step(model, optimizer: torch.optim.Optimizer, batch: Batch, reg_coefficient: float = 0.0) -> torch.Tensor:
    """One optimizer step on the answer tokens' cross-entropy (plus the position regularizer, if a coefficient is
    given), with gradient clipping; returns the loss. The forward pass is the packed one of
    experiments/stacked_model.py (no work on padding). Shared by `Run` and benchmarks/training.py."""
    params = stacked_parameters(model)
    loss = member_losses(params, model.cfg, pack([batch]))[0]
    if reg_coefficient:
        loss = loss + reg_coefficient * position_regularizers(params)[0]
    return optimizer_step(model, optimizer, loss)


def optimizer_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> torch.Tensor:
    """The update every trainer here makes (length generalization, compiled vs trained, the benchmarks'
    baselines): gradients of `loss`, clipped to norm 1, one optimizer step."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return loss


def exact_match(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per example: whether every scored position's argmax is its target."""
    scored = targets != IGNORE
    correct = (logits.argmax(-1) == targets) | ~scored
    return correct.all(dim=1)
