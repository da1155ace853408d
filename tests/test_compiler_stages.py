"""compile()'s first stages on their own: the walk (`encode`) and the layer allocation (`schedule`).

With tests/test_compiler_weights.py (weights from hand-made components) an agreement failure of the whole
pipeline can be pinned to a stage: these say what the walk builds for a small program, and where the schedule
puts hand-made components.
"""

import pytest

import rasp
from compiler.encode import encode
from compiler.errors import CompileError
from compiler.layout import Layout
from compiler.schedule import Component, schedule

MEAN_THEN_THRESHOLD = """
first = tokens == "a";
n = numerical(aggregate(select(tokens, tokens, ==), numerical(first)));
big = n > 0.5;
"""


def _encoded(source: str, output: str, vocab=("a", "b"), max_len: int = 4):
    program = rasp.parse(source)
    return encode(program, list(vocab), max_len, True, program.output_id(output), output)


def test_the_walk_folds_a_map_of_tokens_and_builds_one_head_and_one_mlp():
    encoded = _encoded(MEAN_THEN_THRESHOLD, "big")
    # `first` is a sum of token dims (no component of its own); the aggregate is a head; `big` a lookup MLP
    assert [(c.kind, c.label) for c in encoded.components] == [("attn", "n"), ("mlp", "big")]
    assert encoded.token_dims == {"a": 2, "b": 3} and encoded.index_dims == []  # nothing reads indices
    assert encoded.output_kind == "categorical" and encoded.output_values == [False, True]
    labels = encoded.layout.labels
    assert [labels[d] for form in encoded.readout for d in form] == ["big:False", "big:True"]
    assert encoded.layout.producer[labels.index("n")] == 0  # written by the head, read by the MLP


def test_the_walk_reads_out_a_numerical_output_as_one_row():
    encoded = _encoded(MEAN_THEN_THRESHOLD, "n")
    assert encoded.output_kind == "numerical" and len(encoded.readout) == 1
    assert [c.kind for c in encoded.components] == ["attn"]


def test_the_walk_builds_only_what_the_output_reads():
    encoded = _encoded(MEAN_THEN_THRESHOLD + "unused = aggregate(select(indices, indices, <), tokens);", "big")
    assert [c.label for c in encoded.components] == ["n", "big"]
    assert encoded.index_dims == []


def test_the_walk_names_the_s_op_it_cannot_encode():
    with pytest.raises(CompileError, match="cannot compile n"):
        _encoded("n = numerical(map(lambda x: x, tokens));", "n", vocab=("a",))


def _chain(*kinds: str):
    """Components each reading the previous one's output dim."""
    layout = Layout()
    previous = layout.new("tokens:a", None)
    components = []
    for i, kind in enumerate(kinds):
        out = layout.new(f"c{i}", i)
        if kind == "attn":
            components.append(Component(i, kind, f"c{i}", ov={(previous, out): 1.0}))
        else:
            components.append(Component(i, kind, f"c{i}", units=[({previous: 1.0}, {out: 1.0})]))
        previous = out
    return components, layout


def test_schedule_places_a_chain_in_alternating_sublayers():
    components, layout = _chain("attn", "mlp", "attn", "mlp")
    plan = schedule(components, layout)
    assert plan.n_layers == 2 and plan.sublayer == {0: 0, 1: 1, 2: 2, 3: 3}
    assert plan.components_at(components, 2) == [components[2]]


def test_two_mlps_in_a_row_need_a_layer_each():
    components, layout = _chain("mlp", "mlp")
    plan = schedule(components, layout)
    assert plan.n_layers == 2 and plan.sublayer == {0: 1, 1: 3}


def test_schedule_moves_an_mlp_with_slack_where_the_widest_mlp_narrows():
    components, layout = _chain("attn", "mlp", "attn", "mlp")
    token = layout.labels.index("tokens:a")
    components[1].units *= 3  # layer 0's MLP: 3 units, layer 1's: 1
    free = layout.new("free", 4)
    components.append(Component(4, "mlp", "free", units=[({token: 1.0}, {free: 1.0})]))  # reads only tokens
    plan = schedule(components, layout)
    assert plan.n_layers == 2
    assert plan.sublayer[4] == 3  # ASAP would put it beside the 3 units (width 4); layer 1 keeps the widest at 3


def test_an_empty_program_has_no_layers():
    assert schedule([], Layout()).n_layers == 0
