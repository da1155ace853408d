"""`CausalTransformer`: one decoder-only transformer class for compiled and for trained models.

Read top to bottom, nanoGPT-style:

    ids ──token embedding──┐
    positions ──APE table──┴─▶ x            (learned absolute positions, max_len + 1 rows, BOS at 0;
                                             pos_encoding="nope" leaves them out)
    for each block:   x = x + attention(ln1(x))   causal multi-head attention, per-head W_Q W_K W_V W_O
                      x = x + mlp(ln2(x))         ReLU MLP
    logits = unembed(ln_f(x))

Layer norm is optional (off for compiled models). Every layer may have its own head count, head size and
MLP width; a layer with 0 heads has no attention, one with MLP width 0 no MLP. A compiled model also carries
a `DecodeSpec` (its vocabulary, the output's values, the residual labels) so `model.run(tokens)` gives the
interpreter's values.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from rasp.errors import RaspInputError


@dataclass
class TransformerConfig:
    vocab_size: int  # input ids (a compiled model's id 0 is BOS)
    max_len: int  # longest sequence after BOS; the position table has max_len + 1 rows
    d_model: int
    n_layers: int
    n_heads: int | list[int] = 1
    d_head: int | list[int] | None = None  # default d_model // n_heads
    d_mlp: int | list[int] | None = None  # default 4 * d_model
    n_out: int | None = None  # unembedding size (default vocab_size)
    pos_encoding: str = "ape"  # "ape" (learned absolute) or "nope" (none)
    layer_norm: bool = False
    causal: bool = True
    bias: bool = False
    attn_scale: float | None = None  # multiplies q·k; None: 1/sqrt(d_head)
    dropout: float = 0.0
    # Local positional relations: a score bias per head for each offset i - j < rel_window (0: none). Its size does
    # not depend on the input length (the limit construction reads the token d positions back with it).
    rel_window: int = 0

    def __post_init__(self) -> None:
        if self.pos_encoding not in ("ape", "nope"):
            raise RaspInputError(f"pos_encoding must be 'ape' or 'nope', not {self.pos_encoding!r}")

    def _per_layer(self, value: Any, default: Any) -> list[int]:
        value = default if value is None else value
        return list(value) if isinstance(value, (list, tuple)) else [value] * self.n_layers

    def heads(self) -> list[int]:
        return self._per_layer(self.n_heads, 1)

    def head_dims(self) -> list[int]:
        return [
            d if d is not None else self.d_model // max(h, 1)
            for d, h in zip(
                self._per_layer(self.d_head, None) if self.d_head is not None else [None] * self.n_layers, self.heads()
            )
        ]

    def mlp_dims(self) -> list[int]:
        return self._per_layer(self.d_mlp, 4 * self.d_model)

    def to_dict(self) -> dict:
        return asdict(self)


class Attention(nn.Module):
    """Multi-head attention with per-head weight matrices (heads × d_model × d_head)."""

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_head: int,
        bias: bool,
        scale: float | None,
        causal: bool,
        rel_window: int = 0,
    ):
        super().__init__()
        self.n_heads, self.d_head, self.causal = n_heads, d_head, causal
        self.scale = 1.0 / math.sqrt(d_head) if scale is None else scale
        self.W_Q = nn.Parameter(torch.randn(n_heads, d_model, d_head) * 0.02)
        self.W_K = nn.Parameter(torch.randn(n_heads, d_model, d_head) * 0.02)
        self.W_V = nn.Parameter(torch.randn(n_heads, d_model, d_head) * 0.02)
        self.W_O = nn.Parameter(torch.randn(n_heads, d_head, d_model) * 0.02)
        self.b_O = nn.Parameter(torch.zeros(d_model)) if bias else None
        self.rel_bias = nn.Parameter(torch.zeros(n_heads, rel_window)) if rel_window else None
        # A probe's intervention, not part of the architecture: when set, a causal query sees only keys at most this
        # far back (and BOS), e.g. the distances a model met in training (experiments/length/probes.py).
        self.reach: int | None = None

    def forward(self, x: torch.Tensor, cache: dict | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """`cache` (generation): keys and values of the positions before x's, extended in place with x's."""
        q = torch.einsum("btd,hde->bhte", x, self.W_Q)
        k = torch.einsum("btd,hde->bhte", x, self.W_K)
        v = torch.einsum("btd,hde->bhte", x, self.W_V)
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        scores = torch.einsum("bhte,bhse->bhts", q, k) * self.scale
        if self.rel_bias is not None:
            scores = scores + self.offset_bias(q.shape[2], k.shape[2], x.device)
        if self.causal:
            t, s = q.shape[2], k.shape[2]  # query i is position s - t + i: it sees keys up to there
            mask = torch.ones(t, s, dtype=torch.bool, device=x.device).tril(diagonal=s - t)
            if self.reach is not None:
                mask = mask.triu(diagonal=s - t - self.reach)
                mask[:, 0] = True  # BOS stays in reach: the place a head with nothing to attend to rests
            scores = scores.masked_fill(~mask, float("-inf"))
        pattern = scores.softmax(dim=-1)  # batch × heads × query × key
        z = torch.einsum("bhts,bhse->bhte", pattern, v)
        out = torch.einsum("bhte,hed->btd", z, self.W_O)
        if self.b_O is not None:
            out = out + self.b_O
        return out, pattern

    def offset_bias(self, t: int, s: int, device: torch.device) -> torch.Tensor:
        """heads × t × s: rel_bias[h, i - j] where 0 ≤ i - j < rel_window (query i at position s - t + i), else 0."""
        window = self.rel_bias.shape[1]
        offsets = torch.arange(s - t, s, device=device)[:, None] - torch.arange(s, device=device)[None, :]
        inside = (offsets >= 0) & (offsets < window)
        return self.rel_bias[:, offsets.clamp(0, window - 1)] * inside


class MLP(nn.Module):
    def __init__(self, d_model: int, d_mlp: int, bias: bool):
        super().__init__()
        self.fc_in = nn.Linear(d_model, d_mlp, bias=bias)
        self.fc_out = nn.Linear(d_mlp, d_model, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc_out(F.relu(self.fc_in(x)))


class Block(nn.Module):
    def __init__(self, cfg: TransformerConfig, n_heads: int, d_head: int, d_mlp: int):
        super().__init__()
        norm = (lambda: nn.LayerNorm(cfg.d_model)) if cfg.layer_norm else nn.Identity
        self.ln1, self.ln2 = norm(), norm()
        self.attn = (
            Attention(cfg.d_model, n_heads, d_head, cfg.bias, cfg.attn_scale, cfg.causal, cfg.rel_window)
            if n_heads
            else None
        )
        self.mlp = MLP(cfg.d_model, d_mlp, cfg.bias) if d_mlp else None
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, cache: dict | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        pattern = None
        if self.attn is not None:
            out, pattern = self.attn(self.ln1(x), cache)
            x = x + self.drop(out)
        if self.mlp is not None:
            x = x + self.drop(self.mlp(self.ln2(x)))
        return x, pattern


@dataclass
class DecodeSpec:
    """What a compiled model's ids and outputs mean."""

    vocab: list  # token of each input id; id 0 is BOS (its entry is None)
    max_len: int
    causal: bool
    output: str  # the program's output name
    output_kind: str  # "categorical" (argmax over output_values) or "numerical" (the single output)
    output_values: list | None  # categorical: the value of each output unit; numerical: the value set, if known
    residual_labels: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Categorical aggregates of numbers: [select id, values id, name]. Exact where the selected values agree
    # (a retrieval); `compiler.verify` counts inputs where they differ as outside the compiled domain.
    retrievals: list = field(default_factory=list)
    source: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class CausalTransformer(nn.Module):
    """Decoder-only transformer; `forward(ids) -> logits` (batch × positions × n_out)."""

    def __init__(self, cfg: TransformerConfig, spec: DecodeSpec | None = None):
        super().__init__()
        self.cfg, self.spec = cfg, spec
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos_emb = nn.Embedding(cfg.max_len + 1, cfg.d_model) if cfg.pos_encoding == "ape" else None
        self.blocks = nn.ModuleList(
            Block(cfg, h, d, m) for h, d, m in zip(cfg.heads(), cfg.head_dims(), cfg.mlp_dims())
        )
        self.ln_f = nn.LayerNorm(cfg.d_model) if cfg.layer_norm else nn.Identity()
        self.unembed = nn.Linear(cfg.d_model, cfg.n_out or cfg.vocab_size, bias=False)
        for emb in (self.tok_emb, self.pos_emb):
            if emb is not None:
                nn.init.normal_(emb.weight, std=0.02)
        nn.init.normal_(self.unembed.weight, std=0.02)

    # ---- the network ----------------------------------------------------------------------------

    def residual(
        self,
        ids: torch.Tensor,
        positions: torch.Tensor | None = None,
        return_attention: bool = False,
        cache: KVCache | None = None,
    ):
        """The residual stream after the last block (and, on request, every layer's attention pattern).
        With a `cache`, `ids` continue the positions already in it, and it is extended with theirs."""
        start = cache.length if cache is not None else 0
        x = self.tok_emb(ids)
        if self.pos_emb is not None:
            if positions is None:
                if start + ids.shape[1] > self.cfg.max_len + 1:
                    raise RaspInputError(
                        f"a sequence of {start + ids.shape[1]} positions is longer than the model's "
                        f"{self.cfg.max_len + 1} (max_len {self.cfg.max_len} and BOS)"
                    )
                positions = torch.arange(start, start + ids.shape[1], device=ids.device)
            x = x + self.pos_emb(positions)
        patterns = []
        for layer, block in enumerate(self.blocks):
            x, pattern = block(x, cache.layers[layer] if cache is not None else None)
            patterns.append(pattern)
        if cache is not None:
            cache.length += ids.shape[1]
        return (x, patterns) if return_attention else x

    def forward(
        self,
        ids: torch.Tensor,
        positions: torch.Tensor | None = None,
        return_attention: bool = False,
        cache: KVCache | None = None,
    ):
        """Logits for each position; with `return_attention`, also a list of per-layer patterns
        (batch × heads × query × key, None for a layer without attention); `cache` as in `residual`."""
        x, patterns = self.residual(ids, positions, return_attention=True, cache=cache)
        logits = self.unembed(self.ln_f(x))
        return (logits, patterns) if return_attention else logits

    def num_parameters(self, nonzero: bool = False) -> int:
        if nonzero:
            return int(sum((p != 0).sum().item() for p in self.parameters()))
        return sum(p.numel() for p in self.parameters())

    @property
    def device(self) -> torch.device:
        return self.tok_emb.weight.device

    # ---- compiled models: tokens in, the program's values out ---------------------------------

    def _spec(self) -> DecodeSpec:
        if self.spec is None:
            raise RaspInputError("this model was not compiled from a program, so it has no token decoding")
        return self.spec

    def encode(self, tokens: Sequence[Any]) -> list[int]:
        spec = self._spec()
        if not hasattr(self, "_token_ids"):
            self._token_ids = {t: i for i, t in enumerate(spec.vocab) if i > 0}
        if len(tokens) > spec.max_len:
            raise RaspInputError(
                f"the input has {len(tokens)} tokens; the model was compiled for max_len {spec.max_len}"
            )
        ids = [0]
        for t in tokens:
            i = self._token_ids.get(t)
            if i is None:
                shown = ", ".join(repr(v) for v in spec.vocab[1:][:20])
                raise RaspInputError(f"token {t!r} is not in the compiled model's vocabulary ({shown})")
            ids.append(i)
        return ids

    def decode(self, logits: torch.Tensor) -> list:
        """One sequence's logits (positions × n_out, BOS excluded) → values."""
        spec = self._spec()
        if spec.output_kind == "categorical":
            return [spec.output_values[i] for i in logits.argmax(dim=-1).tolist()]
        raw = logits[:, 0].tolist()
        if spec.output_values:
            import bisect

            values = spec.output_values
            numbers = [float(v) for v in values]
            out = []
            for r in raw:
                k = bisect.bisect_left(numbers, r)
                best = min((j for j in (k - 1, k) if 0 <= j < len(values)), key=lambda j: abs(numbers[j] - r))
                out.append(values[best])
            return out
        return [int(round(r)) if abs(r - round(r)) < 1e-9 else r for r in raw]

    @torch.no_grad()
    def run(self, tokens: Sequence[Any]) -> list:
        """The compiled program's output at every position."""
        return self.run_batch([tokens])[0]

    @torch.no_grad()
    def run_batch(self, batch: Sequence[Sequence[Any]], batch_size: int = 256) -> list[list]:
        """`run` over many inputs (grouped by length, so no padding is ever attended to)."""
        encoded = [self.encode(list(seq)) for seq in batch]
        by_length: dict[int, list[int]] = defaultdict(list)
        for i, ids in enumerate(encoded):
            by_length[len(ids)].append(i)
        results: list[list] = [[] for _ in batch]
        for length, members in by_length.items():
            if length == 1:
                continue
            for start in range(0, len(members), batch_size):
                part = members[start : start + batch_size]
                ids = torch.tensor([encoded[m] for m in part], device=self.device)
                logits = self(ids)[:, 1:].to("cpu", torch.float64)
                for m, row in zip(part, logits):
                    results[m] = self.decode(row)
        return results

    @torch.no_grad()
    def generate(self, prompt: Sequence[Any], max_new: int = 32, stop: Any = None, use_cache: bool = True) -> list:
        """Next-token generation: append the output at the last position until `stop` (included) or
        `max_new` tokens or max_len. Returns the new tokens.

        A causal model keeps a KV cache, so each new token costs one position's forward pass, not the whole
        sequence's; a bidirectional one (whose earlier outputs depend on later tokens) reruns the sequence."""
        spec = self._spec()
        sequence, new = list(prompt), []
        cache = KVCache(len(self.blocks)) if use_cache and self.cfg.causal else None
        while len(new) < max_new and sequence and len(sequence) <= spec.max_len:
            if cache is None:
                token = self.run(sequence)[-1]
            else:
                unread = self.encode(sequence)[cache.length :]  # BOS and the prompt, then one token a step
                logits = self(torch.tensor([unread], device=self.device), cache=cache)[0, -1:]
                token = self.decode(logits.to("cpu", torch.float64))[0]
            sequence.append(token)
            new.append(token)
            if stop is not None and token == stop:
                break
        return new


class KVCache:
    """Keys and values of the positions a causal model has already read, per layer (for `generate`)."""

    def __init__(self, n_layers: int):
        self.layers: list[dict] = [{} for _ in range(n_layers)]
        self.length = 0
