"""`rasp trained-vs-compiled`: train the compiled model's architecture on a program's function, compare heads.

    rasp trained-vs-compiled programs/hist.rasp --vocab "a b c" --max-len 6 --steps 2000 --init random --out DIR

prints the accuracy and the head-by-head attention table, and writes DIR/attention.png (compiled heads beside
their best-matching trained heads), DIR/result.json and DIR/trained.safetensors (+ .json). torch is imported
only when the command runs.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from rasp.errors import RaspInputError


def cmd_trained_vs_compiled(args: argparse.Namespace) -> int:
    import torch

    import rasp
    from compiler.commands import vocab_from_args

    from .attention_maps import compare_attention
    from .study import INITS, ProgramTask, train_on_program

    if args.init not in INITS:
        raise RaspInputError(f"--init must be one of {', '.join(INITS)}")
    if args.max_len < 1:
        raise RaspInputError("--max-len must be at least 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    program = rasp.load(args.file)
    vocab = vocab_from_args(args)
    model = _compiled_side(args, program, vocab)

    def progress(record: dict) -> None:
        print(f"  step {record['step']:>6}  loss {record['loss']:.4g}  accuracy {record['accuracy']:.4f}", flush=True)

    result = train_on_program(
        program,
        vocab,
        args.max_len,
        steps=args.steps,
        init=args.init,
        seed=args.seed,
        lr=args.lr,
        batch_size=args.batch_size,
        compiled=model,
        progress=progress,
    )
    out = Path(args.out or f"runs/trained-vs-compiled/{Path(args.file).stem}-{args.init}")
    out.mkdir(parents=True, exist_ok=True)
    task = ProgramTask(program, result.compiled, vocab)
    inputs, _ = task.evaluation_set(args.seed + 1, per_length=args.compare_inputs)
    labelled = [seq for seq, ex in zip(inputs, task.labels(inputs)) if ex is not None]
    if not labelled:
        raise RaspInputError("no input over this vocabulary has a value to compare on")
    png = out / "attention.png"
    table = compare_attention(result.compiled, result.model, labelled, png=png)
    _report(args, result, vocab, labelled, table, png, out)
    return 0


def _compiled_side(args: argparse.Namespace, program: Any, vocab: list) -> Any:
    """The compiled model the trained one is compared with (the limit construction with --limit), described."""
    import compiler

    if args.limit:  # the construction the theory predicts: the same NoPE model at every length
        model = compiler.compile_limit(program, vocab).model.to(args.device or "cpu")
        model.spec = replace(model.spec, max_len=args.max_len)  # trained and compared on --max-len, not its bound
    else:
        model = compiler.compile(program, vocab, args.max_len, device=args.device)
    cfg = model.cfg
    print(
        f"{Path(args.file).name}: compiled to {cfg.n_layers} layers, heads {cfg.heads()}, head sizes {cfg.head_dims()}, "
        f"MLP widths {cfg.mlp_dims()}, residual width {cfg.d_model}, {model.spec.output_kind} output "
        f"({cfg.n_out} units); training {args.steps} steps from {args.init} weights",
        flush=True,
    )
    return model


def _report(
    args: argparse.Namespace, result: Any, vocab: list, labelled: list, table: Any, png: Path, out: Path
) -> None:
    """Accuracies, weight drift and the attention table printed; result.json and the trained weights written."""
    import compiler

    from .attention_maps import format_table

    held = "" if result.held_out_accuracy is None else f", held-out {result.held_out_accuracy:.4f}"
    print(
        f"\nexact match per sequence on {result.evaluation['inputs']} inputs of lengths 1..{args.max_len}: "
        f"trained {result.accuracy:.4f}{held}; compiled {result.compiled_accuracy:.4f}"
    )
    if result.drift is not None:
        print(f"weight drift from the compiled weights: ‖W − W₀‖/‖W₀‖ = {result.drift['relative']:.4g}")
    print(
        f"\nattention: total-variation distance per query row (BOS row excluded), mean over {len(labelled)} inputs; "
        "0 = identical, 1 = disjoint\n"
    )
    print(format_table(table))
    summary = result.summary()
    summary.update(
        {
            "program": str(args.file),
            "vocab": vocab,
            "max_len": args.max_len,
            "measure": "mean over query rows (BOS row excluded) of the total-variation distance between attention "
            "distributions; 0 identical, 1 disjoint",
            "compare_inputs": len(labelled),
            "attention": table,
            "figure": str(png),
        }
    )
    (out / "result.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
    compiler.save(result.model, out / "trained.safetensors")
    print(f"\nwrote {png}, {out / 'result.json'}, {out / 'trained.safetensors'}")


def register(sub) -> None:
    p = sub.add_parser(
        "trained-vs-compiled",
        help="train the compiled architecture on a program's function; compare attention maps head by head",
    )
    p.add_argument("file")
    p.add_argument("--vocab", required=True, help='the input tokens, e.g. "a b c" (or "abc": one per character)')
    p.add_argument("--strings", action="store_true", help="keep integer-looking tokens as strings")
    p.add_argument("--max-len", type=int, default=8, help="longest input (default 8)")
    p.add_argument(
        "--limit",
        action="store_true",
        help="compare with the limit construction (a C-RASP program's NoPE model for every length) instead",
    )
    p.add_argument("--steps", type=int, default=2000, help="training steps (default 2000)")
    p.add_argument("--init", default="random", help="random (fresh weights) or compiled (fine-tune the compiled ones)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr", type=float, help="learning rate (default 3e-3 from random, 1e-5 from compiled weights)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--compare-inputs", type=int, default=50, help="inputs per length for the attention comparison")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--device", default=None, help="cpu or cuda (default cpu)")
    p.add_argument("--out", help="output directory (default runs/trained-vs-compiled/PROGRAM-INIT)")
    p.set_defaults(handler=cmd_trained_vs_compiled)
