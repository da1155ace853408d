"""Training throughput: where a quick-profile training step spends its time, against PyTorch's own layers.

    python benchmarks/training.py                 # 3 tasks, 200 timed steps each, 1 thread (as a worker runs)
    python benchmarks/training.py --steps 50 --threads 2 --tasks dyck_4

For each task it builds the quick profile's model (APE) exactly as `experiments.train.Run` does and times, on the
same pre-sampled batches:

- data: sampling and collating one training batch (`Run.batch`, with position offsets);
- step: one AdamW step of our `CausalTransformer` (forward, loss, backward, clipping, update);
- reg: the same with the position regularizer added to the loss (pe = reg);
- reference: one AdamW step of a baseline of the same size built from PyTorch's `nn.TransformerEncoderLayer`
  (pre-norm, causal mask, ReLU MLP, the same embeddings and unembedding), run in the same process.

It prints milliseconds per step and the ratios step / reference, reg / step and data / step. The reference is
not the same function as our model (its attention is fused; ours keeps per-head weight matrices, which the
compiler and the attention maps read), so the ratio says what our readable layout costs, not a bug.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from experiments.profiles import QUICK  # noqa: E402
from experiments.train import Run, RunSpec, training_step  # noqa: E402


class ReferenceGPT(nn.Module):
    """The same shape as the quick model, from PyTorch's built-in encoder layers with a causal mask."""

    def __init__(self, vocab: int, positions: int, width: int, heads: int, layers: int, mlp: int):
        super().__init__()
        self.tok_emb, self.pos_emb = nn.Embedding(vocab, width), nn.Embedding(positions, width)
        layer = nn.TransformerEncoderLayer(width, heads, mlp, dropout=0.0, batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.ln_f, self.unembed = nn.LayerNorm(width), nn.Linear(width, vocab, bias=False)

    def forward(self, ids: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        mask = nn.Transformer.generate_square_subsequent_mask(ids.shape[1])
        x = self.blocks(self.tok_emb(ids) + self.pos_emb(positions), mask=mask, is_causal=True)
        return self.unembed(self.ln_f(x))


def timed_steps(model: nn.Module, batches: list, reg_coefficient: float = 0.0) -> float:
    """Milliseconds per AdamW step (the trainer's own `training_step`) over `batches`, after two warm-up steps."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    for batch in batches[:2]:
        training_step(model, optimizer, batch, reg_coefficient)
    started = time.perf_counter()
    for batch in batches:
        training_step(model, optimizer, batch, reg_coefficient)
    return (time.perf_counter() - started) * 1000 / len(batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=["dyck_4", "sort", "binary_majority"])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (an experiment worker uses 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    arch = QUICK.architecture
    print(f"quick model {arch.name}, mlp ×{arch.mlp_ratio}, batch {QUICK.batch_size}, {args.threads} thread(s)")
    print(f"{'task':18s} {'data':>7s} {'step':>7s} {'reg':>7s} {'ref':>7s}   step/ref  reg/step  data/step  (ms)")
    for task in args.tasks:
        run = Run(RunSpec(task, "ape", 0, QUICK, arch))
        rng = random.Random(0)
        started = time.perf_counter()
        batches = [run.batch(rng, QUICK.train_lengths, QUICK.batch_size, offsets=True) for _ in range(args.steps)]
        data_ms = (time.perf_counter() - started) * 1000 / args.steps
        step_ms = timed_steps(run.model, batches)
        reg_ms = timed_steps(Run(RunSpec(task, "reg", 0, QUICK, arch)).model, batches, QUICK.reg_coefficient)
        torch.manual_seed(0)
        reference = ReferenceGPT(
            len(run.vocab), run.max_positions, arch.width, arch.heads, arch.layers, arch.mlp_ratio * arch.width
        )
        ref_ms = timed_steps(reference, batches)
        print(
            f"{task:18s} {data_ms:7.2f} {step_ms:7.2f} {reg_ms:7.2f} {ref_ms:7.2f}"
            f"   {step_ms / ref_ms:8.2f}  {reg_ms / step_ms:8.2f}  {data_ms / step_ms:9.2f}"
        )


if __name__ == "__main__":
    main()
