"""Training throughput on the quick profile: today's trainer, the packed step, and ensembles, in one run.

    python benchmarks/training.py                         # 3 tasks, ensembles of 1, 3, 6, 12; 1 thread
    python benchmarks/training.py --threads 2 --steps 10 --tasks sort --sizes 1 6
    python benchmarks/training.py --reference             # also PyTorch's nn.TransformerEncoderLayer baseline
    python benchmarks/training.py --device cuda --tasks sort --sizes 1 4 16 64   # a GPU's ensembles

For each task it builds the quick profile's members as `experiments.train.Run` does (seeds 0, 1, ..., encodings
alternating APE / NoPE), samples every member's batches up front (the same examples for every variant: only
how they are laid out differs), and times, interleaved and repeated (the best repeat counts: other processes
share the CPU, so only ratios measured in one run mean anything; with one thread it counts this process's CPU
time, with more the wall time):

- today: the trainer before the packed step: `CausalTransformer.forward` on the padded batch (per-head einsum
  attention), cross-entropy over every position, `torch.optim.AdamW` (single-tensor);
- run: `training_step` as a `Run` takes it now (experiments/training/stacked_model.py: real tokens only, one QKV matmul,
  scaled_dot_product_attention, unembedding of scored tokens; fused AdamW);
- ensemble M: `experiments.ensemble` stepping M members at once (stacked parameters, batched AdamW);
- reference (--reference): the same shape built from `nn.TransformerEncoderLayer` (fused attention), with
  today's loss and optimizer.

It prints milliseconds per step, examples/s (steps only, and with each member's data sampling added),
models·steps/s, and each one's ratio to today's trainer.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from experiments.length.ensemble import _Stack  # noqa: E402
from experiments.length.profiles import QUICK  # noqa: E402
from experiments.length.train import Run, RunSpec  # noqa: E402
from experiments.training.data import IGNORE, Batch  # noqa: E402
from experiments.training.steps import optimizer_step, training_step  # noqa: E402


class ReferenceGPT(nn.Module):
    """The same shape as the quick model, from PyTorch's built-in encoder layers with a causal mask."""

    def __init__(self, vocab: int, positions: int, width: int, heads: int, layers: int, mlp: int):
        super().__init__()
        self.tok_emb, self.pos_emb = nn.Embedding(vocab, width), nn.Embedding(positions, width)
        layer = nn.TransformerEncoderLayer(width, heads, mlp, dropout=0.0, batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.ln_f, self.unembed = nn.LayerNorm(width), nn.Linear(width, vocab, bias=False)

    def forward(self, ids: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        mask = nn.Transformer.generate_square_subsequent_mask(ids.shape[1], device=ids.device)
        x = self.blocks(self.tok_emb(ids) + self.pos_emb(positions), mask=mask, is_causal=True)
        return self.unembed(self.ln_f(x))


def todays_step(model: nn.Module, optimizer: torch.optim.Optimizer, batch: Batch) -> torch.Tensor:
    """The trainer's step before the packed forward (commit 9f33aae): every padded position through the model."""
    logits = model(batch.ids, positions=batch.positions)
    loss = nn.functional.cross_entropy(logits.flatten(0, 1), batch.targets.flatten(), ignore_index=IGNORE)
    return optimizer_step(model, optimizer, loss)


def todays_optimizer(model: nn.Module) -> torch.optim.Optimizer:
    arch = QUICK.architecture
    return torch.optim.AdamW(model.parameters(), lr=arch.lr, weight_decay=QUICK.weight_decay, foreach=False)


def _clock(device: str) -> Callable[[], float]:
    """CPU seconds of this process with one CPU thread (other processes' load then counts less than in wall time);
    wall seconds with more threads, and on CUDA after the queued kernels have finished."""
    if device.startswith("cuda"):
        return lambda: (torch.cuda.synchronize(), time.perf_counter())[1]
    return time.process_time if torch.get_num_threads() == 1 else time.perf_counter


def seconds_per_step(step: Callable[[int], object], steps: int, device: str = "cpu") -> float:
    clock = _clock(device)
    started = clock()
    for k in range(steps):
        step(k)
    return (clock() - started) / steps


# long: the variants set up side by side, then timed interleaved, then one table
def benchmark_task(task: str, sizes: list[int], steps: int, repeats: int, reference: bool, device: str) -> None:
    arch, members = QUICK.architecture, max(sizes)
    specs = [RunSpec(task, ("ape", "nope")[i % 2], i, QUICK, arch) for i in range(members)]
    runs = [Run(spec, device=device) for spec in specs]
    clock = _clock(device)
    sampled_at = clock()
    for run in runs:
        run.begin_training()
    batches = [[run.next_batch() for _ in range(steps + 1)] for run in runs]  # one warm-up step each
    data_s = (clock() - sampled_at) / (members * (steps + 1))
    today, now = Run(specs[0], device=device).model, Run(specs[0], device=device)
    variants: dict[str, tuple[int, Callable[[int], object]]] = {}
    today_optimizer = todays_optimizer(today)
    variants["today"] = (1, lambda k: todays_step(today, today_optimizer, batches[0][k]))
    variants["run"] = (1, lambda k: training_step(now.model, now.optimizer, batches[0][k]))
    for size in sizes:
        stack = _Stack(runs[:size])
        variants[f"ensemble {size}"] = (size, lambda k, s=stack, n=size: s.step([b[k] for b in batches[:n]]))
    if reference:
        torch.manual_seed(0)
        ref = ReferenceGPT(
            len(now.vocab), now.max_positions, arch.width, arch.heads, arch.layers, arch.mlp_ratio * arch.width
        ).to(device)
        ref_optimizer = todays_optimizer(ref)
        variants["reference"] = (1, lambda k: todays_step(ref, ref_optimizer, batches[0][k]))
    for _, step in variants.values():
        step(steps)  # warm-up on the extra batch
    timings: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, (_, step) in variants.items():
            timings[name].append(seconds_per_step(step, steps, device))
    base = min(timings["today"])
    batch = QUICK.batch_size
    print(f"\n{task}: {len(now.vocab)} tokens, {now.max_positions} positions; data {data_s * 1000:.2f} ms/batch")
    print(
        f"  {'variant':12s} {'ms/step':>8s} {'examples/s':>11s} {'with data':>10s} {'models·steps/s':>15s}"
        f" {'× today':>8s}  (best of {repeats})"
    )
    for name, (size, _) in variants.items():
        best = min(timings[name])
        spread = (max(timings[name]) - best) / best
        print(
            f"  {name:12s} {best * 1000:8.2f} {size * batch / best:11.0f} {size * batch / (best + size * data_s):10.0f}"
            f" {size / best:15.1f} {base / best * size:8.2f}  (median {statistics.median(timings[name]) * 1000:.2f} ms,"
            f" spread {spread * 100:.0f}%)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=["dyck_4", "sort", "binary_majority"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1, 3, 6, 12], help="ensemble sizes")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per variant and repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (an experiment worker uses 1)")
    parser.add_argument("--reference", action="store_true", help="also time nn.TransformerEncoderLayer")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (wall time after synchronizing)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    arch = QUICK.architecture
    where = args.device if args.device.startswith("cuda") else f"{args.threads} thread(s)"
    print(f"quick model {arch.name}, mlp ×{arch.mlp_ratio}, batch {QUICK.batch_size}, {where}")
    for task in args.tasks:
        benchmark_task(task, args.sizes, args.steps, args.repeats, args.reference, args.device)


if __name__ == "__main__":
    main()
