import pytest

import rasp


def test_reverse_bidirectional():
    prog = rasp.parse(
        "@mode bidirectional; flip = select(indices, length - indices - 1, ==); r = aggregate(flip, tokens);"
    )
    assert prog.run(list("hello")) == list("olleh")
    assert prog.run_batch([list("ab"), list("xyz"), []]) == [list("ba"), list("zyx"), []]


def test_histogram_causal_and_bidirectional():
    prog = rasp.parse("hist = selector_width(select(tokens, tokens, ==));")
    assert prog.run(list("hello")) == [1, 1, 1, 2, 1]
    assert prog.run(list("hello"), causal=False) == [1, 1, 2, 2, 1]


def test_name_error_points_at_source():
    with pytest.raises(rasp.RaspNameError) as info:
        rasp.parse("x = tokens;\ny = tokns + 1;", "f.rasp")
    assert (info.value.line, info.value.column) == (2, 5)
    assert "did you mean 'tokens'" in str(info.value)


def test_examples_command_runs_programs_on_their_header_examples(capsys):
    from rasp_cli import main

    assert main(["examples", "programs/reverse.rasp", "programs/sort.rasp"]) == 0
    out = capsys.readouterr().out
    assert "hello  ⟶  olleh" in out
    assert "31 4 15 9 26 >  ⟶  4 9 15 26 31 ." in out


def test_repl_shows_new_sops_and_selectors_and_survives_errors():
    from rasp.repl import Repl, is_complete

    lines = []
    repl = Repl(example="aba", out=lines.append)
    repl.feed("same = select(tokens, tokens, ==);")
    repl.feed("h = selector_width(same);")
    repl.feed("h = tokns;")  # an error: reported, and h keeps its value
    repl.feed("h + 1;")
    repl.feed(":mode bidirectional")
    repl.feed(":show h")
    text = "\n".join(lines)
    assert "■" in text and "·" in text  # the selector grid
    assert "h       1  1  2" in text  # causal histogram on a b a
    assert "name 'tokns' is not defined" in text
    assert "_       2  2  3" in text
    assert lines[-1].splitlines()[-1].split() == ["h", "2", "1", "2"]  # bidirectional now
    assert not is_complete("def f(a) {") and is_complete("def f(a) { return a; }")
    assert not is_complete("x = (1 +") and is_complete("x = 1; # done")
