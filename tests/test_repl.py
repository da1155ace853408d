"""The REPL: a loaded program's names and mode are the session's; commands are consistent and say the mode."""

from rasp.repl import Repl


def session(*entries: str) -> str:
    out: list[str] = []
    repl = Repl(example="hello", out=out.append)
    for entry in entries:
        repl.feed(entry)
    return "\n".join(out)


def test_a_loaded_program_keeps_its_mode_and_its_names():
    text = session('load "programs/reverse.rasp";', ":names", ":show reverse", "reverse;")
    assert "mode: bidirectional (from reverse.rasp)" in text
    assert "  reverse: s-op" in text and "  flip: selector" in text
    assert "reverse  o  l  l  e  h" in text and "_       o  l  l  e  h" in text  # not 'h h h h h'


def test_mode_without_an_argument_and_built_ins_can_be_shown():
    text = session(":mode", ":show indices", ":mode bidirectional", ":mode")
    assert (
        "mode: causal" in text
        and "indices  0  1  2  3  4" in text
        and text.endswith("mode: bidirectional (:mode causal|bidirectional changes it)")
    )


def test_draw_takes_a_colon_like_every_other_command():
    assert "no s-op named 'nothing'" in session(":draw nothing")
    assert "unknown command" not in session("x = indices + 1;", ":draw nothing")
