"""The compiler's side of the error contract (issue 19): verify never counts an input it did not compare as
agreement; model files are checked (a checksum of the weights and of the program) and every malformed one is
a RaspInputError; `rasp compile` refuses bad output paths and devices before compiling."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import compiler  # noqa: E402
import rasp  # noqa: E402
from compiler.export import load, save  # noqa: E402
from rasp_cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HIST = str(ROOT / "benchmarks" / "tracr_programs" / "hist.rasp")
# A categorical aggregate of numbers: exact only where the selected values agree (the retrieval domain).
RETRIEVAL = "x = aggregate(select(tokens, tokens, <=), tokens);"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """hist compiled and saved; each test copies what it corrupts."""
    folder = tmp_path_factory.mktemp("model")
    program = rasp.load(HIST)
    model = compiler.compile(program, vocab=list("abc"), max_len=6)
    path = folder / "hist.safetensors"
    save(model, path)
    other = compiler.compile(rasp.parse("y = tokens;"), vocab=list("ab"), max_len=4)
    save(other, folder / "other.safetensors")
    return folder, path


def test_verify_reports_inputs_outside_the_retrieval_domain_and_does_not_pass():
    program = rasp.parse(RETRIEVAL)
    model = compiler.compile(program, vocab=[1, 2, 3], max_len=6)
    result = compiler.verify(program, model, n=60)
    assert result.outside > 0 and result.total == 60
    assert result.n == 60 - result.outside - result.skipped
    assert result.checked_share < compiler.api.MIN_CHECKED
    assert not result.passed
    assert "outside the retrieval domain" in repr(result)


def test_verify_counts_nothing_compared_as_nan_not_agreement():
    program = rasp.parse(RETRIEVAL)
    model = compiler.compile(program, vocab=[1, 2, 3], max_len=6)
    result = compiler.verify(program, model, inputs=[[1, 2], [3, 1, 2]])
    assert result.n == 0 and result.outside == 2
    assert float(result) != float(result)  # NaN
    assert not result.passed


@pytest.mark.parametrize("kwargs", [{"n": 0}, {"n": -3}, {"inputs": []}])
def test_verify_with_no_inputs_is_an_error(kwargs):
    program = rasp.load(HIST)
    model = compiler.compile(program, vocab=list("ab"), max_len=4)
    with pytest.raises(rasp.RaspInputError):
        compiler.verify(program, model, **kwargs)


def test_verify_refuses_another_programs_model():
    model = compiler.compile(rasp.load(HIST), vocab=list("ab"), max_len=4)
    with pytest.raises(rasp.RaspInputError, match="different program"):
        compiler.verify(rasp.parse("y = tokens;"), model, n=5)


def test_cli_verify_fails_when_too_few_inputs_were_compared(tmp_path, capsys):
    path = tmp_path / "retrieval.rasp"
    path.write_text(RETRIEVAL + "\n")
    assert main(["verify", str(path), "--vocab", "1 2 3", "--max-len", "6", "-n", "50"]) == 1
    out = capsys.readouterr().out
    assert "outside the retrieval domain" in out and "not verified" in out
    assert main(["verify", str(path), "--vocab", "1 2 3", "--max-len", "6", "-n", "50", "--min-checked", "0"]) == 0
    assert main(["verify", HIST, "--vocab", "abc", "--max-len", "4", "-n", "0"]) == 1
    assert "-n must be at least 1" in capsys.readouterr().err


def test_saved_models_carry_checksums_and_round_trip(saved):
    folder, path = saved
    info = json.loads(path.with_suffix(".json").read_text())
    assert len(info["weights_sha256"]) == 64 and len(info["program_sha256"]) == 64
    assert load(path).run(list("abca")) == rasp.load(HIST).run(list("abca"))


def _rewrite(path: Path, out: Path, metadata: str | None) -> Path:
    from safetensors.torch import load_file, save_file

    save_file(load_file(str(path)), str(out), metadata=None if metadata is None else {"rasp_toolkit": metadata})
    return out


def _with_info(path: Path, out: Path, change) -> Path:
    info = json.loads(path.with_suffix(".json").read_text())
    change(info)
    return _rewrite(path, out, json.dumps(info))


BAD_DESCRIPTIONS = {
    "not JSON": lambda p, o: _rewrite(p, o, "{not json"),
    "empty": lambda p, o: _rewrite(p, o, "{}"),
    "a list": lambda p, o: _rewrite(p, o, "[1, 2]"),
    "a partial config": lambda p, o: _with_info(p, o, lambda i: i["config"].pop("d_model")),
    "an unknown pos_encoding": lambda p, o: _with_info(p, o, lambda i: i["config"].update(pos_encoding="rope")),
    "a huge width": lambda p, o: _with_info(p, o, lambda i: i["config"].update(d_model=10**9)),
    "empty output_values": lambda p, o: _with_info(p, o, lambda i: i["spec"].update(output_values=[])),
    "an unknown output kind": lambda p, o: _with_info(p, o, lambda i: i["spec"].update(output_kind="fuzzy")),
    "a spec field missing": lambda p, o: _with_info(p, o, lambda i: i["spec"].pop("vocab")),
    "an edited program": lambda p, o: _with_info(p, o, lambda i: i["spec"].update(source="x = tokens;")),
    "no checksum": lambda p, o: _with_info(p, o, lambda i: i.pop("weights_sha256")),
    "another program's metadata": lambda p, o: _rewrite(p, o, (p.parent / "other.json").read_text()),
}


@pytest.mark.parametrize("make", BAD_DESCRIPTIONS.values(), ids=BAD_DESCRIPTIONS.keys())
def test_malformed_model_descriptions_are_input_errors(saved, tmp_path, make):
    folder, path = saved
    bad = make(path, tmp_path / "bad.safetensors")
    start = time.perf_counter()
    with pytest.raises(rasp.RaspInputError):
        load(bad)
    assert time.perf_counter() - start < 5


def test_another_programs_sidecar_and_corrupted_weights_are_refused(saved, tmp_path):
    folder, path = saved
    bare = _rewrite(path, tmp_path / "bare.safetensors", None)
    (tmp_path / "bare.json").write_text((folder / "other.json").read_text())
    with pytest.raises(rasp.RaspInputError, match="checksum"):
        load(bare)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x40  # a byte of the last tensor
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(bytes(data))
    with pytest.raises(rasp.RaspInputError, match="checksum"):
        load(corrupt)
    (tmp_path / "garbage.safetensors").write_bytes(b"\x00\x01garbage")
    with pytest.raises(rasp.RaspInputError, match="safetensors"):
        load(tmp_path / "garbage.safetensors")


@pytest.mark.parametrize(
    "extra, words",
    [
        (["-o", "/nonexistent/dir/x.safetensors"], "does not exist"),
        (["--device", "nonsense"], "unknown device"),
        (["--max-len", "0"], "max_len"),
    ],
)
def test_cli_compile_refuses_bad_paths_and_devices(extra, words, capsys):
    assert main(["compile", HIST, "--vocab", "abc", "--max-len", "4", *extra]) == 1
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_cli_compile_of_a_non_utf8_file_is_refused(tmp_path, capsys):
    path = tmp_path / "bad.rasp"
    path.write_bytes(b"x = tokens; # \xff\n")
    assert main(["compile", str(path), "--vocab", "abc"]) == 1
    assert "not UTF-8" in capsys.readouterr().err


def test_cli_compile_to_a_directory_is_refused(tmp_path, capsys):
    assert main(["compile", HIST, "--vocab", "abc", "--max-len", "4", "-o", str(tmp_path)]) == 1
    assert "is a directory" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_cuda_is_an_input_error(capsys):
    assert main(["compile", HIST, "--vocab", "abc", "--max-len", "4", "--device", "cuda"]) == 1
    assert "CUDA is not available" in capsys.readouterr().err
    with pytest.raises(rasp.RaspInputError):
        compiler.compile(rasp.load(HIST), vocab="abc", max_len=4, device="cuda:0")


# ---- compile work is bounded before it is done ------------------------------------------------------------

MEANS_OF_MEANS = {
    "three nested means, bidirectional": (
        "@mode bidirectional;\ns = select(indices, indices, <=);\na = numerical(aggregate(s, indices, default=0));\n"
        "b = numerical(aggregate(s, a, default=0));\nc = numerical(aggregate(s, b, default=0));",
        [0, 1],
        8,
    ),
    "means of maps of means": (
        "@mode bidirectional;\ns = select(tokens, tokens, ==);\na = numerical(aggregate(s, tokens, default=0));\n"
        "b = numerical(aggregate(s, a + indices, default=0));\nc = numerical(aggregate(s, b * a, default=0));",
        [0, 1, 2],
        8,
    ),
}


@pytest.mark.parametrize("source, vocab, max_len", MEANS_OF_MEANS.values(), ids=MEANS_OF_MEANS.keys())
def test_means_of_means_are_refused_quickly_naming_the_sop_and_the_limit(source, vocab, max_len):
    program = rasp.parse(source)
    start = time.perf_counter()
    with pytest.raises(compiler.CompileError) as info:
        compiler.compile(program, vocab=vocab, max_len=max_len)
    assert time.perf_counter() - start < 3  # about 0.5 s on an idle machine
    assert "MEANS_WORK_LIMIT" in info.value.message and "b = aggregate" in info.value.message
    assert info.value.line == 4


def test_a_mean_of_a_mean_at_max_len_16_compiles_in_seconds():
    source = (
        "s = select(indices, indices, <=); a = numerical(aggregate(s, indices, default=0));"
        " b = numerical(aggregate(s, a, default=0));"
    )
    program = rasp.parse(source)
    start = time.perf_counter()
    model = compiler.compile(program, vocab=[0, 1], max_len=16)
    assert time.perf_counter() - start < 20  # it took 57 s before the work bound; about 3 s now
    assert compiler.verify(program, model, n=32).passed


def test_the_total_tabulation_work_is_bounded(monkeypatch):
    from compiler import values

    monkeypatch.setattr(values, "WORK_LIMIT", 1000)
    program = rasp.parse("x = tokens + indices; y = x * 2 + indices;")
    with pytest.raises(compiler.CompileError, match="WORK_LIMIT"):
        compiler.compile(program, vocab=list(range(30)), max_len=40)
