"""A digest of the compiled weights of every Tracr benchmark program, to show that a refactoring of the compiler
changed no weight.

    python benchmarks/weights_digest.py > after.txt
    git stash; python benchmarks/weights_digest.py > before.txt; git stash pop
    diff before.txt after.txt && echo byte-identical

One line per program and max_len: the SHA-256 (first 16 hex digits) of the model's state dict, every tensor's
name and bytes in name order, or the error the compiler raised.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.append(str(HERE))  # after the project: benchmarks/compiler.py must not shadow the compiler package

from tracr_vocabs import ORDER, VOCABS  # noqa: E402

import compiler  # noqa: E402
import rasp  # noqa: E402
from rasp.errors import RaspError  # noqa: E402


def digest(model) -> str:
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[10, 32], help="max_len values (default 10 32)")
    args = parser.parse_args()
    for name in ORDER:
        program = rasp.load(str(HERE / "tracr_programs" / f"{name}.rasp"))
        for max_len in args.lengths:
            try:
                line = digest(compiler.compile(program, VOCABS[name], max_len=max_len))
            except RaspError as error:
                line = f"error {type(error).__name__}: {error}".splitlines()[0]
            print(f"{name}@{max_len} {line}", flush=True)


if __name__ == "__main__":
    main()
