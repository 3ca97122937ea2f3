"""``nnkit loss``: a loss between a prediction and a target, with the pieces of its sum shown."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import typer

from nnkit.cli.common import Column, Format, Key, Output, Precision, Quiet, environment
from nnkit.cli.completion import complete_names
from nnkit.errors import NnkitInputError
from nnkit.files.arrays import OPERAND_HELP as _OPERAND_HELP
from nnkit.files.arrays import load_operand
from nnkit.files.orientation import column_as_vector
from nnkit.nn.activations import sigmoid, softmax
from nnkit.nn.losses import DELTA, LOSS_ALIASES, LOSSES, REDUCTIONS, get_loss
from nnkit.term.output import emit, format_number

_CHOICES = ", ".join([*LOSSES, *LOSS_ALIASES])
#: Most element rows the terminal view lists before eliding the middle.
_MAX_ROWS = 40


def loss(
    kind: Annotated[
        str,
        typer.Argument(
            help=f"The loss: {_CHOICES}.",
            metavar="KIND",
            show_default=False,
            autocompletion=complete_names(
                {**LOSSES, **{alias: LOSSES[name] for alias, name in LOSS_ALIASES.items()}},
                lambda loss: f"{loss.label}: {loss.formula}",
            ),
        ),
    ],
    pred: Annotated[
        str,
        typer.Option(
            "-p",
            "--pred",
            help=f"The prediction y, one row per sample: {_OPERAND_HELP}.",
            metavar="P",
            show_default=False,
        ),
    ],
    target: Annotated[
        str,
        typer.Option(
            "-t",
            "--target",
            help="The target t: one-hot rows (or probabilities) shaped like --pred, or one class "
            f"index per sample; {_OPERAND_HELP}.",
            metavar="T",
            show_default=False,
        ),
    ],
    delta: Annotated[
        float,
        typer.Option("--delta", help="cce's δ in -Σ t·log(y + δ), as in the course."),
    ] = DELTA,
    from_logits: Annotated[
        bool,
        typer.Option(
            "--from-logits",
            help="--pred holds raw scores: softmax (cce) or sigmoid (bce) is applied inside, "
            "stably (log-sum-exp, no δ).",
        ),
    ] = False,
    reduction: Annotated[
        str,
        typer.Option(
            "--reduction",
            help="How the per-sample losses are combined: mean (PyTorch's default), sum, none.",
            metavar="|".join(REDUCTIONS),
        ),
    ] = "mean",
    gradient: Annotated[
        bool,
        typer.Option(
            "-g",
            "--gradient",
            help="Print ∂L/∂y (same shape as --pred) instead; with --from-logits ∂L/∂z.",
        ),
    ] = False,
    plot: Annotated[
        str | None,
        typer.Option(
            "--plot",
            help="Draw the course's loss curve to this PNG, with your values marked.",
            metavar="PATH.png",
            show_default=False,
        ),
    ] = None,
    column: Column = None,
    key: Key = None,
    fmt: Format = None,
    output: Output = None,
    precision: Precision = 6,
    quiet: Quiet = False,
) -> None:
    r"""Compute a loss (sse, mse, mae, bce, cce) and show where its number comes from.

    Within a sample sse and cce sum over the outputs while mse, mae and bce average (Keras's
    convention); --reduction then combines the samples (rows). A one-column --pred is the course's
    column vector: one sample of n outputs (see --column).

    \b
    Examples:
      ya="0.01;0.03;0.7;0.1;0.01;0.01;0.01;0.02;0.1;0.01"   # the course's 10×1 ya
      nnkit loss sse --pred "$ya" --target 2                 # 0.0559
      nnkit loss cce --pred "$ya" --target 5                 # 4.60516
      nnkit loss cce --pred "$ya" --target "0;0;1;0;0;0;0;0;0;0"   # t2: 0.356675
      nnkit onehot 2 --classes 10 | nnkit loss sse --pred "$ya" --target -
      nnkit loss cce --pred "2,-1,0.5;0,3,-2" --target 0,2 --from-logits
    """
    env = environment(quiet)
    chosen = get_loss(kind)
    if pred.strip() == "-" and target.strip() == "-":
        raise NnkitInputError("only one of --pred and --target can be read from stdin (-)")
    y = load_operand(pred, "--pred", env, key)
    t = load_operand(target, "--target", env, key)
    pred_shape = y.shape
    if column_as_vector(y, env, column, "--pred", other=" each (the course's sums then need --reduction sum)"):
        # the course's ya: one sample of n outputs; a target column beside it is its one-hot t
        y = y[:, 0]
        if t.shape == pred_shape:
            t = t[:, 0]
    options = {"delta": delta, "from_logits": from_logits}
    pieces = chosen.pieces(y, t, **options)
    if gradient:
        result = chosen.grad(y, t, reduction=reduction, **options).reshape(pred_shape)
    else:
        result = chosen.fn(y, t, reduction=reduction, **options)
    if plot is not None:
        _plot(chosen, plot, y, t, options, env)
        env.note(f"nnkit: wrote {plot}")

    def render(console) -> None:
        _show(console, chosen, y, t, pieces, result, reduction, gradient, from_logits, precision)

    emit(result, env, fmt, output, precision, render=render)


#: What --from-logits computes (no δ: the log comes from log-sum-exp, never log(0)).
_LOGIT_FORMULAS = {
    "cce": "-Σ_k t_k·log softmax(z)_k",
    "bce": "-(1/k)·Σ_k [t_k·log σ(z_k) + (1 - t_k)·log(1 - σ(z_k))]",
}


def _rows(a: np.ndarray, width: int) -> np.ndarray:
    return np.asarray(a, dtype=float).reshape(-1, width)


def _show(console, loss, y, t, pieces, result, reduction, gradient, from_logits, precision) -> None:
    from rich.table import Table
    from rich.text import Text

    n, k = pieces.shape
    y2, t2 = loss.prepare(y, t, from_logits=from_logits)
    fmt = lambda v: format_number(v, precision)  # noqa: E731
    probs = None
    if from_logits and loss.probabilities:
        probs = softmax(y2, axis=-1) if loss.name == "cce" else sigmoid(y2)
    grad = _rows(result, k) if gradient else None

    formula = loss.formula
    if probs is not None:
        formula = _LOGIT_FORMULAS[loss.name]
    console.print(Text(f"{loss.label}: {formula}", style="bold"))
    table = Table(header_style="bold", show_footer=False)
    for header in ("sample", "output", "logit z" if from_logits else "y"):
        table.add_column(header, justify="right", overflow="fold")
    if probs is not None:
        table.add_column("softmax(z)" if loss.name == "cce" else "sigmoid(z)", justify="right", overflow="fold")
    table.add_column("t", justify="right", overflow="fold")
    table.add_column("contribution", justify="right", overflow="fold")
    wrt = "z" if from_logits else "y"
    if grad is not None:
        table.add_column(f"∂L/∂{wrt}", justify="right", overflow="fold")
    cells = [(i, j) for i in range(n) for j in range(k)]
    if len(cells) > _MAX_ROWS:
        half = _MAX_ROWS // 2
        cells = [*cells[:half], None, *cells[-half:]]
    width = 5 + (probs is not None) + (grad is not None)
    for cell in cells:
        if cell is None:
            table.add_row(*["…"] * width)
            continue
        i, j = cell
        row = [str(i), str(j), fmt(y2[i, j])]
        if probs is not None:
            row.append(fmt(probs[i, j]))
        contribution = pieces[i, j]
        shown = fmt(contribution)
        row += [fmt(t2[i, j]), f"[bold]{shown}[/]" if contribution else f"[dim]{shown}[/]"]
        if grad is not None:
            row.append(fmt(grad[i, j]))
        table.add_row(*row)
    console.print(table)
    _show_total(console, loss, pieces, result, reduction, wrt if gradient else None, fmt)


def _show_total(console, loss, pieces, result, reduction, gradient_of, fmt) -> None:
    """The lines under the table: the per-sample losses and the loss (or what the gradient is of)."""
    from rich.text import Text

    n, k = pieces.shape
    per_sample = pieces.sum(axis=1)
    if n > 1:
        losses_text = ", ".join(fmt(v) for v in per_sample[:10]) + (" …" if n > 10 else "")
        console.print(Text(f"per-sample losses (sum of each row's contributions): {losses_text}"))
    if gradient_of:
        console.print(Text(f"∂L/∂{gradient_of} with reduction {reduction} (shape {np.shape(result)})"))
        return
    if reduction == "none":
        more = " …" if n > 1 else ""
        console.print(Text(f"{loss.name} per sample = {fmt(per_sample[0])}{more}", style="bold"))
        return
    how = "the sum of the contributions" if n == 1 else f"{reduction} over {n} samples"
    console.print(Text(f"{loss.name} = {fmt(result)}  ({how})", style="bold"))
    if k == 1 and n > 1 and reduction == "mean" and loss.within_sample == "sum":
        # --column samples: the course's 10×1 column read as 10 samples of one output
        console.print(
            Text(
                f"the column is read as {n} samples here (--column samples); as one column vector, "
                f"the course's {loss.name} is their sum: {fmt(per_sample.sum())} (without --column samples)"
            )
        )


def _plot(loss, path, y, t, options, env) -> None:
    from nnkit.plots.curves import plot_curves

    y2, t2 = loss.prepare(y, t, from_logits=options["from_logits"])
    delta = options["delta"]
    if loss.probabilities:
        p = y2
        if options["from_logits"]:
            p = softmax(y2, axis=-1) if loss.name == "cce" else sigmoid(y2)
        grid = np.linspace(0.0, 1.0, 501)[1:]
        if loss.name == "cce":
            if delta > 0:  # the course's figure starts at 0, where -log(0 + δ) is finite
                grid = np.linspace(0.0, 1.0, 501)
            curves = [("-log(y + δ)", loss.curve(grid, delta=delta))]
            marked = t2 > 0
            points = (p[marked], loss.curve(p[marked], delta=delta))
            xlabel = "output of softmax function"
        else:
            grid = grid[:-1]
            curves = [
                ("t = 1: -log(y)", loss.curve(grid, target=1.0)),
                ("t = 0: -log(1 - y)", loss.curve(grid, target=0.0)),
            ]
            points = (p, loss.curve(p, target=t2))
            xlabel = "predicted probability y"
    else:
        with np.errstate(over="ignore"):
            d = (y2 - t2).ravel()
        # wide enough for the user's differences, narrow enough that the curve stays finite
        low, high = np.clip([min(-1.0, float(d.min())), max(1.0, float(d.max()))], -1e100, 1e100)
        grid = np.linspace(low, high, 501)
        curves = [(f"{loss.name} of one output", loss.curve(grid))]
        points = (d, loss.curve(d))
        xlabel = "predict - true"
    plot_curves(
        path,
        grid,
        curves,
        title=loss.label,
        xlabel=xlabel,
        ylabel="loss",
        points=points,
        points_label="your values",
        env=env,
    )
