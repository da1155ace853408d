"""Train several runs of one architecture and task as one batched model: an ensemble.

Tiny models leave the hardware idle between small operations; stacking M members' parameters (M × ...) turns
each member's matmul into one batched matmul and M optimizer updates into one. Each member is a real `Run`
(experiments/length/train.py): it draws its own batches from its own random stream, keeps its own learning-rate
schedule, evaluations, early stop, give-up and extensions (`Run.after_step`), and writes its own checkpoint —
the same file, in the same format, as the separate run would (its weights and AdamW state copied back into the
member's model and optimizer at every evaluation), so a run started in an ensemble resumes alone or in another
ensemble, and back. Only the forward/backward pass (experiments/training/stacked_model.py) and the AdamW update are
shared. A member that stops leaves the stack; the rest go on.

Members may differ in seed, positional encoding (ape / nope / reg: a NoPE member carries a zero position table
that its mask keeps out of the forward pass, and so out of its gradient) and learning rate (sweep points);
they must share the task, profile and architecture's shape (layers, heads, width, MLP ratio).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from ..training.data import Batch
from ..training.stacked_model import member_losses, pack, position_regularizers
from .profiles import Architecture
from .train import Run, RunSpec


def shape_key(spec: RunSpec) -> tuple:
    """What members of one ensemble must share: everything but the seed, the encoding and the learning rate."""
    arch: Architecture = spec.architecture
    return (spec.task, spec.profile, spec.data, arch.layers, arch.heads, arch.width, arch.mlp_ratio)


class Ensemble:
    """Runs of one shape, trained together; `execute()` returns each member's `Run.execute()` record, in order."""

    def __init__(
        self,
        specs: list[RunSpec],
        checkpoint_dir: Path | None = None,
        device: str = "cpu",
        progress: Callable | None = None,
    ):
        if not specs:
            raise ValueError("an ensemble needs at least one run")
        if len({shape_key(s) for s in specs}) > 1:
            raise ValueError("an ensemble's runs must share task, profile and architecture shape")
        self.runs = [Run(spec, checkpoint_dir, device, progress) for spec in specs]

    def execute(self) -> list[dict]:
        started = time.perf_counter()
        resumed = [run.resume() for run in self.runs]
        self.train([run for run in self.runs if not run.finished])
        return [run.result(r, started) for run, r in zip(self.runs, resumed)]

    def train(self, runs: list[Run]) -> None:
        """Train the runs to their ends; whenever some stop, the others go on in a smaller stack."""
        for run in runs:
            run.begin_training()
        active = [run for run in runs if run.training]
        with warnings.catch_warnings():  # the schedules step without their optimizers' `step`: the stack updates
            warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step\\(\\)` before")
            while active:
                stack = _Stack(active)
                while all(run.training for run in active):
                    losses = stack.step([run.next_batch() for run in active])
                    for run, loss in zip(active, losses):
                        run.after_step(loss)
                for i, run in enumerate(active):
                    if run.training:  # it goes on in the next stack, from where this one left it
                        stack.write_back(i)
                    run.before_eval = None
                active = [run for run in active if run.training]


class _Stack:
    """The members' parameters and AdamW state stacked along a leading axis, and one training step over them."""

    def __init__(self, runs: list[Run]):
        self.runs = runs
        with_table = [run for run in runs if run.model.pos_emb is not None]
        template = (with_table or runs)[0].model
        self.cfg = template.cfg
        self.names = [name for name, _ in template.named_parameters()]
        device = template.device
        self.use_positions = torch.tensor([run.model.pos_emb is not None for run in runs], device=device)
        coefficient = [run.spec.profile.reg_coefficient if run.spec.pe == "reg" else 0.0 for run in runs]
        self.reg = torch.tensor(coefficient, device=device) if any(coefficient) else None
        group = runs[0].optimizer.param_groups[0]
        self.betas, self.eps, self.weight_decay = group["betas"], group["eps"], group["weight_decay"]
        own = [dict(run.model.named_parameters()) for run in runs]
        states = [
            [run.optimizer.state.get(params[n], {}) if n in params else {} for n in self.names]
            for run, params in zip(runs, own)
        ]
        like = dict(template.named_parameters())

        def stacked(per_member: Callable[[int, str], torch.Tensor | None], name: str) -> torch.Tensor:
            rows = [per_member(i, name) for i in range(len(runs))]
            return torch.stack([r.detach() if r is not None else torch.zeros_like(like[name]) for r in rows]).clone()

        self.params = {n: stacked(lambda i, n: own[i].get(n), n).requires_grad_() for n in self.names}
        self.exp_avg = {n: stacked(lambda i, n, k=k: states[i][k].get("exp_avg"), n) for k, n in enumerate(self.names)}
        self.exp_avg_sq = {
            n: stacked(lambda i, n, k=k: states[i][k].get("exp_avg_sq"), n) for k, n in enumerate(self.names)
        }
        steps = [float(s[0]["step"]) if s and "step" in s[0] else 0.0 for s in states]
        self.adam_steps = torch.tensor(steps, device=device)
        self.same_steps = len(set(steps)) == 1  # members that resumed at different steps take `_update`'s own path
        self.fused = torch.optim.AdamW(
            [self.params[n] for n in self.names],
            betas=self.betas,
            eps=self.eps,
            weight_decay=self.weight_decay,
            fused=True,
        )
        for name in self.names:  # the fused optimizer updates the stack's own state in place
            self.fused.state[self.params[name]] = {
                "step": torch.tensor(steps[0], device=device),
                "exp_avg": self.exp_avg[name],
                "exp_avg_sq": self.exp_avg_sq[name],
            }
        for i, run in enumerate(runs):
            run.before_eval = lambda i=i: self.write_back(i)

    def step(self, batches: list[Batch]) -> torch.Tensor:
        """One AdamW step of every member on its own batch (loss, clipping and update per member); its losses."""
        losses = member_losses(self.params, self.cfg, pack(batches), self.use_positions)
        if self.reg is not None:
            losses = losses + self.reg * position_regularizers(self.params)
        grads = torch.autograd.grad(losses.sum(), [self.params[n] for n in self.names])
        self._update(dict(zip(self.names, grads)))
        return losses.detach()

    @torch.no_grad()
    def _update(self, grads: dict[str, torch.Tensor]) -> None:
        """torch.optim.AdamW's update after clip_grad_norm_(1.0), per member: with the fused optimizer over the stack
        when the members share learning rate and step count, else elementwise with per-member rates."""
        members = len(self.runs)

        def per_member(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
            return values.view(members, *([1] * (like.dim() - 1)))

        norms = torch.stack([g.pow(2).flatten(1).sum(dim=1) for g in grads.values()]).sum(dim=0).sqrt()
        clip = (1.0 / (norms + 1e-6)).clamp(max=1.0)
        rates = [run.optimizer.param_groups[0]["lr"] for run in self.runs]
        if len(set(rates)) == 1 and self.same_steps:  # one rate and step count: AdamW's own fused kernel
            for name in self.names:
                self.params[name].grad = (grads[name] * per_member(clip, grads[name])).contiguous()
            self.fused.param_groups[0]["lr"] = rates[0]
            self.fused.step()
            self.adam_steps += 1
            for name in self.names:
                self.params[name].grad = None
            return
        lr = torch.tensor(rates, device=norms.device)
        self.adam_steps += 1
        beta1, beta2 = self.betas
        step_size = lr / (1 - beta1**self.adam_steps)
        correction2 = (1 - beta2**self.adam_steps).sqrt()
        for name in self.names:
            param, grad = self.params[name], grads[name] * per_member(clip, grads[name])
            param.mul_(1 - per_member(lr * self.weight_decay, param))
            self.exp_avg[name].lerp_(grad, 1 - beta1)
            self.exp_avg_sq[name].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            denom = (self.exp_avg_sq[name].sqrt() / per_member(correction2, param)).add_(self.eps)
            param.sub_(per_member(step_size, param) * self.exp_avg[name] / denom)

    @torch.no_grad()
    def write_back(self, i: int) -> None:
        """Member i's weights and AdamW state into its own model and optimizer (what its checkpoint saves)."""
        run = self.runs[i]
        for name, param in run.model.named_parameters():
            param.copy_(self.params[name][i])
            run.optimizer.state[param] = {
                "step": torch.tensor(float(self.adam_steps[i]), device=param.device),  # as fused AdamW keeps it
                "exp_avg": self.exp_avg[name][i].clone(),
                "exp_avg_sq": self.exp_avg_sq[name][i].clone(),
            }
