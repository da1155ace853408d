"""Trained versus compiled: train the compiled model's own architecture on the program's own function, then
compare attention maps head by head.

Any compilable program defines a per-position labelling task: random inputs over a vocabulary, lengths
1..max_len, and at each position the label is the interpreter's output there. The sequence the model reads is
BOS + tokens (id 0 at position 0), exactly what the compiled model reads, and the output classes are the
compiled model's output units (its `DecodeSpec.output_values`). So a trained model of the *same* config (layers,
heads, head sizes, MLP widths, no layer norm, learned APE, the same causal mask and attention scale) can be
compared with the compiled one weight by weight and attention map by attention map.

    result = train_on_program(prog, vocab="abc", max_len=6, steps=2000, init="random")
    result.accuracy                         # exact match per sequence, every length 1..max_len
    table = compare_attention(result.compiled, result.model, inputs, png="heads.png")

`init="compiled"` starts from the compiled weights (fine-tuning) and reports how far weights and attention maps
drift while accuracy stays at 100%.

The comparison of attention maps (and its measure) is in `attention_maps.py`.
"""

from __future__ import annotations

import copy
import itertools
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from rasp.errors import RaspError, RaspInputError
from rasp.program import Program

from ..training.steps import optimizer_step

INITS = ("random", "compiled")


# ---- the program's function as a labelling task -------------------------------------------------------------


class ProgramTask:
    """Inputs over `vocab` of lengths 1..max_len, labelled by the interpreter at every position.

    Inputs on which the interpreter fails (e.g. a retrieval that selects differing non-numeric values), and
    inputs outside a compiled categorical retrieval's domain (it would average differing numbers), carry no
    label and are never used: the task is the function the compiled model computes exactly."""

    def __init__(self, program: Program, compiled, vocab: Sequence[Any]):
        spec = compiled.spec
        self.program, self.compiled, self.spec = program, compiled, spec
        self.vocab = list(vocab)
        self.max_len = spec.max_len
        self.kind = spec.output_kind
        if self.kind == "categorical":
            self.classes = {value: i for i, value in enumerate(spec.output_values)}

    def labels(self, inputs: Sequence[Sequence[Any]]) -> list[tuple[list, list] | None]:
        """(input, per-position targets) for each input, None where the input has no label."""
        from compiler.api import outside_retrieval_domain

        inputs = [list(seq) for seq in inputs]
        name = self.spec.output
        try:
            values: list = self.program.run_batch(inputs, output=name, causal=self.spec.causal)
        except RaspError:  # the interpreter fails on some input: find which
            values = []
            for seq in inputs:
                try:
                    values.append(self.program.run(seq, output=name, causal=self.spec.causal))
                except RaspError:
                    values.append(None)
        outside = outside_retrieval_domain(self.program, self.spec, inputs) if self.spec.retrievals else set()
        out: list[tuple[list, list] | None] = []
        for k, (seq, vals) in enumerate(zip(inputs, values)):
            if vals is None or k in outside:
                out.append(None)
            elif self.kind == "categorical":
                try:
                    out.append((seq, [self.classes[v] for v in vals]))
                except KeyError as exc:  # pragma: no cover - the compiler enumerates every output value
                    raise RaspError(
                        f"the output value {exc.args[0]!r} has no output unit in the compiled model"
                    ) from None
            else:
                out.append((seq, [float(v) for v in vals]))
        return out

    def sample(self, rng: random.Random, n: int, exclude: set | frozenset = frozenset()) -> list[list]:
        """n random inputs, lengths uniform in 1..max_len, tokens uniform; none of them in `exclude`."""
        inputs = []
        while len(inputs) < n:
            seq = [rng.choice(self.vocab) for _ in range(rng.randint(1, self.max_len))]
            if tuple(seq) not in exclude:
                inputs.append(seq)
        return inputs

    def evaluation_set(self, seed: int, per_length: int = 250) -> tuple[list[list], set[tuple]]:
        """Up to `per_length` distinct inputs of every length 1..max_len (all of them where there are fewer),
        and the held-out part: inputs of the lengths with at least twice as many inputs as were drawn. Training
        never sees a held-out input; at the short lengths the evaluation covers every input (there are too few
        to hold any out without leaving the length untrained)."""
        rng = random.Random(1_000_003 * (seed + 1))
        inputs, held_out = [], set()
        v = len(self.vocab)
        for length in range(1, self.max_len + 1):
            count = v**length
            if count <= per_length:
                drawn = [list(t) for t in itertools.product(self.vocab, repeat=length)]
            else:
                seen: set[tuple] = set()
                while len(seen) < per_length:
                    seen.add(tuple(rng.choice(self.vocab) for _ in range(length)))
                drawn = [list(t) for t in sorted(seen, key=repr)]
            if count >= 2 * len(drawn):
                held_out.update(tuple(seq) for seq in drawn)
            inputs.extend(drawn)
        return inputs, held_out


# ---- training -----------------------------------------------------------------------------------------------


@dataclass
class TrainResult:
    """What `train_on_program` returns (`summary()` is its JSON-able part)."""

    model: Any  # the trained CausalTransformer (it carries the compiled model's DecodeSpec)
    compiled: Any  # the compiled CausalTransformer
    init: str
    steps: int
    seed: int
    lr: float
    accuracy: float  # exact match per sequence on the evaluation set
    held_out_accuracy: float | None  # on the inputs training never saw (None when there are none)
    compiled_accuracy: float
    evaluation: dict  # size, held-out size, per-length accuracy
    history: list[dict] = field(default_factory=list)
    drift: dict | None = None  # init="compiled": how far the weights moved
    seconds: float = 0.0
    labelled_fraction: float = 1.0  # of random training inputs, the fraction with a label

    def summary(self) -> dict:
        cfg = self.compiled.cfg
        return {
            "init": self.init,
            "steps": self.steps,
            "seed": self.seed,
            "lr": self.lr,
            "accuracy": self.accuracy,
            "held_out_accuracy": self.held_out_accuracy,
            "compiled_accuracy": self.compiled_accuracy,
            "evaluation": self.evaluation,
            "labelled_fraction": self.labelled_fraction,
            "config": {
                "d_model": cfg.d_model,
                "n_layers": cfg.n_layers,
                "heads": cfg.heads(),
                "head_dims": cfg.head_dims(),
                "mlp_dims": cfg.mlp_dims(),
                "n_out": cfg.n_out,
                "causal": cfg.causal,
                "parameters": self.compiled.num_parameters(),
            },
            "output_kind": self.compiled.spec.output_kind,
            "drift": self.drift,
            "history": self.history,
            "seconds": round(self.seconds, 2),
        }


def fresh_model(compiled, seed: int, dtype: torch.dtype | None = None):
    """A randomly initialized CausalTransformer with the compiled model's config (and its DecodeSpec).

    The class's own initialization (std 0.02, GPT-2's) assumes layer norm rescales the residual stream; the
    compiled config has none, so at std 0.02 every signal is ~1e-3 and training stalls (hist at max_len 6:
    ~10% exact match after 2,000 steps). We use a variance-preserving scale instead: embeddings N(0, 1), W_Q,
    W_K, W_V and the unembedding N(0, 1/d_model), W_O N(0, 1/(4 · heads · d_head)), MLPs torch's default."""
    from compiler.model import CausalTransformer

    torch.manual_seed(seed)
    model = CausalTransformer(replace(compiled.cfg), compiled.spec)
    d = model.cfg.d_model
    with torch.no_grad():
        for emb in (model.tok_emb, model.pos_emb):
            if emb is not None:
                emb.weight.normal_(0.0, 1.0)
        for block in model.blocks:
            if block.attn is not None:
                for w in (block.attn.W_Q, block.attn.W_K, block.attn.W_V):
                    w.normal_(0.0, d**-0.5)
                n_heads, d_head = block.attn.W_O.shape[:2]
                block.attn.W_O.normal_(0.0, 0.5 * (n_heads * d_head) ** -0.5)
        model.unembed.weight.normal_(0.0, d**-0.5)
    return model.to(dtype=dtype or compiled.tok_emb.weight.dtype)


def _loss(model, task: ProgramTask, examples: list[tuple[list, list]]) -> torch.Tensor:
    """Mean loss over every labelled position (BOS excluded); batches grouped by length, so no padding is
    ever attended to (bidirectional models have no mask)."""
    groups: dict[int, list[tuple[list, list]]] = defaultdict(list)
    for ex in examples:
        groups[len(ex[0])].append(ex)
    device = model.device
    total = torch.zeros((), dtype=model.tok_emb.weight.dtype, device=device)
    positions = 0
    for group in groups.values():
        ids = torch.tensor([model.encode(seq) for seq, _ in group], device=device)
        logits = model(ids)[:, 1:]
        if task.kind == "categorical":
            targets = torch.tensor([t for _, t in group], device=device)
            total = total + torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="sum")
        else:
            targets = torch.tensor([t for _, t in group], dtype=logits.dtype, device=device)
            total = total + (logits[..., 0] - targets).pow(2).sum()
        positions += targets.numel()
    return total / max(positions, 1)


def accuracy_by_length(program: Program, model, inputs: list[list], held_out: set[tuple]) -> dict:
    """Exact match per sequence (every position decoded right), overall, held-out, and per length."""
    from compiler.api import verify

    per_length = {}
    by_length: dict[int, list[list]] = defaultdict(list)
    for seq in inputs:
        by_length[len(seq)].append(seq)
    agreed = n = 0
    for length, group in sorted(by_length.items()):
        a = verify(program, model, inputs=group)
        per_length[length] = float(a)
        agreed, n = agreed + a.agreed, n + a.n
    held = [list(t) for t in held_out]
    held_acc = float(verify(program, model, inputs=held)) if held else None
    return {"accuracy": agreed / n if n else math.nan, "held_out_accuracy": held_acc, "per_length": per_length, "n": n}


def weight_drift(before, after) -> dict:
    """Relative Frobenius distance ‖W − W₀‖ / ‖W₀‖ per parameter tensor and over all parameters."""
    per = {}
    num = den = 0.0
    b = dict(before.named_parameters())
    for name, p in after.named_parameters():
        p0 = b[name].detach().to(torch.float64)
        diff = (p.detach().to(torch.float64) - p0).norm().item()
        norm = p0.norm().item()
        num, den = num + diff**2, den + norm**2
        per[name] = {"relative": diff / norm if norm else None, "absolute": diff}
    return {"relative": math.sqrt(num) / math.sqrt(den) if den else None, "per_parameter": per}


# long: a third of it is the docstring, a third the result record
def train_on_program(
    program: Program,
    vocab: Iterable[Any],
    max_len: int,
    steps: int = 2000,
    init: str = "random",
    seed: int = 0,
    lr: float | None = None,
    batch_size: int = 64,
    weight_decay: float = 0.01,
    dtype: torch.dtype | None = None,
    per_length: int = 250,
    eval_every: int | None = None,
    device: str | None = None,
    compiled=None,
    progress: Callable[[dict], None] | None = None,
) -> TrainResult:
    """Train a CausalTransformer of the compiled model's config on the program's per-position function.

    `init="random"`: a fresh model (seeded); `init="compiled"`: start from the compiled weights. AdamW with a
    linear learning-rate decay, gradient clipping at 1, batches of `batch_size` random inputs of lengths
    1..max_len. Loss: cross-entropy over the compiled model's output units (categorical outputs), mean squared
    error on the single output unit (numerical outputs; accuracy then decodes like the compiled model: snapped
    to the output's value set where it is known, else within 1e-4). `lr` defaults to 3e-3 from random and
    1e-5 from compiled weights (at 1e-4 AdamW knocks reverse's selector-width head off its count; see
    docs/trained_vs_compiled.md). `dtype`: the compiled model's (float64) unless given."""
    import compiler

    if init not in INITS:
        raise RaspInputError(f"init must be one of {', '.join(INITS)}, not {init!r}")
    if steps < 0:
        raise RaspInputError("steps must be ≥ 0")
    vocab = list(dict.fromkeys(vocab))
    started = time.perf_counter()
    if compiled is None:
        compiled = compiler.compile(program, vocab, max_len)
    if device is not None:
        compiled = compiled.to(device)
    if dtype is not None:
        compiled = compiled.to(dtype=dtype)
    task = ProgramTask(program, compiled, vocab)
    eval_inputs, held_out = task.evaluation_set(seed, per_length)
    model = fresh_model(compiled, seed, dtype).to(compiled.device) if init == "random" else copy.deepcopy(compiled)
    lr = lr if lr is not None else (3e-3 if init == "random" else 1e-5)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1 - s / max(steps, 1))
    rng = random.Random(seed)
    eval_every = eval_every or max(1, steps // 10)
    history: list[dict] = []
    tally = [0, 0]  # inputs drawn, inputs the interpreter labels
    for step in range(1, steps + 1):
        examples = _labelled_batch(task, rng, batch_size, held_out, tally)
        model.train()
        loss = optimizer_step(model, optimizer, _loss(model, task, examples))
        schedule.step()
        if step % eval_every == 0 or step == steps:
            model.eval()
            acc = accuracy_by_length(program, model, eval_inputs, held_out)["accuracy"]
            record = {"step": step, "loss": loss.item(), "accuracy": acc}
            history.append(record)
            if progress:
                progress(record)
    model.eval()
    measured = accuracy_by_length(program, model, eval_inputs, held_out)
    compiled_measured = accuracy_by_length(program, compiled, eval_inputs, set())
    return TrainResult(
        model=model,
        compiled=compiled,
        init=init,
        steps=steps,
        seed=seed,
        lr=lr,
        accuracy=measured["accuracy"],
        held_out_accuracy=measured["held_out_accuracy"],
        compiled_accuracy=compiled_measured["accuracy"],
        evaluation={
            "inputs": measured["n"],
            "held_out": len(held_out),
            "per_length": measured["per_length"],
        },
        history=history,
        drift=weight_drift(compiled, model) if init == "compiled" else None,
        seconds=time.perf_counter() - started,
        labelled_fraction=tally[1] / tally[0] if tally[0] else 1.0,
    )


def _labelled_batch(task: ProgramTask, rng: random.Random, size: int, held_out: set, tally: list[int]) -> list:
    """`size` random inputs the interpreter gives values on (outside the held-out set), with their labels; counts
    draws in `tally`, and stops with a reason when the program's function is undefined on random inputs."""
    examples: list[tuple[list, list]] = []
    while len(examples) < size:
        inputs = task.sample(rng, size - len(examples), exclude=held_out)
        got = [ex for ex in task.labels(inputs) if ex is not None]
        tally[0], tally[1] = tally[0] + len(inputs), tally[1] + len(got)
        if not got and tally[0] > 50 * size and tally[1] == 0:
            raise RaspInputError(
                f"the interpreter gives no value on random inputs over {task.vocab} (tried {tally[0]}); "
                "this program's function is not defined on random inputs"
            )
        examples.extend(got)
    return examples
