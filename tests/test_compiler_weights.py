"""compiler/weights.py on hand-made components: the last stages of compile() tested on their own (an agreement
failure in the full pipeline then points at the walk, not at the weights)."""

import numpy as np
import pytest

from compiler.context import Encoded
from compiler.layout import BOS, ONE, Layout
from compiler.schedule import Component, schedule
from compiler.weights import _factor, build_weights

torch = pytest.importorskip("torch")


def _layout_with_token_dims():
    layout = Layout()
    a, b = layout.new("tok=a", None), layout.new("tok=b", None)
    return layout, {"a": a, "b": b}


def _weights(components, layout, tokens, max_len, rows):
    encoded = Encoded(
        vocab=["a", "b"],
        max_len=max_len,
        causal=True,
        layout=layout,
        components=components,
        token_dims=tokens,
        index_dims=[],
        output_name="out",
        output_kind="numerical",
        output_values=None,
        readout=rows,
    )
    return build_weights(encoded, schedule(components, layout))


def test_a_head_and_an_mlp_in_their_layers_with_embeddings_and_read_out():
    layout, tokens = _layout_with_token_dims()
    heard = layout.new("mean of tok=a", 0)  # written by task 0 (a head), read by task 1 (an MLP)
    doubled = layout.new("2 × mean", 1)
    head = Component(0, "attn", "uniform mean of tok=a", ov={(tokens["a"], heard): 1.0})
    mlp = Component(1, "mlp", "double", units=[({heard: 2.0}, {doubled: 1.0})])
    weights = _weights([head, mlp], layout, tokens, max_len=4, rows=[{doubled: 1.0}])

    assert weights.n_layers == 1 and len(weights.heads[0]) == 1  # the MLP reads the head: same layer, after it
    wq, wk, wv, wo = weights.heads[0][0]
    assert np.allclose(wq @ wk.T, 0) and np.allclose(wv @ wo, _ov(layout, tokens["a"], heard))
    assert weights.tok[0, BOS] == 1 and (weights.tok[:, ONE] == 1).all() and weights.tok[1, tokens["a"]] == 1
    assert weights.unembed[0, doubled] == 1 and weights.unembed.sum() == 1
    w_in, w_out = weights.mlps[0]
    assert w_in[heard, 0] == 2.0 and w_out[0, doubled] == 1.0


def _ov(layout, source, target):
    m = np.zeros((len(layout), len(layout)))
    m[source, target] = 1.0
    return m


def test_the_bos_reset_unit_appears_only_where_a_layer_moves_bos():
    layout, tokens = _layout_with_token_dims()
    lit = layout.new("constant 3", 0)
    moves_bos = Component(0, "mlp", "writes 3 everywhere, BOS included", units=[({ONE: 1.0}, {lit: 3.0})])
    weights = _weights([moves_bos], layout, tokens, max_len=2, rows=[{lit: 1.0}])
    w_in, w_out = weights.mlps[0]
    assert w_in.shape[1] == 2  # the task's unit and the reset
    assert w_in[BOS, 1] == 1.0 and w_out[1, lit] == -3.0  # BOS's drift (3 in `lit`) subtracted at BOS only

    quiet = Component(0, "mlp", "reads a token: 0 at BOS", units=[({tokens["a"]: 1.0}, {lit: 1.0})])
    weights = _weights([quiet], layout, tokens, max_len=2, rows=[{lit: 1.0}])
    assert weights.mlps[0][0].shape[1] == 1  # nothing to reset


def test_factor_is_exact_on_sparse_and_dense_parts():
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(2, 3))
    bilinear = {(0, 5): 1.5, (4, 2): -2.0}
    left, right = _factor(bilinear, 8, [([1, 3], [2, 6, 7], dense)])
    expected = np.zeros((8, 8))
    expected[0, 5], expected[4, 2] = 1.5, -2.0
    expected[np.ix_([1, 3], [2, 6, 7])] += dense
    assert np.allclose(left @ right.T, expected)
    assert left.shape[1] == 4  # inner size: the smaller of 4 rows (0, 1, 3, 4) and 4 columns (2, 5, 6, 7)
