"""``nnkit dense``: one dense layer's forward pass, shown as the course writes it: ``[1 x] · [b; W]``."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import typer

from nnkit.cli.common import Column, Format, Input, Key, Output, Precision, Quiet, Values, environment
from nnkit.course.dense_walkthrough import dense_forward, random_layer, stacked_labels
from nnkit.errors import NnkitInputError
from nnkit.files.arrays import OPERAND_HELP, load_array, load_operand
from nnkit.files.orientation import column_as_vector
from nnkit.nn.activations import ACTIVATIONS, get_activation
from nnkit.term.limits import require_array
from nnkit.term.output import TABLE_MAX_ROWS, _elided, array_table, emit, format_number

#: Inputs up to which the table spells out each unit's sum term by term.
_MAX_TERMS = 6
#: Samples whose sums are spelled out.
_MAX_SPELLED_SAMPLES = 2


def dense(
    values: Values = None,
    weights: Annotated[
        str | None,
        typer.Option(
            "-w",
            "--weights",
            help="The weights W, one row per input and one column per unit (the course's matrix "
            f"without its bias row): {OPERAND_HELP}.",
            metavar="W",
            show_default=False,
        ),
    ] = None,
    bias: Annotated[
        str | None,
        typer.Option(
            "-b",
            "--bias",
            help="The biases b, one per unit (default: zeros; with --random: random too).",
            metavar="B",
            show_default=False,
        ),
    ] = None,
    activation: Annotated[
        str,
        typer.Option("-a", "--activation", help=f"The activation a: {', '.join(ACTIVATIONS)}."),
    ] = "identity",
    alpha: Annotated[
        float | None,
        typer.Option("--alpha", help="leaky-relu: the slope for x ≤ 0; elu: the scale α.", show_default=False),
    ] = None,
    random: Annotated[
        bool,
        typer.Option(
            "--random",
            help="Random weights and biases, as the course makes arrays: np.random.seed(SEED); "
            "W = np.random.randn(inputs, UNITS); b = np.random.randn(UNITS).",
        ),
    ] = False,
    units: Annotated[
        int | None,
        typer.Option("--units", help="--random: the number of units (default: as many as --bias has, else 3).",
                     show_default=False),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for --random.", show_default=False)] = None,
    plot: Annotated[
        str | None,
        typer.Option(
            "--plot",
            help="Draw the layer (inputs, the bias unit, every weight, each unit's z and a(z)) for the first input row.",
            metavar="PATH.png",
            show_default=False,
        ),
    ] = None,
    column: Column = None,
    input: Input = None,
    key: Key = None,
    fmt: Format = None,
    output: Output = None,
    precision: Precision = 6,
    quiet: Quiet = False,
) -> None:
    r"""One dense layer's forward pass h = a([1 x]·[b; W]) = a(x·W + b), shown the course's way.

    The table shows the input with its leading 1, the stacked [b; W] matrix with the course's labels
    (w_13 joins unit 1 of this layer to input 3), each unit's sum, the pre-activation z and the
    activation h. -f csv/json/npy print h only, so it chains with activate and loss.

    \b
    Examples:
      nnkit dense 2 --weights 0.5 --bias 1 --activation relu  # y = a(xw + b)
      nnkit dense 1 2 3 --weights "0.1,0.2,0.3;0.4,0.5,0.6;0.7,0.8,0.9" \
        --bias 1,0,-1 -a sigmoid
      nnkit dense "1,2,3;4,5,6" --random --units 2 --seed 0
    """
    env = environment(quiet)
    get_activation(activation)
    if plot is not None and not plot.lower().endswith(".png"):
        raise NnkitInputError(f"--plot writes a PNG; {plot} does not end in .png")
    from_stdin = [
        name
        for name, reads in (
            ("the input", not values and (input == "-" or (input is None and not env.stdin_isatty))),
            ("--weights", weights is not None and weights.strip() == "-"),
            ("--bias", bias is not None and bias.strip() == "-"),
        )
        if reads
    ]
    if len(from_stdin) > 1:  # stdin is read once: the second reader would find it empty
        raise NnkitInputError(f"only one of {' and '.join(from_stdin)} can be read from stdin (-)",
                              hint="give the others as numbers or files")
    x = load_array(values, env, input, key)
    if x.ndim > 2 or x.size == 0:
        raise NnkitInputError(f"the input must be one row or a matrix of rows, got shape {x.shape}")
    column_in = column_as_vector(x, env, column, "the input", other=" (one input each)")
    if column_in:
        x = x[:, 0]  # the course's column vector x: one sample, and h comes back as a column
    one_row = x.ndim <= 1  # one input row in, one output row out (a line of CSV, a flat JSON list)
    x = np.asarray(x, dtype=np.float64).reshape(1, -1) if one_row else np.asarray(x, dtype=np.float64)
    b = None if bias is None else load_operand(bias, "--bias", env, key)
    if random:
        if weights is not None:
            raise NnkitInputError("give the weights one way, not with --weights and --random")
        if units is None:
            units = 3 if b is None else int(np.size(b))
        elif b is not None and np.size(b) != units:
            raise NnkitInputError(f"--bias has {np.size(b)} value(s) but --units is {units} (one bias per unit)")
        # W, b and the rows' z and h: refused before NumPy tries to allocate them.
        require_array((x.shape[1] + x.shape[0] * 2 + 1, units), 8 * 2, f"--random --units {units}")
        W, random_b = random_layer(x.shape[1], units, seed)
        b = random_b if b is None else b
    else:
        if weights is None:
            raise NnkitInputError(
                "dense needs --weights (one row per input, one column per unit) or --random",
                hint='nnkit dense 1 2 --weights "0.1,0.2;0.3,0.4" --bias 0.5,-0.5',
            )
        if units is not None or seed is not None:
            raise NnkitInputError("--units and --seed apply to --random weights only")
        W = load_operand(weights, "--weights", env, key)
        if W.ndim > 2:
            raise NnkitInputError(f"--weights must be a matrix, got shape {W.shape}")
    result = dense_forward(x, W, b, activation, alpha)
    out = result.y[0] if one_row else result.y
    if column_in:
        out = out.reshape(-1, 1)
    if plot is not None:
        from nnkit.plots.dense_layer import write_dense_plot

        write_dense_plot(plot, result, env=env)
        env.note(f"nnkit: wrote {plot}")
    emit(out, env, fmt, output, precision, render=lambda console: _show(console, result, precision))


def _show(console, result, precision: int) -> None:
    from rich.text import Text

    num = lambda v: format_number(v, precision)  # noqa: E731
    n, n_in = result.x.shape
    n_out = result.W.shape[1]
    act = get_activation(result.activation)
    console.print(
        Text(
            f"dense layer: {n_in} input(s) → {n_out} unit(s), activation {act.name}(z) = {_in_z(act.formula)}\n"
            "h = a([1 x]·[b; W]) = a(x·W + b)",
            style="bold",
        )
    )
    sample_labels = [str(s) for s in range(n)]
    heading = lambda text: console.print(Text("\n" + text, style="bold"))  # noqa: E731
    heading("[1 x]: each input row with its leading 1")
    console.print(
        array_table(
            result.x1,
            precision,
            row_labels=sample_labels,
            col_labels=["1", *[f"x_{i}" for i in range(1, n_in + 1)]],
            width=console.width,
        )
    )
    heading("[b; W]: the bias row, then one row per input (w_ji joins unit j of this layer to input i)")
    _show_stacked_weights(console, result, precision)
    if n_in <= _MAX_TERMS and n_out <= 12:
        for s in range(min(n, _MAX_SPELLED_SAMPLES)):
            heading(f"row {s}: the product [1 x]·[b; W], one sum per unit")
            console.print(Text(_spelled_sums(result, s, act, num)))
    units = [str(j) for j in range(1, n_out + 1)]
    if 2 * n_out <= 12:
        heading(f"pre-activation z = [1 x]·[b; W] and activation h = {act.name}(z)")
        table = array_table(np.hstack([result.z, result.y]), precision, row_labels=sample_labels,
                            col_labels=[*[f"z_{u}" for u in units], *[f"h_{u}" for u in units]],
                            width=console.width)
    else:
        heading(f"activation h = {act.name}(z), z = [1 x]·[b; W]")
        table = array_table(result.y, precision, row_labels=sample_labels, col_labels=[f"h_{u}" for u in units],
                            width=console.width)
    console.print(table)


def _show_stacked_weights(console, result, precision: int) -> None:
    """``[b; W]`` with the course's label in every cell (``w_13 = 0.3``), or the plain matrix when wide."""
    from rich.table import Table

    num = lambda v: format_number(v, precision)  # noqa: E731
    n_in, n_out = result.W.shape
    labels = stacked_labels(n_in, n_out)
    stacked = Table(header_style="bold")
    stacked.add_column("", style="dim", justify="right")
    for j in range(1, n_out + 1):
        stacked.add_column(f"unit {j}", justify="right")
    rows = _elided(n_in + 1, TABLE_MAX_ROWS)
    for i in rows:
        if i is None:
            stacked.add_row("…", *["…"] * n_out)
            continue
        stacked.add_row(
            "1" if i == 0 else f"x_{i}",
            *[f"{labels[i][j]} = {num(result.Wb[i, j])}" for j in range(n_out)],
        )
    if n_out <= 8:
        console.print(stacked)
    else:  # too many units for labelled cells: the plain matrix, elided like every array
        console.print(array_table(result.Wb, precision, width=console.width,
                                  row_labels=["1", *[f"x_{i}" for i in range(1, n_in + 1)]],
                                  col_labels=[f"unit {j}" for j in range(1, n_out + 1)]))


def _spelled_sums(result, s: int, act, num) -> str:
    """Row ``s``'s sum for every unit, in the course's names and then in numbers, and its activation."""
    n_in, n_out = result.W.shape
    labels = stacked_labels(n_in, n_out)
    lines = []
    for j in range(n_out):
        names = " + ".join(["1·b_" + str(j + 1)] + [f"x_{i}·{labels[i][j]}" for i in range(1, n_in + 1)])
        numbers = " + ".join(f"{_factor(result.x1[s, i], num)}·{_factor(result.Wb[i, j], num)}"
                             for i in range(n_in + 1))
        # softmax mixes the units of a row: its value is not a function of z_j alone
        applied = f"{act.name}({num(result.z[s, j])})" if act.elementwise else f"{act.name}(z)_{j + 1}"
        lines.append(
            f"  z_{j + 1} = {names}\n      = {numbers}\n      = {num(result.z[s, j])}"
            f"   →   h_{j + 1} = {applied} = {num(result.y[s, j])}"
        )
    return "\n".join(lines)


def _in_z(formula: str) -> str:
    """An activation's formula in the layer's own variable: ``max(0, x)`` → ``max(0, z)`` (x is the input here)."""
    import re

    return re.sub(r"(?<![A-Za-z])x(?![A-Za-z])", "z", formula)


def _factor(value: float, num) -> str:
    """A number as a factor of a product: negative ones in parentheses, ``1·(-0.5)``."""
    text = num(value)
    return f"({text})" if text.startswith("-") else text
