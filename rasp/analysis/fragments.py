"""The three verdicts of `rasp.predict(program)`: RASP-L, C-RASP, C-RASP[periodic, local] (docs/fragments.md).

The check is syntactic: it reads the s-op graph (after inlining and sharing) with the value kinds of
`kinds.py` and accepts a program when every op the output needs follows the fragment's rules. It is sound
for the programs it accepts (each accepted program can be rewritten in the fragment), and it says nothing
about programs it was not given: a negative verdict means "no program in the fragment was given", not
"no such program exists". docs/fragments.md has every rule with an example.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from .. import syntax as S
from ..errors import Span
from .kinds import Finding, KindAnalysis, kind_name
from .measure import Measure, is_causal_length, measure
from .rules import CRASP, CRASP_POS, FRAGMENTS, NOT_A_PROOF, RASP_L, RULES
from .tasks import impossibility, paper_result
from .verdicts import Prediction, Verdict, Violation

# ---- building the verdicts -------------------------------------------------------------------------


class _Locator:
    """file:line:col of ops, and for ops inside a library where the program's own file reaches them."""

    def __init__(self, program: Any, needed: set[int]):
        self.program = program
        self.graph = program.graph
        self.needed = needed
        self.assigned: dict[str, Span] = {}  # top-level name → its statement in the program's file
        for stmt in program.statements:
            if isinstance(stmt, S.Assign):
                self.assigned[stmt.name] = stmt.span

    def where(self, op_id: int) -> tuple[str, str]:
        op = self.graph.op(op_id)
        main = self.program.filename
        if op.span is not None and op.span.file == main:
            return str(op.span), ""
        via = self._reached_from(op_id)
        if op.span is not None:
            return str(op.span), via
        return (via or main), ""

    def _main_span(self, op_id: int) -> Span | None:
        op = self.graph.op(op_id)
        for name in op.names:
            if name in self.assigned and self.program.names.get(name) == op_id:
                return self.assigned[name]
        return None

    def _reached_from(self, op_id: int) -> str:
        """The statement of the program's file that first uses the op (breadth first from the op)."""
        main = self.program.filename
        seen = {op_id}
        queue = deque([op_id])
        fallback = ""
        while queue:
            current = queue.popleft()
            span = self._main_span(current)
            if span is not None:
                return str(span)
            own = self.graph.op(current).span
            if not fallback and current != op_id and own is not None and own.file == main:
                fallback = str(own)
            for nxt in sorted(self.graph.nx.successors(current)):
                if nxt not in seen and nxt in self.needed:
                    seen.add(nxt)
                    queue.append(nxt)
        return fallback


def _label(graph: Any, op_id: int, needed: set[int]) -> str:
    """The op's name, or its text and the name of the statement it belongs to."""
    op = graph.op(op_id)
    if op.names:
        return op.names[0]
    text = op.describe(graph)
    text = text if len(text) <= 70 else text[:67] + "..."
    seen, queue = {op_id}, deque([op_id])
    while queue:
        for nxt in sorted(graph.nx.successors(queue.popleft())):
            if nxt in seen or nxt not in needed:
                continue
            if graph.op(nxt).names:
                return f"{text} (in {graph.op(nxt).names[0]})"
            seen.add(nxt)
            queue.append(nxt)
    return text


_USES = {
    "rl-compare": "compared",
    "rl-move": "aggregated",
    "rl-output": "the program's output",
}


def _violation(program: Any, analysis: KindAnalysis, locator: _Locator, finding: Finding) -> Violation:
    graph = program.graph
    rule = RULES[finding.code]
    target = finding.op
    used_at = ""
    message = finding.message
    if finding.origin is not None and finding.origin != finding.op:
        target = finding.origin
        used_at = locator.where(finding.op)[0]
        value = analysis.values.get(target)
        form = value.text(graph) if hasattr(value, "text") else "a value"
        message = f"builds {form} by arithmetic on counts or positions, which is then {_USES[finding.code]}"
    where, via = locator.where(target)
    label = _label(graph, target, locator.needed)
    return Violation(target, label, finding.code, message, rule.text, where, via, used_at)


def _features(analysis: KindAnalysis) -> dict[str, Any]:
    periods = sorted({f.data["period"] for f in analysis.findings if f.code == "periodic"})
    offsets = sorted({d for f in analysis.findings if f.code == "sel-local" for d in f.data.get("offsets", ())})
    graph = analysis.graph
    counts = sum(
        1
        for i in analysis.order
        if graph.op(i).kind == "selector_width" and not is_causal_length(graph, graph.op(i), analysis.causal)
    )
    means = sum(1 for i in analysis.order if graph.op(i).kind == "aggregate" and analysis.kind(i) == "ratio")
    periodic_ops = {f.op for f in analysis.findings if f.code == "periodic"}
    uses_position = False
    for i in analysis.order:
        op = graph.op(i)
        if op.kind not in ("map", "zipmap") or i in periodic_ops:
            continue
        consumers = [c for c in graph.nx.successors(i) if c in analysis.values]
        if consumers and all(graph.op(c).kind == "select" for c in consumers):
            continue  # an argument of a selector: judged there (local or not)
        for j in op.inputs:
            value = analysis.values[j]
            if hasattr(value, "atoms") and any(atom.cat == "pos" for atom in value.atoms()):
                uses_position = True
    return {
        "periods": periods,
        "local_offsets": offsets,
        "counts": counts,
        "ratios": means,
        "position_as_count": uses_position,
    }


def _counts_text(features: dict[str, Any]) -> str:
    parts = []
    if features["counts"]:
        parts.append(f"{features['counts']} count{'s' if features['counts'] > 1 else ''}")
    if features["ratios"]:
        parts.append(f"{features['ratios']} mean{'s' if features['ratios'] > 1 else ''}")
    return ", ".join(parts) or "no counts"


def _positive_reasons(fragment: str, features: dict[str, Any], m: Measure) -> list[str]:
    counts = _counts_text(features)
    position = (
        "; the position enters only as a count (indices + 1 = the number of positions j <= i)"
        if features["position_as_count"]
        else ""
    )
    if fragment == RASP_L:
        return [
            "causal; index values are only compared or shifted by constants; maps act on finite values; "
            "aggregates are mean/max/min with a default",
            f"length: {m.summary()} (max {m.max_heads_per_layer})",
        ]
    if fragment == CRASP:
        return [
            "every selector compares finite values only (a finite case split); "
            f"counts enter only linearly and through comparisons ({counts}); "
            "no positional information other than counts" + position
        ]
    parts = []
    if features["periods"]:
        parts.append("periodic positions " + ", ".join(f"indices % {p}" for p in features["periods"]))
    if features["local_offsets"]:
        parts.append("local offsets " + ", ".join(_offset(d) for d in features["local_offsets"]))
    if parts:
        return [f"relies on {'; '.join(parts)}; otherwise C-RASP ({counts})" + position]
    return [f"uses no periodic or local positional feature: it is in C-RASP itself ({counts})" + position]


def _offset(d: int) -> str:
    return "j = i" if d == 0 else f"j = i - {d}" if d > 0 else f"j = i + {-d}"


def predict(program: Any, output: str | None = None, task: str | None = None, vocab: Any = None) -> Prediction:
    """The value kinds and the RASP-L, C-RASP and C-RASP[periodic, local] verdicts of a program.

    `vocab`: the tokens the input may hold (ints for integer-looking ones, as the CLI reads them); without it
    tokens may be numbers, so a mean of tokens is a mean. `task`: a task id of Huang et al.'s table (e.g.
    "tomita_4") to compare the verdicts with the paper's predictions; never guessed from the file name here
    (the command line does that for bundled programs)."""
    out = program.output_id(output)
    analysis = KindAnalysis(program.graph, out, program.causal, vocab)
    m = measure(program, output)
    locator = _Locator(program, set(analysis.order))
    violations: list[Violation] = []
    if not program.causal:
        span = program.mode_span
        where = str(span) if span is not None else program.filename
        violations.append(
            Violation(-1, "@mode", "mode", "declares bidirectional evaluation", RULES["mode"].text, where)
        )
    for finding in analysis.findings:
        if finding.code in RULES:
            violations.append(_violation(program, analysis, locator, finding))
    features = _features(analysis)
    verdicts = {}
    notes = [f"note: {v.text()}" for v in _dedupe([v for v in violations if not RULES[v.code].breaks])]
    for fragment in FRAGMENTS:
        mine = _dedupe([v for v in violations if fragment in RULES[v.code].breaks])
        if mine:
            reasons = [v.text() for v in mine] + notes
            if fragment == RASP_L:
                reasons.append(f"length: {m.summary()}")
            reasons.append(NOT_A_PROOF)
            verdicts[fragment] = Verdict(fragment, False, reasons, mine, _fragment_features(fragment, features, m))
        else:
            reasons = _positive_reasons(fragment, features, m) + notes
            verdicts[fragment] = Verdict(fragment, True, reasons, [], _fragment_features(fragment, features, m))
    for fragment in (CRASP, CRASP_POS):
        if verdicts[fragment].ok:
            _attach_witness(verdicts[fragment], analysis, program, output, vocab, locator)
    names = {name: i for name, i in program.names.items() if i in analysis.values}
    kinds = {name: analysis.kind(i) for name, i in names.items()}
    paper = paper_result(task) if task else None
    return Prediction(
        file=program.filename,
        task=task if paper is not None else None,
        rasp_l=verdicts[RASP_L],
        crasp=verdicts[CRASP],
        crasp_pos=verdicts[CRASP_POS],
        kinds=kinds,
        measure=m,
        paper=paper,
        impossibility=impossibility(task) if task else None,
    )


WITNESS_RUNS = 50


def _attach_witness(verdict: Verdict, analysis: KindAnalysis, program: Any, output: Any, vocab: Any, locator) -> None:
    """Build the witness and check it on random inputs; without one (or on a mismatch) the ✓ is withdrawn."""
    from .witness import NoWitness, build_witness, check_witness, sample_vocabs

    pos = verdict.fragment == CRASP_POS
    try:
        witness = build_witness(analysis, program, verdict.title, periodic=pos, local=pos)
    except (NoWitness, KeyError, TypeError, ValueError, IndexError) as error:
        op = getattr(error, "op", -1)
        op = op if op >= 0 else analysis.output
        where = locator.where(op)[0]
        message = f"{error} (no witness in the fragment's syntax could be built)"
        label = _label(program.graph, op, locator.needed)
        violation = Violation(op, label, "no-witness", message, RULES["no-witness"].text, where)
        verdict.ok = False
        verdict.violations = [violation]
        verdict.reasons = [violation.text(), NOT_A_PROOF]
        return
    vocabs = [list(vocab)] if vocab else sample_vocabs(program)
    problem = next(filter(None, (check_witness(witness, program, output, v, WITNESS_RUNS).problem for v in vocabs)), "")
    if problem:
        message = f"internal error: the witness disagrees with the program: {problem}"
        where = locator.where(analysis.output)[0]  # the output's definition: what the witness failed to reproduce
        violation = Violation(-1, "@witness", "witness-mismatch", message, RULES["witness-mismatch"].text, where)
        verdict.ok = False
        verdict.violations = [violation]
        verdict.reasons = [violation.text()]
        return
    verdict.witness = witness


def _fragment_features(fragment: str, features: dict[str, Any], m: Measure) -> dict[str, Any]:
    if fragment == RASP_L:
        keys = ("ops", "attention_ops", "mlp_ops", "statements", "layers", "heads_per_layer", "max_heads_per_layer")
        return {"length": {k: getattr(m, k) for k in keys}}
    if fragment == CRASP_POS:
        return {k: features[k] for k in ("periods", "local_offsets", "counts", "ratios", "position_as_count")}
    return {k: features[k] for k in ("counts", "ratios", "position_as_count")}


def _dedupe(violations: list[Violation]) -> list[Violation]:
    seen = set()
    kept = []
    for v in violations:
        key = (v.op, v.code, v.message)
        if key not in seen:
            seen.add(key)
            kept.append(v)
    return kept


def kinds_table(program: Any, output: str | None = None) -> list[tuple[str, str, str]]:
    """(name, kind, value form) of every named s-op the output needs, for display."""
    out = program.output_id(output)
    analysis = KindAnalysis(program.graph, out, program.causal)
    rows = []
    for name, i in program.names.items():
        if i not in analysis.values:
            continue
        value = analysis.values[i]
        form = value.text(program.graph) if hasattr(value, "text") else ""
        rows.append((name, analysis.kind(i) if program.graph.op(i).kind != "select" else "selector", form))
    return rows


__all__ = ["FRAGMENTS", "Prediction", "RULES", "Verdict", "Violation", "kind_name", "predict"]
