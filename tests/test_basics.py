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
