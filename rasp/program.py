"""`Program`: a lowered RASP program you can run, batch, and generate from."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import limits
from .errors import RaspEvalError, RaspInputError, RaspNameError, RaspTypeError
from .evaluate import Evaluation, to_python, token_array
from .ir import Graph, Op
from .lower import Const, DictValue, ListValue, Lowerer, SelRef, SOpRef
from .notebook import Trace, program_html
from .parser import read_source

# Selector elements evaluated at once; larger batches are split into chunks of about this many.
_CHUNK_ELEMENTS = 1 << 23


def bundled(path: str | Path) -> Path:
    """`path`, or, where no such file exists and it is a bare name (`reverse`, `reverse.rasp`), the bundled program of
    that name: an installed package reaches its own programs from anywhere (`rasp run reverse hello`)."""
    path = Path(path)
    if path.exists() or len(path.parts) != 1:
        return path
    from importlib.util import find_spec

    spec = find_spec("programs")  # the task library ships with the package (pyproject: package-data)
    if spec is None or not spec.submodule_search_locations:
        return path
    candidate = Path(next(iter(spec.submodule_search_locations))) / (path.stem + ".rasp")
    return candidate if candidate.is_file() else path


class Program:
    """A RASP program: its s-op graph, its top-level names, its mode and its output."""

    def __init__(self, lowerer: Lowerer, source: str, filename: str):
        self.source = source
        self.filename = filename
        self.graph: Graph = lowerer.graph
        self.mode: str = lowerer.mode or "causal"
        self.mode_span = lowerer.mode_span  # the `@mode` directive, when the file has one
        self.statements = tuple(lowerer.statements)  # the file's syntax tree, kept for locating findings
        self.sources = lowerer.sources
        self.names: dict[str, int] = {}  # top-level and qualified names → op id (s-ops and selectors)
        for name, value in lowerer.bindings.items():
            if isinstance(value, Const) and not isinstance(value.value, (list, dict)):
                value = SOpRef(self.graph.add("constant", value=value.value, vtype="any"))
            if isinstance(value, (SOpRef, SelRef)):
                self.names[name] = value.id
            elif isinstance(value, (ListValue, DictValue)):  # `isin = {s: ... for s in sets}`: isin["A"], ...
                pairs = enumerate(value.items) if isinstance(value, ListValue) else value.items
                for key, item in pairs:
                    if isinstance(item, (SOpRef, SelRef)):
                        self.names.setdefault(f"{name}[{key!r}]", item.id)
        self.output: str | None = lowerer.output or (next(reversed(self.names)) if self.names else None)
        for name, op_id in lowerer.local_names.items():  # names inside the user's functions: `dyck1.n_opens`
            self.names.setdefault(name, op_id)
        self.last_expression = lowerer.last_expression  # the value of the last bare expression (REPL)
        self.example = lowerer.example  # the file's `set example ...` (the original RASP REPL's input), if any

    # ---- construction ---------------------------------------------------------------------------

    @classmethod
    def from_source(cls, source: str, filename: str = "<input>") -> Program:
        if not isinstance(filename, str):
            raise RaspInputError(f"a program's filename must be a str, not {type(filename).__name__}")
        lowerer = Lowerer()
        lowerer.lower_source(source, filename)
        return cls(lowerer, source, filename)

    @classmethod
    def from_file(cls, path: str | Path) -> Program:
        if not isinstance(path, (str, Path)):
            raise RaspInputError(f"load() needs a file path (str or Path), not {type(path).__name__}")
        path = bundled(path)
        return cls.from_source(read_source(path), str(path))

    # ---- introspection --------------------------------------------------------------------------

    @property
    def causal(self) -> bool:
        return self.mode == "causal"

    def op(self, name: str | None = None) -> Op:
        """The op a top-level name is bound to (the output when name is None)."""
        return self.graph.op(self.output_id(name))

    def output_id(self, name: str | None = None) -> int:
        """The graph op of a top-level name (the program's output when None), with a clear error for a bad name."""
        if name is not None and not isinstance(name, str):
            raise RaspNameError(f"an output is named by a str, not {type(name).__name__}")
        name = name or self.output
        if name is None:
            raise RaspNameError(f"{self.filename}: the program binds no name, so it has no output")
        if name not in self.names:
            known = ", ".join(self.names) or "none"
            raise RaspNameError(f"{self.filename}: no s-op named '{name}' (names: {known})")
        return self.names[name]

    def sop_names(self) -> list[str]:
        """Top-level names bound to s-ops (not selectors), in binding order."""
        return [n for n, i in self.names.items() if not self.graph.op(i).is_selector]

    # ---- running --------------------------------------------------------------------------------

    def run(self, tokens: Sequence[Any], output: str | None = None, causal: bool | None = None) -> list:
        """The output s-op's value at every position (a selector gives one row of booleans per query)."""
        return self.run_batch([tokens], output=output, causal=causal)[0]

    def run_batch(
        self, batch: Sequence[Sequence[Any]], output: str | None = None, causal: bool | None = None
    ) -> list[list]:
        """`run` on many inputs at once, vectorized; inputs may differ in length."""
        name = self.output if output is None else output
        return self.evaluate(batch, [name], causal)[name]

    def run_all(self, tokens: Sequence[Any], causal: bool | None = None) -> dict[str, list]:
        """Every named s-op and selector on one input."""
        result = self.evaluate([tokens], list(self.names), causal)
        return {name: values[0] for name, values in result.items()}

    def trace(self, tokens: Sequence[Any], causal: bool | None = None) -> Trace:
        """Every named s-op and selector on one input, shown as tables and grids (in a notebook too)."""
        tokens = list(tokens)
        values = self.run_all(tokens, causal=causal)
        selectors = tuple(name for name in values if self.graph.op(self.names[name]).is_selector)
        return Trace(tokens, values, selectors)

    def __repr__(self) -> str:
        return f"<Program {self.filename!r}: {self.mode}, output {self.output!r}, {len(self.names)} named s-ops>"

    def _repr_html_(self) -> str:
        return program_html(self)

    def evaluate(
        self, batch: Sequence[Sequence[Any]], outputs: list[str | None], causal: bool | None = None
    ) -> dict[str, list[list]]:
        """Several named outputs over a batch: {name: one list per input}."""
        return self.evaluate_ops(batch, {name: self.output_id(name) for name in outputs}, causal)

    def evaluate_ops(
        self, batch: Sequence[Sequence[Any]], ids: dict[Any, int], causal: bool | None = None
    ) -> dict[Any, list[list]]:
        """Ops by id over a batch: {key: one list per input} for each key → op id in `ids`."""
        causal = self.causal if causal is None else _flag(causal, "causal")
        ops = self.graph.schedule(list(ids.values()))
        sequences = _sequences(batch)
        _check_selector_work(sequences, ops)
        by_length: dict[int, list[int]] = defaultdict(list)
        for position, seq in enumerate(sequences):
            by_length[len(seq)].append(position)
        results: dict[str, list] = {name: [None] * len(sequences) for name in ids}
        for length, members in by_length.items():
            if length == 0:
                for name in ids:
                    for m in members:
                        results[name][m] = []
                continue
            chunk = max(1, _CHUNK_ELEMENTS // (length * length))
            for start in range(0, len(members), chunk):
                part = members[start : start + chunk]
                evaluation = Evaluation(self.graph, token_array([sequences[m] for m in part]), causal, self.sources)
                try:
                    with limits.recursion_room():
                        values = evaluation.run(ops)
                except OverflowError as exc:  # a number past float range met a float
                    raise RaspEvalError(f"a value is out of range on an input of length {length}: {exc}") from None
                for name, op_id in ids.items():
                    array = values[op_id]
                    for row, m in zip(array, part):
                        results[name][m] = _rows(row)
        return results

    def generate(
        self,
        prompt: Sequence[Any],
        max_new: int = 32,
        stop: Any = None,
        output: str | None = None,
        causal: bool | None = None,
    ) -> list:
        """Next-token generation: append the output's value at the last position, repeatedly.

        Stops after `max_new` tokens or once the stop token has been appended (it is included).
        Returns the new tokens only.
        """
        return self.generate_batch([prompt], max_new=max_new, stop=stop, output=output, causal=causal)[0]

    def generate_batch(
        self,
        prompts: Sequence[Sequence[Any]],
        max_new: int = 32,
        stop: Any = None,
        output: str | None = None,
        causal: bool | None = None,
    ) -> list[list]:
        """`generate` for many prompts, one batched evaluation per step."""
        if not isinstance(max_new, int) or isinstance(max_new, bool) or max_new < 0:
            raise RaspInputError(f"max_new must be a whole number ≥ 0, got {max_new!r}")
        if stop is not None:
            stop = check_token(stop)
        if self.op(output).is_selector:
            raise RaspTypeError(
                f"{output or self.output} is a selector; generation appends an s-op's value, so name one with output="
            )
        sequences = _sequences(prompts)
        _check_generation_work(sequences, max_new, self.graph.schedule([self.output_id(output)]))
        generated: list[list] = [[] for _ in sequences]
        active = [i for i, seq in enumerate(sequences) if seq]
        for _ in range(max_new):
            if not active:
                break
            values = self.run_batch([sequences[i] for i in active], output=output, causal=causal)
            still = []
            for i, row in zip(active, values):
                token = row[-1]
                sequences[i].append(token)
                generated[i].append(token)
                if not (stop is not None and token == stop):
                    still.append(i)
            active = still
        return generated


_TOKEN_TYPES = (bool, int, float, str)


def check_token(value: Any) -> Any:
    """A token as the evaluator takes it (numpy scalars unwrapped), or a RaspInputError saying why not."""
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, _TOKEN_TYPES):
        raise RaspInputError(
            f"a token must be a number, a string or a bool, not {type(value).__name__} ({value!r:.40})"
        )
    if limits.exceeds_magnitude(value):
        raise RaspInputError(f"the token {str(value)[:20]}... is out of range (numbers must be at most about 1.8e308)")
    return value


def _sequences(batch: Any) -> list[list]:
    """A batch of token sequences as lists, each token checked: each distinct token once, over the whole batch
    (a batch repeats its vocabulary; one set over all tokens costs less than one per row)."""
    if isinstance(batch, (str, bytes)) or not isinstance(batch, Sequence | np.ndarray):
        raise RaspInputError(f"expected a list of token sequences, got {type(batch).__name__}")
    sequences = []
    for seq in batch:
        if not isinstance(seq, Sequence | np.ndarray) or isinstance(seq, bytes):
            raise RaspInputError(f"an input must be a sequence of tokens (a list or a str), not {type(seq).__name__}")
        sequences.append(list(seq))
    flat = list(itertools.chain.from_iterable(sequences))
    try:
        kinds, values = set(map(type, flat)), set(flat)
    except TypeError:  # an unhashable element is no token: check_token says why
        return [[check_token(t) for t in row] for row in sequences]
    if kinds <= _PLAIN_TOKENS:  # then equal values (1, 1.0, True) pass or fail check_token alike
        for value in values:
            check_token(value)
        return sequences
    return [[check_token(t) for t in row] for row in sequences]  # numpy scalars unwrapped, anything else refused


_PLAIN_TOKENS = set(_TOKEN_TYPES)  # exactly these types (a subclass or numpy scalar goes token by token)


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise RaspInputError(f"{name} must be True, False or None, not {value!r:.40}")
    return bool(value)


def _quadratic(ops: list[Op]) -> int:
    """Ops that cost length² per input: select, aggregate, selector_width."""
    return sum(op.kind in ("select", "aggregate", "selector_width") for op in ops)


def _check_generation_work(sequences: list[list], max_new: int, ops: list[Op]) -> None:
    """Generation re-evaluates the growing sequence at every step: refuse up front when the steps together
    would need more than MAX_SELECTOR_ELEMENTS selector entries (a stop token may end it sooner)."""
    start = max((len(seq) for seq in sequences), default=0)
    end = start + max_new
    # sum of k² for k in start..end-1, in closed form
    steps = (end - 1) * end * (2 * end - 1) // 6 - (start - 1) * start * (2 * start - 1) // 6 if max_new else 0
    work = _quadratic(ops) * steps
    if work > limits.MAX_SELECTOR_ELEMENTS:
        raise RaspInputError(
            f"generating {max_new} tokens from a prompt of {start} would need {work:,} selector entries in all, "
            f"more than the limit of {limits.MAX_SELECTOR_ELEMENTS:,}; lower max_new, or raise the limit "
            f"({limits.how_to_raise('MAX_SELECTOR_ELEMENTS')})"
        )


def _check_selector_work(sequences: list[list], ops: list[Op]) -> None:
    """Refuse an input whose selectors need more than MAX_SELECTOR_ELEMENTS entries before evaluating it:
    each select, aggregate and selector_width costs length² per input."""
    quadratic = _quadratic(ops)
    longest = max((len(seq) for seq in sequences), default=0)
    work = quadratic * longest * longest
    if work > limits.MAX_SELECTOR_ELEMENTS:
        raise RaspInputError(
            f"an input of length {longest} needs {work:,} selector entries ({quadratic} selector operations of "
            f"{longest}² each), more than the limit of {limits.MAX_SELECTOR_ELEMENTS:,}; use shorter inputs, or "
            f"raise the limit ({limits.how_to_raise('MAX_SELECTOR_ELEMENTS')})"
        )


def _rows(array: np.ndarray) -> list:
    if array.ndim == 2:  # a selector: one row per query position
        return [row.tolist() for row in array]
    return to_python(array)
