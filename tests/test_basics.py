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


FUNCTIONS = """@mode bidirectional;
def dyck1(t) {
    up_to_self = select(indices, indices, <=);
    n_opens = selector_width(select(t, "(", ==) and up_to_self);
    n_closes = selector_width(select(t, ")", ==) and up_to_self);
    return n_opens - n_closes;
}
balance = dyck1(tokens);
other = dyck1(tokens == "(");
"""


def test_names_inside_functions_are_qualified(tmp_path, capsys):
    from rasp_cli import main

    program = rasp.parse(FUNCTIONS)
    assert program.output == "other"  # the output is still the last top-level name
    assert program.run(list("(()"), output="dyck1.n_opens") == [1, 2, 2]
    assert program.run(list("(()"), output="dyck1.n_closes") == [0, 0, 1]
    assert "dyck1#2.n_opens" in program.sop_names()  # the second inlining, with other arguments
    assert program.op("dyck1.n_opens").label == "dyck1.n_opens"  # drawings and reasons use the same name
    assert not any(
        name.startswith("shift_fill") for name in rasp.parse('load "std"; x = shift_fill(1, tokens, "-");').names
    )
    path = tmp_path / "fn.rasp"
    path.write_text(FUNCTIONS)
    assert main(["run", str(path), "--output", "dyck1.n_opens", "(()"]) == 0
    assert capsys.readouterr().out.split() == ["1", "2", "2"]
    assert main(["run", str(path), "--all", "(()"]) == 0
    assert "dyck1.n_closes" in capsys.readouterr().out


def test_repl_lists_and_shows_names_inside_functions():
    from rasp.repl import Repl

    lines = []
    repl = Repl(example="(()", out=lines.append)
    repl.feed(FUNCTIONS.split("\n", 1)[1])  # the program without its @mode line
    repl.feed(":names")
    repl.feed(":show dyck1.n_opens")
    text = "\n".join(lines)
    assert "dyck1.n_opens: s-op" in text and "dyck1.up_to_self: selector" in text
    assert lines[-1].split()[-3:] == ["1", "2", "2"], lines[-3:]


def test_generate_stops_where_the_header_says(capsys):
    from rasp_cli import main

    # programs/sort.rasp's header: `# generate: stop .`; without it generation would run to --max-new
    assert main(["run", "sort", "--tokens", "3 1 2 >", "--generate", "--max-new", "20"]) == 0
    assert capsys.readouterr().out.split() == ["3", "1", "2", ">", "1", "2", "3", "."]
