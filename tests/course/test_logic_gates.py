"""Logic gates: truth tables, units read as gates, the wired network, and learning each gate."""

import itertools

import numpy as np
import pytest

from nnkit.course.logic_gates import (
    GATES,
    INPUTS,
    gate_expression,
    gate_name,
    hidden_bits,
    is_linearly_separable,
    output_as_gate_of_hidden,
    train_gate,
    truth_table,
    wired_forward,
)
from nnkit.errors import NnkitInputError
from nnkit.nn.layers import Activation, Dense
from nnkit.nn.network import Network

# The course's table (§2-3): outputs for (x1, x2) = (0,0), (0,1), (1,0), (1,1).
COURSE = {"or": [0, 1, 1, 1], "nor": [1, 0, 0, 0], "and": [0, 0, 0, 1], "nand": [1, 1, 1, 0],
          "xor": [0, 1, 1, 0]}


@pytest.mark.parametrize("gate", list(COURSE))
def test_truth_tables_are_the_courses(gate):
    x, t = truth_table(gate)
    np.testing.assert_array_equal(x, [[0, 0], [0, 1], [1, 0], [1, 1]])
    assert t.tolist() == COURSE[gate]


def test_xnor_is_not_xor():
    assert truth_table("xnor")[1].tolist() == [1, 0, 0, 1]


def test_every_two_input_function_has_one_name():
    names = [gate_expression(bits) for bits in itertools.product([0, 1], repeat=4)]
    assert names[0] is None and names[-1] is None  # constants match no gate
    assert len(set(names[1:-1])) == 14
    for gate, bits in GATES.items():
        assert gate_name(bits) == gate.upper()
    assert gate_expression([0, 0, 0, 1], "h1", "h2") == "AND(h1, h2)"
    assert gate_name([1, 1, 0, 0]) == "NOT(x1)"  # the course's NOT gate


def test_only_xor_and_xnor_are_not_linearly_separable():
    assert [g for g in GATES if not is_linearly_separable(g)] == ["xor", "xnor"]


def test_wired_network_is_the_courses_nand_or_and():
    s, y = wired_forward()
    assert s[:, 0].tolist() == COURSE["nand"]  # s1 = NAND(x1, x2)
    assert s[:, 1].tolist() == COURSE["or"]  # s2 = OR(x1, x2)
    assert y.tolist() == COURSE["xor"]  # y = AND(s1, s2)


def _hand_built(scale=10.0):
    # NAND and OR hidden units, AND output: sigmoid units with large weights behave like steps.
    first = Dense(np.array([[-1.0, 1.0], [-1.0, 1.0]]) * scale, np.array([1.5, -0.5]) * scale)
    out = Dense(np.array([[1.0], [1.0]]) * scale, np.array([-1.5]) * scale)
    return Network([first, Activation("sigmoid"), out], output="sigmoid")


def test_units_are_read_as_the_gates_they_compute():
    net = _hand_built()
    bits = hidden_bits(net)
    assert [gate_name(column) for column in bits.T] == ["NAND", "OR"]
    assert output_as_gate_of_hidden(net) == "AND(h1, h2)"
    assert net.predict(INPUTS).tolist() == COURSE["xor"]


def test_output_gate_with_tanh_hidden_units():
    net = _hand_built()
    net.layers[1] = Activation("tanh")
    # tanh is -1 when off: AND of two ±1 units needs bias -1·w, not -1.5·w.
    net.layers[2].b[...] = -10.0
    assert output_as_gate_of_hidden(net) == "AND(h1, h2)"


def test_output_gate_needs_a_2_2_1_network():
    net = Network([Dense(np.ones((2, 3))), Activation("relu"), Dense(np.ones((3, 1)))], output="sigmoid")
    assert output_as_gate_of_hidden(net) is None


def test_xor_is_learned_with_the_defaults_for_a_sample_of_seeds():
    # Over seeds 0-99 the defaults learn XOR 4/4 for 99 (seed 3 stays on a plateau at 2/4); the
    # promise is at least 95. Ten seeds keep this test fast; the full count is in docs/commands.md.
    learned = []
    for seed in range(10):
        net, history = train_gate("xor", seed=seed)
        assert len(history) == 2000
        if net.predict(INPUTS).tolist() == COURSE["xor"]:
            learned.append(seed)
            assert history[-1]["loss"] < 0.05
    assert len(learned) >= 9, learned


def test_xor_defaults_learn_the_hidden_gates_of_the_course():
    # Seed 10 learns exactly the course's decomposition.
    net, _ = train_gate("xor", seed=10)
    names = sorted(gate_name(column) for column in hidden_bits(net).T)
    assert names == ["NAND", "OR"]
    assert output_as_gate_of_hidden(net) == "AND(h1, h2)"


@pytest.mark.parametrize("gate", ["and", "or", "nand", "nor"])
@pytest.mark.parametrize("hidden", [2, None])
def test_linearly_separable_gates_are_learned_with_and_without_hidden_layer(gate, hidden):
    for seed in (0, 1):
        net, _ = train_gate(gate, hidden=hidden, seed=seed, epochs=300)
        assert net.predict(INPUTS).tolist() == COURSE[gate]


def test_xor_without_hidden_layer_fails():
    for seed in range(3):
        net, _ = train_gate("xor", hidden=None, seed=seed, epochs=500)
        assert (net.predict(INPUTS) == COURSE["xor"]).sum() < 4


def test_same_seed_same_network():
    a, _ = train_gate("xor", seed=3, epochs=200)
    b, _ = train_gate("xor", seed=3, epochs=200)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p, q)


def test_bad_gate_and_sizes_are_input_errors():
    with pytest.raises(NnkitInputError, match="unknown gate"):
        truth_table("implies")
    with pytest.raises(NnkitInputError, match="--hidden"):
        train_gate("xor", hidden=0)
    with pytest.raises(NnkitInputError, match="unknown optimizer"):
        train_gate("xor", optimizer="lbfgs")


def test_a_constant_hidden_unit_makes_no_output_gate():
    net = _hand_built()
    net.layers[0].b[1] = -100.0  # h2 never switches on
    assert gate_name(hidden_bits(net)[:, 1]) is None
    assert output_as_gate_of_hidden(net) is None


def _evaluate(expression: str, a: int, b: int) -> bool:
    named = {"AND": lambda p, q: p and q, "OR": lambda p, q: p or q, "NAND": lambda p, q: not (p and q),
             "NOR": lambda p, q: not (p or q), "XOR": lambda p, q: p != q, "XNOR": lambda p, q: p == q}
    head = expression.split("(")[0]
    if expression.endswith("(x1, x2)") and head in named:
        return bool(named[head](bool(a), bool(b)))
    python = expression.replace("NOT", "not").replace("AND", "and").replace("OR", "or")
    return bool(eval(python, {}, {"x1": bool(a), "x2": bool(b)}))


@pytest.mark.parametrize("bits", list(itertools.product([0, 1], repeat=4))[1:-1])
def test_each_name_computes_its_truth_table(bits):
    expression = gate_expression(bits)
    assert [_evaluate(expression, a, b) for a, b in INPUTS.astype(int)] == [bool(v) for v in bits]
