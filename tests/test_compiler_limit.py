"""The limit construction (compiler/limit/): one model per C-RASP (NoPE) or C-RASP[periodic, local] (APE) program,
the same at every length."""

import random
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import rasp  # noqa: E402
from compiler import CompileError, compile_limit  # noqa: E402
from compiler.limit import build_limit  # noqa: E402
from rasp.analysis.crasp_eval import evaluate  # noqa: E402
from rasp_cli import main  # noqa: E402

PROGRAMS = Path(__file__).resolve().parent.parent / "programs"
DYCK = list("()")
# every bundled program with a C-RASP ✓ that the construction covers, with its tokens
BUILT = {
    "binary_majority": [0, 1],
    "majority": list("abcd"),
    "tomita_1": [0, 1],
    "tomita_2": [0, 1],
    "tomita_7": [0, 1],
    "dyck_2": DYCK,
    "dyck_3": DYCK,
    "dyck_4": DYCK,
    "dyck_12": DYCK,
    "ab_d_bc": list("abcd"),
    # counts and retrievals whose predicate reads the query (split by the query's values)
    "abcde_star": list("abcde"),
    "sort": [0, 1, 2, 3, ">", "."],
    "zhou_sort": [0, 1, 2, 3, "<bos>", "<sep>", "<eos>"],
    "count": [0, 1, 2, 3, 4, 5, "<bos>", "<sep>", "<eos>"],
    # C-RASP[periodic, local]: periodic position features (APE) and reads of nearby positions (per-offset biases)
    "aa_star": list("ab"),
    "aaaa_star": list("ab"),
    "abab_star": list("ab"),
    "binary_majority_interleave": [0, 1],
    "tomita_4": [0, 1],
    "copy_unique": [0, 1, 2, 3, ">", "."],
}


def _inputs(vocab, length, rng, n=60):
    """Random strings, and strings built to sit near the decisions (balanced brackets, near-ties)."""
    inputs = [[rng.choice(vocab) for _ in range(length)] for _ in range(n)]
    if vocab == DYCK:
        for _ in range(n // 2):
            depth, s = 0, []
            for _ in range(length):
                s.append("(" if depth == 0 or (rng.random() < 0.5 and depth < 3) else ")")
                depth += 1 if s[-1] == "(" else -1
            inputs.append(s)
    if vocab == [0, 1]:
        inputs += [rng.sample([1, 0] * (length // 2) + [1] * (length % 2), length) for _ in range(n // 2)]
    if vocab == list("ab"):  # the periodic languages' members, and near misses
        for _ in range(n // 2):
            member = list((rng.choice(["a", "ab"]) * length)[:length])
            k = rng.randrange(length)
            inputs.append(member if rng.random() < 0.5 else member[:k] + [rng.choice("ab")] + member[k + 1 :])
    return inputs


@pytest.mark.parametrize("name", sorted(BUILT))
def test_one_model_agrees_with_the_interpreter_at_every_length(name):
    program, vocab = rasp.load(name), BUILT[name]
    limit = compile_limit(program, vocab)
    periodic = rasp.predict(program, vocab=vocab).crasp.ok is False  # only C-RASP[periodic, local] ✓
    # NoPE for C-RASP; for C-RASP[periodic, local] a position table only where a period is read
    assert (limit.model.cfg.pos_encoding == "nope") == (limit.model.pos_emb is None)
    assert periodic or limit.model.pos_emb is None
    rng = random.Random(7)
    for length in (16, 64):
        inputs = _inputs(vocab, length, rng)
        assert limit.run_batch(inputs) == program.run_batch(inputs), (name, length)


def test_the_stated_bound_holds_in_float32_and_float64_at_1024():
    program = rasp.load("binary_majority")
    limit = compile_limit(program, [0, 1])
    assert limit.bound == 4095
    tie_breakers = [[1, 0] * 512, [0, 1] * 511 + [1, 1], [1] * 1024]
    for dtype in (torch.float64, torch.float32):
        model = build_limit(limit.witness, [0, 1], dtype=dtype)
        assert model.run_batch(tie_breakers) == [evaluate(limit.witness, t) for t in tie_breakers], dtype


def test_past_its_bound_a_small_construction_fails_as_stated():
    # with a bound of 6 the step's slope only resolves counts one apart up to 6 tokens: a near-tie at 40 is lost
    program = rasp.load("binary_majority")
    small = build_limit(compile_limit(program, [0, 1]).witness, [0, 1], bound=6)
    near_tie = [[0, 1] * 20 + [1]]
    assert small.run_batch([[0, 1, 1]]) == program.run_batch([[0, 1, 1]])
    with pytest.raises(rasp.RaspError, match="compiled for max_len 6"):
        small.run_batch(near_tie)  # the model refuses inputs past its bound
    small.model.spec.max_len = 100  # forced past it, the step is too shallow to resolve one count of difference
    assert small.run_batch(near_tie) != program.run_batch(near_tie)


@pytest.mark.parametrize("name", ["hist", "reverse"])
def test_programs_outside_c_rasp_are_refused_with_the_analysis_reasons(name):
    with pytest.raises(CompileError, match=r"no C-RASP or C-RASP\[periodic, local\] ✓:\n  .*\.rasp:\d+:\d+: "):
        compile_limit(rasp.load(name), list("abc"))


def test_nearby_reads_are_per_offset_biases_and_periodic_features_a_periodic_table():
    tomita_4 = compile_limit(rasp.load("tomita_4"), [0, 1]).model
    assert tomita_4.cfg.rel_window == 3 and tomita_4.cfg.pos_encoding == "nope"  # back1 and back2: offsets 1, 2
    biases = [b.attn.rel_bias for b in tomita_4.blocks if b.attn is not None and b.attn.rel_bias is not None]
    rows = [row for bias in biases for row in bias if torch.count_nonzero(row)]
    assert rows and all(int(torch.count_nonzero(row)) == 1 for row in rows)  # each such head: one offset
    assert {int(torch.nonzero(row)[0]) for row in rows} == {1, 2}
    aa_star = compile_limit(rasp.load("aa_star"), list("ab")).model
    table = aa_star.pos_emb.weight
    assert aa_star.cfg.pos_encoding == "ape" and aa_star.cfg.rel_window == 0
    assert torch.equal(table[1:-2], table[3:])  # period 2 after BOS, over the whole table


def test_a_query_dependent_count_is_one_head_per_distinct_key_predicate():
    # abcde_star's `#[j ≤ i] rank(j) > rank(i)`: five query values, four non-empty key predicates (rank > 0 ... > 3)
    limit = compile_limit(rasp.load("abcde_star"), list("abcde"))
    labels = limit.model.spec.residual_labels
    assert sum("query selects" in label for label in labels) == 5
    assert sum(label.startswith("#[") and "rank" in label for label in labels) >= 4


def test_the_command_writes_the_limit_model(tmp_path, capsys):
    out = tmp_path / "bm.safetensors"
    assert main(["compile", "--limit", str(PROGRAMS / "binary_majority.rasp"), "--vocab", "0 1", "-o", str(out)]) == 0
    assert "exact on inputs up to 4095 tokens" in capsys.readouterr().out
    assert main(["run-compiled", str(out), "--tokens", "1 0 0 1 1"]) == 0
    assert capsys.readouterr().out.split() == ["1", "0", "0", "0", "1"]


def test_trained_vs_compiled_takes_the_limit_construction(tmp_path, capsys):
    argv = ["trained-vs-compiled", str(PROGRAMS / "binary_majority.rasp"), "--vocab", "0 1", "--limit"]
    argv += ["--max-len", "6", "--steps", "20", "--init", "random", "--compare-inputs", "20", "--out", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "heads [1, 0, 1, 0, 1, 0, 0]" in out  # the construction's architecture is the one trained
    assert "#[Q_1(j)] / (i+2)" in out  # each of its heads, compared with the trained ones


def test_compile_with_limit_gives_the_same_size_whatever_the_bound():
    from compiler import compile

    program = rasp.load("tomita_2")
    small, large = compile(program, [0, 1], max_len=100, limit=True), compile(program, [0, 1], limit=True)
    assert (small.spec.max_len, large.spec.max_len) == (100, 4095)
    assert sum(p.numel() for p in small.parameters()) == sum(p.numel() for p in large.parameters())
    assert large.run([1, 0, 1, 0, 1]) == program.run([1, 0, 1, 0, 1])
