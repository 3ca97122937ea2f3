"""``nnkit activate``: apply an activation function (or its derivative), inputs beside outputs."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import typer

from nnkit.cli.common import (
    Column,
    Format,
    Input,
    Key,
    Output,
    Precision,
    Quiet,
    Random,
    Seed,
    Values,
    environment,
)
from nnkit.cli.completion import complete_names
from nnkit.errors import NnkitInputError, shape_text
from nnkit.files.arrays import load_array
from nnkit.files.orientation import column_as_vector
from nnkit.nn.activations import ACTIVATIONS, evaluate, get_activation
from nnkit.term.output import array_table, emit

_CHOICES = ", ".join(ACTIVATIONS)
_PLOT_POINTS = 501
#: Most elements the one-line-per-element view lists before eliding the middle.
_MAX_ROWS = 40


def activate(
    function: Annotated[
        str,
        typer.Argument(
            help=f"The function: {_CHOICES}.",
            metavar="FUNCTION",
            show_default=False,
            autocompletion=complete_names(ACTIVATIONS, lambda act: f"{act.label}: {act.formula}"),
        ),
    ],
    values: Values = None,
    derivative: Annotated[
        bool,
        typer.Option(
            "-d",
            "--derivative",
            help="Print the derivative instead. softmax: its n×n Jacobian, for one vector only.",
        ),
    ] = False,
    axis: Annotated[
        int | None,
        typer.Option(
            "--axis",
            help="softmax: the axis that sums to 1 (default: the last, each row is one sample).",
            show_default=False,
        ),
    ] = None,
    column: Column = None,
    alpha: Annotated[
        float | None,
        typer.Option(
            "--alpha",
            help="leaky-relu: the slope for x ≤ 0 (default 0.01); elu: the scale α (default 1).",
            show_default=False,
        ),
    ] = None,
    plot: Annotated[
        str | None,
        typer.Option(
            "--plot",
            help="Draw the function over --range to this PNG, with your inputs marked.",
            metavar="PATH.png",
            show_default=False,
        ),
    ] = None,
    x_range: Annotated[
        str,
        typer.Option("--range", help="The x range of --plot.", metavar="LOW:HIGH"),
    ] = "-5:5",
    input: Input = None,
    key: Key = None,
    random: Random = None,
    seed: Seed = None,
    fmt: Format = None,
    output: Output = None,
    precision: Precision = 6,
    quiet: Quiet = False,
) -> None:
    r"""Apply an activation function to numbers; the table shows inputs beside outputs.

    A column ("1;2;3", the course's notation) is one vector for softmax, and gives a column back.

    \b
    Examples:
      nnkit activate relu 1 -2 3
      nnkit activate relu --random 5x3 --seed 42     # the course's 5×3 matrix
      nnkit activate sigmoid -d 0 2                  # the derivative
      nnkit activate softmax "1;2;3"                 # one column vector, sum 1
      nnkit activate softmax "1,2,3;1,1,1"           # one sample per row
      nnkit activate sigmoid 0 2 --plot sigmoid.png  # the course's figure
    """
    env = environment(quiet)
    act = get_activation(function)
    picture_only = plot is not None and output is None and not values and input is None and random is None
    x = None
    if not (picture_only and env.stdin_isatty):
        try:
            x = load_array(values, env, input, key, random, seed)
        except NnkitInputError as error:
            # `--plot` alone with an empty stdin that is not a terminal (a script, `< /dev/null`,
            # a notebook's `!nnkit …`) still asks only for the picture
            if not (picture_only and error.message == "stdin is empty"):
                raise
    as_vector = None
    if x is None:
        x = result = np.empty(0)  # only a picture was asked for
    elif not act.elementwise and axis is None and column_as_vector(
        x, env, column, "the input", other=" (each row its own softmax: all 1)"
    ):
        # the course's column vector: one softmax over the column, given back as a column
        x = x[:, 0]
        result = evaluate(function, x, derivative=derivative, alpha=alpha)
        as_vector = (x, result)  # what --plot marks: the points of one vector
        if not derivative:
            x, result = x.reshape(-1, 1), result.reshape(-1, 1)
    else:
        result = evaluate(function, x, derivative=derivative, axis=axis, alpha=alpha)
    if plot is not None:
        _plot(act, plot, x_range, *(as_vector or (x, result)), derivative=derivative, alpha=alpha, env=env)
        env.note(f"nnkit: wrote {plot}")
        if x.size == 0:
            return
    name = f"{function}'(x)" if derivative else f"{function}(x)"
    emit(
        result,
        env,
        fmt,
        output,
        precision,
        render=lambda console: _show(console, act, x, result, name, derivative, precision),
    )


def _show(console, act, x, result, name: str, derivative: bool, precision: int) -> None:
    from rich.text import Text

    from nnkit.term.output import format_number

    formula = act.derivative if derivative else act.formula
    console.print(Text(f"{name} = {formula}", style="bold"))
    if result.shape == np.shape(x) and (x.ndim <= 1 or x.shape[1] == 1):
        # a vector (a row or the course's column): one row per input, x beside f(x)
        pairs = np.column_stack([np.ravel(x), np.ravel(result)])
        console.print(array_table(pairs, precision, col_labels=["x", name]))
        if not act.elementwise and not derivative and result.size:
            console.print(Text(f"sum of the outputs: {format_number(result.sum(), precision)}"))
        return
    shape = shape_text(np.shape(x)) or "1"
    out_shape = shape_text(result.shape)
    title = "Jacobian ∂s_j/∂x_k" if result.shape != np.shape(x) else name
    tables = [
        array_table(x, precision, title=f"input x ({shape})"),
        array_table(result, precision, title=f"{title} ({out_shape})"),
    ]
    unbounded = console.options.update_width(10_000)  # a table's natural width, not the clamped one
    if result.shape == np.shape(x) and any(
        console.measure(table, options=unbounded).maximum > console.width for table in tables
    ):
        # too wide for the terminal (Rich would cut every number to "0.…"): one line per element
        console.print(_long_table(x, result, name, precision, title=f"x ({shape}) and {name}"))
        return
    for table in tables:
        console.print(table)


def _long_table(x, result, name: str, precision: int, title: str):
    """One row per element: its index, x and f(x), the middle elided past _MAX_ROWS elements."""
    from rich.table import Table

    from nnkit.term.output import format_number

    table = Table(title=title, header_style="bold")
    headers = ["row", "column"] if x.ndim == 2 else ["index"]
    for header in [*headers, "x", name]:
        table.add_column(header, justify="right", overflow="fold")
    flat_x, flat_y = np.ravel(x), np.ravel(result)
    shown = range(flat_x.size)
    if flat_x.size > _MAX_ROWS:
        half = _MAX_ROWS // 2
        shown = [*range(half), None, *range(flat_x.size - half, flat_x.size)]
    for i in shown:
        if i is None:
            table.add_row(*["…"] * (len(headers) + 2))
            continue
        index = np.unravel_index(i, x.shape)
        where = [str(int(k)) for k in index] if x.ndim == 2 else [str(tuple(int(k) for k in index))]
        table.add_row(*where, format_number(flat_x[i], precision), format_number(flat_y[i], precision))
    return table


#: Most logits whose softmax curves ``--plot`` draws one by one.
_SOFTMAX_CURVES = 6


def _softmax_curves(act, grid, x, derivative, env):
    """Curves and points of a softmax plot, each input's dot on its own curve.

    Softmax has no curve of one variable: output i as a function of its own logit t, the other
    logits held where they are, is sigmoid(t − logsumexp(others)). One vector of up to six logits
    gets one such curve per logit, its dot at (x_i, softmax(x)_i) on it; anything else gets the
    pair softmax([t, 0])[0] alone.
    """
    vector = np.ravel(x)
    if x.size and (x.ndim == 1 or x.shape[0] == 1) and vector.size <= _SOFTMAX_CURVES:
        curves = []
        for i in range(vector.size):
            others = np.delete(vector, i)
            shift = np.logaddexp.reduce(others) if others.size else -np.inf
            pair = np.stack([grid, np.full_like(grid, shift)], axis=-1)
            label = f"softmax(x)[{i}] along x[{i}], the others fixed" if others.size else "softmax of one value: 1"
            curves.append((label, act.fn(pair)[:, 0], {"color": f"C{i}"}))
            if derivative:  # dashed, in its curve's colour
                curves.append((f"∂softmax(x)[{i}]/∂x[{i}]", act.grad(pair)[:, 0],
                               {"color": f"C{i}", "linestyle": "--"}))
        return curves, (vector, np.ravel(act.fn(vector)))
    if x.size:
        env.note(f"nnkit: --plot draws each logit's own curve for one vector of up to {_SOFTMAX_CURVES} "
                 "values; these inputs are not marked")
    pair = np.stack([grid, np.zeros_like(grid)], axis=-1)
    curves = [("softmax([x, 0])[0]", act.fn(pair)[:, 0])]
    if derivative:  # the Jacobian's diagonal entry ∂s_0/∂x_0 = s_0·(1 - s_0) along that curve
        curves.append(("∂/∂x softmax([x, 0])[0]", act.grad(pair)[:, 0]))
    return curves, None


def _plot(act, path, x_range, x, result, *, derivative, alpha, env) -> None:
    from nnkit.plots.curves import parse_range, plot_curves

    low, high = parse_range(x_range)
    grid = np.linspace(low, high, _PLOT_POINTS)
    params = {"alpha": alpha} if alpha is not None else {}
    if act.elementwise:
        curves = [(f"{act.name}(x)", act.fn(grid, **params))]
        if derivative:
            curves.append((f"{act.name}'(x)", act.grad(grid, **params)))
        points = (x, result)
        xlabel = "x"
    else:
        curves, points = _softmax_curves(act, grid, x, derivative, env)
        xlabel = "x (logit)"
    if points is not None:
        outside = int(np.count_nonzero((np.ravel(points[0]) < low) | (np.ravel(points[0]) > high)))
        if outside:
            env.note(
                f"nnkit: {outside} input(s) outside --range {low:g}:{high:g} are not marked (widen --range to see them)"
            )
    sigmoid_like = act.name in ("sigmoid", "step", "softmax")
    plot_curves(
        path,
        grid,
        curves,
        title=f"{act.label} function" + (" and its derivative" if derivative else ""),
        xlabel=xlabel,
        ylabel="y",
        points=points,
        ylim=(-0.1, 1.1) if sigmoid_like else None,
        xlim=(low, high),
        env=env,
    )
