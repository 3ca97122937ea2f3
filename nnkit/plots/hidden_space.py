"""XOR seen from its hidden layer (``train-xor --plot``): the four points where the hidden units put them.

The course's 2-3: no straight line separates XOR's 0s from its 1s in the input plane (x1, x2), but the
hidden layer moves the four points to (h1, h2) = (NAND, OR), where the output unit's one straight
line (AND) does. Each figure puts the input plane and the hidden plane side by side; the hidden
plane is coloured by what the output unit answers there, its line is the output unit's
``w·h + b = 0``, and every point is labelled with the input it came from.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from nnkit.course.logic_gates import hidden_outputs
from nnkit.plots.decision_regions import add_probability_bar, draw_decision
from nnkit.plots.style import NOTEBOOK, SLIDE, new_figure


def _label_inputs(axis, h: np.ndarray, x: np.ndarray) -> None:
    """Write beside each hidden point the input(s) it came from: two inputs may land on (nearly) one point."""
    where: dict[tuple, list[int]] = defaultdict(list)
    for i, point in enumerate(np.round(h, 1)):
        where[tuple(point)].append(i)
    for rows in where.values():
        inputs = " and ".join(f"({x[i, 0]:g}, {x[i, 1]:g})" for i in rows)
        axis.annotate(f"from {inputs}", tuple(h[rows].mean(axis=0)), xytext=(0, -17), textcoords="offset points",
                      ha="center", va="top", fontsize=9, zorder=6,
                      bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})


def draw_hidden_space(axis, h: np.ndarray, x: np.ndarray, t: np.ndarray, predict, output_line, title: str,
                      names: tuple[str, str] = ("h1", "h2"), title_chars: int = 45, legend_below: float = -0.13):
    """The hidden plane: the points ``h`` (from inputs ``x``), coloured by ``predict``, the output's line.

    Returns the shading (for the figure's colour bar).
    """
    lo = min(-0.25, float(h.min()) - 0.2)
    hi = max(1.25, float(h.max()) + 0.2)
    shading = draw_decision(axis, predict, h, t, title, [output_line], limits=(lo, hi), names=names,
                            title_chars=title_chars, legend_below=legend_below)
    _label_inputs(axis, h, x)
    return shading


def xor_trained_figure(network, x: np.ndarray, t: np.ndarray, title: str, input_lines):
    """Input plane and (for two hidden units) the hidden plane of a trained 2-H-1 network."""
    two_hidden = len(network.dense_layers) == 2 and network.sizes[1] == 2
    figure, axes = new_figure(SLIDE if two_hidden else (NOTEBOOK[0], NOTEBOOK[1] + 1.4), 1, 2 if two_hidden else 1,
                              squeeze=False)
    predict = lambda g: network.predict_proba(g)[:, 0]  # noqa: E731
    shading = draw_decision(axes[0, 0], predict, x, t, "input space (x1, x2): no straight line separates XOR",
                            input_lines, title_chars=45)
    if two_hidden:
        out = network.dense_layers[1]
        w, b = out.W[:, 0].astype(np.float64), float(out.b[0])
        h = hidden_outputs(network, x)
        draw_hidden_space(axes[0, 1], h, x, t, lambda g: 1 / (1 + np.exp(-(g @ w + b))),
                          (w, b, "y switches on"), "hidden space (h1, h2): the output's one line separates them")
    add_probability_bar(figure, shading, axes)
    figure.suptitle(title)
    return figure


def xor_wired_figure(saitoh_predict, saitoh_lines, ones_predict, ones_lines, s: np.ndarray, x: np.ndarray,
                     t: np.ndarray, and_predict, and_line):
    """The two hand-built XOR networks in the input plane, and the hidden plane (s1, s2) they share."""
    figure, axes = new_figure((SLIDE[0], 6.6), 1, 3)  # three square panels: a full slide's height is empty
    shading = draw_decision(axes[0], saitoh_predict, x, t, "weights ±0.5, biases 0.7, −0.2, −0.7", saitoh_lines,
                            title_chars=36, legend_below=-0.2)
    draw_decision(axes[1], ones_predict, x, t, "the course's gates, every weight 1:\n"
                  "s1 = NAND fires if x1 + x2 < 1.5, s2 = OR if x1 + x2 > 0.5", ones_lines, title_chars=36,
                  legend_below=-0.2)
    draw_hidden_space(axes[2], s, x, t, and_predict, and_line,
                      "hidden space (s1, s2) = (NAND, OR):\none line, y = AND: s1 + s2 > 1.5, separates them",
                      names=("s1 = NAND(x1, x2)", "s2 = OR(x1, x2)"), title_chars=36, legend_below=-0.2)
    add_probability_bar(figure, shading, axes)
    figure.suptitle("The course's wired XOR: s1 = NAND, s2 = OR in the hidden layer, y = AND(s1, s2)")
    return figure
