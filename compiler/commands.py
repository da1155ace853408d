"""`rasp compile`, `rasp verify`, `rasp run-compiled` (and `rasp run --compiled MODEL`).

    rasp compile programs/hist.rasp --vocab "a b c" --max-len 64 -o hist.safetensors   # + hist.json
    rasp verify programs/hist.rasp --vocab "a b c" --max-len 16 -n 1000
    rasp run-compiled hist.safetensors abcab        (also: rasp run --compiled hist.safetensors abcab)

Vocabulary tokens are read like inputs: integer-looking tokens are ints, the rest strings. torch is
imported only when one of these commands runs.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from rasp.errors import RaspError, RaspInputError
from rasp.inputs import read_stop, split_input

from .api import MIN_CHECKED


def vocab_from_args(args: argparse.Namespace) -> list:
    if not args.vocab:
        raise RaspInputError('give the vocabulary with --vocab, e.g. --vocab "a b c"')
    text = args.vocab
    tokens = (
        split_input(text, whitespace=True, keep_strings=args.strings)
        if " " in text.strip()
        else (split_input(text, keep_strings=args.strings))
    )
    return list(dict.fromkeys(tokens))


def _mode(args: argparse.Namespace) -> bool | None:
    return False if args.bidirectional else True if args.causal else None


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("file")
    p.add_argument("--vocab", required=True, help='the input tokens, e.g. "a b c" (or "abc": one per character)')
    p.add_argument("--max-len", type=int, nargs="+", default=[16], help="longest input (default 16)")
    p.add_argument("--output", help="which named s-op to compile (default: the program's output)")
    p.add_argument("--strings", action="store_true", help="keep integer-looking tokens as strings")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--bidirectional", action="store_true", help="compile without a causal mask")
    mode.add_argument("--causal", action="store_true", help="compile causally (override the file)")
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default cpu)")
    p.add_argument("--float32", action="store_true", help="float32 weights (default float64)")


def _compile(args: argparse.Namespace):
    import torch

    import rasp

    from .api import compile

    program = rasp.load(args.file)
    model = compile(
        program,
        vocab=vocab_from_args(args),
        max_len=_max_len(args),
        causal=_mode(args),
        output=args.output,
        device=args.device,
        dtype=torch.float32 if args.float32 else None,
    )
    return program, model


def _max_len(args: argparse.Namespace) -> int:
    if len(args.max_len) != 1:
        raise RaspInputError(f"give one --max-len (several only with compile --scaling), got {args.max_len}")
    return args.max_len[0]


def _summary(model) -> str:
    cfg = model.cfg
    return (
        f"{cfg.n_layers} layers, heads {cfg.heads()}, residual width {cfg.d_model}, MLP widths {cfg.mlp_dims()}, "
        f"{model.num_parameters()} parameters ({model.num_parameters(nonzero=True)} non-zero)"
    )


def cmd_compile(args: argparse.Namespace) -> int:
    if args.scaling:
        return cmd_scaling(args)
    if args.limit:
        return cmd_limit(args)
    import time

    from .export import check_output_path, save

    out = args.o or args.file.rsplit(".", 1)[0] + ".safetensors"
    check_output_path(out)
    start = time.perf_counter()
    program, model = _compile(args)
    elapsed = time.perf_counter() - start
    sidecar = save(model, out)
    print(f"{args.file}: compiled in {elapsed:.2f} s: {_summary(model)}")
    print(f"wrote {out} and {sidecar}")
    return 0


def cmd_limit(args: argparse.Namespace) -> int:
    """The limit construction: one NoPE model for every input length up to its stated bound."""
    import rasp

    from .export import check_output_path, save
    from .limit import compile_limit

    out = args.o or args.file.rsplit(".", 1)[0] + ".limit.safetensors"
    check_output_path(out)
    limit = compile_limit(rasp.load(args.file), vocab_from_args(args), output=args.output)
    sidecar = save(limit.model, out)
    print(f"{args.file}: limit construction: {_summary(limit.model)}; exact on inputs up to {limit.bound} tokens")
    print(f"wrote {out} and {sidecar}")
    return 0


def cmd_scaling(args: argparse.Namespace) -> int:
    """The construction at each --max-len: parameters and width per component, with growth exponents, and a plot."""
    from pathlib import Path

    import rasp

    from .api import compile
    from .limit import compile_limit
    from .scaling import format_table, measure_growth, plot_table

    program = rasp.load(args.file)
    vocab = vocab_from_args(args)

    def build(max_len: int) -> Any:
        return compile(program, vocab=vocab, max_len=max_len, causal=_mode(args), output=args.output)

    try:  # the length-independent construction, where the program has one
        limit_model = compile_limit(program, vocab, output=args.output).model
    except RaspError:
        limit_model = None
    limit = (lambda: limit_model) if limit_model is not None else None
    table = measure_growth(program, vocab, args.max_len, build=build, limit=limit)
    print(format_table(table))
    path = args.plot or f"{Path(args.file).stem}_scaling.png"
    plot_table(table, path)
    print(f"wrote {path}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from .api import verify

    if args.n < 1:
        raise RaspInputError(f"-n must be at least 1 (got {args.n}): verify compares the model on that many inputs")
    if not 0 <= args.min_checked <= 1:
        raise RaspInputError(f"--min-checked is a share between 0 and 1, got {args.min_checked}")
    program, model = _compile(args)
    result = verify(program, model, n=args.n, seed=args.seed, min_checked=args.min_checked)
    print(f"{args.file}: {_summary(model)}")
    rate = "no inputs compared" if not result.n else f"agreement {float(result):.4f} ({result.agreed}/{result.n})"
    print(
        f"{rate} on {result.n} of {result.total} inputs of length 1..{_max_len(args)} ({result.checked_share:.0%} "
        f"compared); not compared: {result.skipped} where the interpreter fails, {result.outside} outside the "
        "retrieval domain"
    )
    for m in result.mismatches:
        print(f"  input {m['input']}: interpreter {m['expected']}, model {m['got']}")
    if result.n and result.agreed == result.n and not result.passed:
        print(
            f"not verified: only {result.checked_share:.0%} of the inputs were compared, fewer than "
            f"--min-checked {args.min_checked:.0%}"
        )
    return 0 if result.passed else 1


def _run_model(
    path: str, tokens: list, as_string: bool, as_json: bool, generate: bool, max_new: int, stop: Any, device: str | None
) -> int:
    from rasp import display

    from .export import load

    model = load(path, device=device)
    if generate:
        new = model.generate(tokens, max_new=max_new, stop=stop)
        print(
            json.dumps({"prompt": tokens, "generated": new})
            if as_json
            else display.format_values(tokens + new, joined=as_string)
        )
        return 0
    values = model.run(tokens)
    print(
        json.dumps({"tokens": tokens, "values": values}) if as_json else display.format_values(values, joined=as_string)
    )
    return 0


def _input(args: argparse.Namespace, text: str | None) -> tuple[list, bool]:
    if args.tokens is not None:
        return split_input(args.tokens, whitespace=True, keep_strings=args.strings), False
    if text is None:
        raise RaspError('no input: give a string (e.g. hello) or --tokens "3 1 2"')
    return split_input(text, keep_strings=args.strings), True


def cmd_run_compiled(args: argparse.Namespace) -> int:
    tokens, as_string = _input(args, args.input)
    stop = read_stop(args.stop, args.strings)
    return _run_model(args.model, tokens, as_string, args.json, args.generate, args.max_new, stop, args.device)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("compile", help="compile a program to transformer weights (safetensors + JSON)")
    _common(p)
    p.add_argument("-o", help="output file (default FILE.safetensors)")
    p.add_argument(
        "--scaling",
        action="store_true",
        help="compile at each --max-len (e.g. --max-len 16 32 64 128) and print how each component grows",
    )
    p.add_argument("--plot", help="with --scaling: the PNG to write (default FILE-stem_scaling.png)")
    p.add_argument(
        "--limit",
        action="store_true",
        help="the limit construction of a C-RASP program: one NoPE model for every length up to its bound",
    )
    p.set_defaults(handler=cmd_compile)

    p = subparsers.add_parser("verify", help="compile, then compare the model with the interpreter")
    _common(p)
    p.add_argument("-n", type=int, default=1000, help="random inputs (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--min-checked",
        type=float,
        default=MIN_CHECKED,
        help=f"fail unless at least this share of the inputs were compared (default {MIN_CHECKED})",
    )
    p.set_defaults(handler=cmd_verify)

    p = subparsers.add_parser("run-compiled", help="run a compiled model (from rasp compile) on an input")
    p.add_argument("model")
    p.add_argument("input", nargs="?", default=None)
    p.add_argument("--tokens", help='whitespace-separated tokens, e.g. "3 1 2"')
    p.add_argument("--strings", action="store_true")
    p.add_argument("--json", action="store_true")
    p.add_argument("--generate", action="store_true", help="next-token generation from the input as prompt")
    p.add_argument("--max-new", type=int, default=64)
    p.add_argument("--stop")
    p.add_argument("--device", default=None)
    p.set_defaults(handler=cmd_run_compiled)

    # `rasp run --compiled MODEL INPUT`: the run command's FILE is then the input.
    run = subparsers.choices.get("run")
    if run is not None:
        run.add_argument("--compiled", metavar="MODEL", help="run a compiled model (.safetensors) instead")
        original = run.get_default("handler")

        def handler(args: argparse.Namespace) -> int:
            if not args.compiled:
                return original(args)
            text = args.input if args.input is not None else (args.file if args.tokens is None else None)
            tokens, as_string = _input(args, text)
            stop = read_stop(args.stop, args.strings)
            return _run_model(args.compiled, tokens, as_string, args.json, args.generate, args.max_new, stop, None)

        run.set_defaults(handler=handler)
