"""``nnkit optimize``: the course's optimizers (2-8) racing down a function of two variables."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import typer

from nnkit.cli.common import Precision, Quiet, ReportFormat, ReportOutput, environment, plot_option
from nnkit.course.optimizer_race import SURFACES, descend, get_surface, parse_point
from nnkit.errors import NnkitInputError, unknown_name
from nnkit.nn.optimizers import OPTIMIZERS, check_learning_rate
from nnkit.term.output import OutputPlan, check_report_target, emit_report, format_number

DEFAULT_TOL = 0.01
_SETTINGS_HELP = "; ".join(
    f"{s.name}: " + ", ".join(f"{name} {lr:g}×{steps}" for name, (lr, steps) in s.settings.items())
    for s in SURFACES.values()
)


_STARTS_HELP = "; ".join(f"{s.name} {s.start[0]:g},{s.start[1]:g}" for s in SURFACES.values())


def within_tol_text(touched: int | None, stayed: int | None) -> str:
    """The table's words for when a path got within the tolerance, and whether it stayed there.

    Examples
    --------
    >>> within_tol_text(24, None)
    'touched 24, ended above'
    >>> within_tol_text(24, 31)
    'touched 24, stays from 31'
    >>> within_tol_text(5, 5), within_tol_text(None, None)
    ('stays from 5', 'not reached')
    """
    if touched is None:
        return "not reached"
    if stayed is None:
        return f"touched {touched}, ended above"
    if stayed == touched:
        return f"stays from {touched}"
    return f"touched {touched}, stays from {stayed}"


def parse_optimizers(values: list[str]) -> list[str]:
    """``["sgd,adam", "rmsprop"]`` → ``["sgd", "adam", "rmsprop"]``: names of the optimizer registry, none twice.

    Examples
    --------
    >>> parse_optimizers(["sgd,adam", "rmsprop"])
    ['sgd', 'adam', 'rmsprop']
    """
    names = [name.strip().lower() for value in values for name in value.split(",") if name.strip()]
    for name in names:
        if name not in OPTIMIZERS:
            raise unknown_name("optimizer", name, OPTIMIZERS)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise NnkitInputError(f"--optimizer {', '.join(repeated)} is given twice")
    return names


def optimize(
    function: Annotated[
        str,
        typer.Option("--function", help=f"The function to minimise: {', '.join(SURFACES)}."),
    ] = "bowl",
    optimizer: Annotated[
        list[str] | None,
        typer.Option(
            "--optimizer",
            help=f"Optimizers to race, repeated or comma-separated: {', '.join(OPTIMIZERS)} "
            "(default: the course's five, sgd, momentum, adagrad, rmsprop, adam).",
            show_default=False,
        ),
    ] = None,
    lr: Annotated[
        float | None,
        typer.Option("--lr", help=f"One learning rate for all (default per function and optimizer, "
                     f"lr×steps: {_SETTINGS_HELP}).", show_default=False),
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option("--steps", help="Steps for every optimizer (default: per function, as above).",
                     show_default=False),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--start", help=f"The starting point X,Y (default: {_STARTS_HELP}).",
                     metavar="X,Y", show_default=False),
    ] = None,
    tol: Annotated[
        float,
        typer.Option("--tol", help="Count the steps until f − f_min ≤ TOL."),
    ] = DEFAULT_TOL,
    plot: plot_option("Draw the contours with every path, and f − f_min per step") = None,
    fmt: ReportFormat = None,
    output: ReportOutput = None,
    precision: Precision = 6,
    quiet: Quiet = False,
) -> None:
    r"""Race the course's optimizers (SGD, momentum, AdaGrad, RMSprop, Adam) down a function of x and y.

    The engine's own optimizer classes (torch.optim's update rules and defaults) each walk from the
    same start; the table gives each one's final point, value and the steps it needed to get within
    --tol of the minimum.

    \b
    Examples:
      nnkit optimize --plot race.png                 # x²/20 + y² from (-7, 2)
      nnkit optimize --function rosenbrock --plot banana.png
      nnkit optimize --function styblinski-tang   # SGD stops in a local minimum
      nnkit optimize --optimizer sgd,momentum --lr 0.05 --steps 100 -f json
      nnkit optimize -o race.csv      # one line per point and step
    """
    env = environment(quiet)
    surface = get_surface(function)
    names = parse_optimizers(optimizer) if optimizer else list(surface.settings)
    if lr is not None:
        check_learning_rate(lr)
    if steps is not None and not 0 <= steps <= 1_000_000:
        raise NnkitInputError(f"--steps must be between 0 and 1000000, got {steps}")
    if not (np.isfinite(tol) and tol > 0):
        raise NnkitInputError(f"--tol must be a positive number, got {tol}")
    if plot is not None and not plot.lower().endswith(".png"):
        raise NnkitInputError(f"--plot writes a PNG; {plot} does not end in .png")
    point = surface.start if start is None else parse_point(start)
    plan = OutputPlan(env)
    check_report_target(output, plan)
    if plot is not None:
        plan.add(plot, "--plot", ".png")
    paths = [descend(surface, name, point, lr=lr, steps=steps) for name in names]
    if plot is not None:
        from nnkit.plots.optimizer_race import write_optimize_plot

        write_optimize_plot(plot, surface, paths, point, tol, env)
        env.note(f"nnkit: wrote {plot}")
    for path in paths:
        if path.diverged:
            env.note(f"nnkit: {path.optimizer} diverged after {path.steps} step(s) with lr {path.lr:g}: lower --lr")
    report = {
        "function": surface.name,
        "formula": surface.formula,
        "minimum": list(surface.minimum),
        "f_min": surface.f_min,
        "start": list(point),
        "tol": tol,
        "paths": [
            {
                "optimizer": path.optimizer,
                "lr": path.lr,
                "steps": path.steps,
                "diverged": path.diverged,
                "final": path.points[-1].tolist(),
                "value": float(path.values[-1]),
                "distance": float(np.hypot(*(path.points[-1] - surface.minimum))),
                "steps_to_tol": path.steps_to(surface.f_min, tol),
                "below_tol_from": path.stays_from(surface.f_min, tol),
                "ends_in": surface.basin(path.points[-1]),
                "points": path.points.tolist(),
                "values": path.values.tolist(),
            }
            for path in paths
        ],
    }
    header = ["optimizer", "step", "x", "y", "f"]
    rows = [[path.optimizer, k, x, y, value]
            for path in paths
            for k, ((x, y), value) in enumerate(zip(path.points.tolist(), path.values.tolist(), strict=True))]
    emit_report(report, env, fmt, output, (header, rows), render=lambda console: _show(console, report, precision))


def _show(console, report: dict, precision: int) -> None:
    from rich.table import Table
    from rich.text import Text

    from nnkit.nn.optimizers import OPTIMIZERS

    num = lambda v: format_number(v, precision)  # noqa: E731
    x0, y0 = report["start"]
    mx, my = report["minimum"]
    console.print(
        Text(
            f"f(x, y) = {report['formula']} from ({num(x0)}, {num(y0)}); minimum f({num(mx)}, {num(my)}) = "
            f"{num(report['f_min'])}",
            style="bold",
        )
    )
    table = Table(header_style="bold")
    columns = ["optimizer", "lr", "steps", "final x", "final y", "f", "distance to min", "within tol (step)"]
    several_minima = any(path["ends_in"] != "global" for path in report["paths"])
    if several_minima:
        columns.append("ends in")
    for column in columns:
        table.add_column(column, justify="left" if column in ("optimizer", "ends in") else "right")
    for path in report["paths"]:
        row = [
            path["optimizer"],
            num(path["lr"]),
            str(path["steps"]) + (" (diverged)" if path["diverged"] else ""),
            num(path["final"][0]),
            num(path["final"][1]),
            num(path["value"]),
            num(path["distance"]),
            within_tol_text(path["steps_to_tol"], path["below_tol_from"]),
        ]
        table.add_row(*row, *([path["ends_in"]] if several_minima else []))
    console.print(table)
    console.print(Text(f"within tol: the steps after which f − f_min ≤ {report['tol']:g} (--tol); \"touched\": the "
                       "path rose above it again, \"stays\": below it to the end"))
    if several_minima:
        console.print(Text("ends in: the minimum nearest the final point; a local minimum (極小値) is a valley "
                           "the gradient alone cannot climb out of"))
    for path in report["paths"]:
        console.print(Text(f"  {path['optimizer']:<9} {OPTIMIZERS[path['optimizer']].description}"))
