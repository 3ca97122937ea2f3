"""``nnkit backprop``: one training step written out — forward, loss, 逆伝播 (backward), update."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import typer

from nnkit.cli.common import (
    Input,
    Precision,
    Quiet,
    ReportFormat,
    ReportOutput,
    Seed,
    environment,
    hidden_option,
    parse_hidden,
)
from nnkit.cli.completion import complete_names
from nnkit.course.logic_gates import XOR_ACTIVATION, XOR_OPTIMIZER
from nnkit.errors import NnkitInputError
from nnkit.nn.optimizers import OPTIMIZERS
from nnkit.term.output import OutputPlan, check_report_target, emit_report, format_number, resolve_format

#: Samples up to which a gradient is written as its sum of products with every number.
_SPELLED_OUT = 4
#: Rows of the loss-per-step table when --steps is large.
_LOSS_ROWS = 12


def backprop(
    gate: Annotated[
        Literal["xor", "xnor", "and", "or", "nand", "nor"],
        typer.Option("--gate", help="Learn this logic gate's four rows (the course's 2-3); ignored with --input."),
    ] = "xor",
    input: Input = None,
    hidden: hidden_option("2") = "2",
    activation: Annotated[
        Literal["sigmoid", "tanh", "relu"], typer.Option("-a", "--activation", help="Hidden activation.")
    ] = XOR_ACTIVATION,
    optimizer: Annotated[
        str,
        typer.Option("--optimizer", help=f"Optimizer that makes the update: {', '.join(OPTIMIZERS)}.",
                     autocompletion=complete_names(OPTIMIZERS)),
    ] = XOR_OPTIMIZER,
    lr: Annotated[
        float | None,
        typer.Option("--lr", help="Learning rate (default: train-xor's for a gate, the optimizer's own for --input).",
                     show_default=False),
    ] = None,
    steps: Annotated[
        int, typer.Option("--steps", help="Training steps (1 to 100000); the first is written out, "
                          "then the loss of every step.")
    ] = 1,
    seed: Seed = 0,
    fmt: ReportFormat = None,
    output: ReportOutput = None,
    precision: Precision = 4,
    quiet: Quiet = False,
) -> None:
    r"""One training step of a small network, number by number: 順伝播, loss, 逆伝播 (backpropagation), update.

    The course's 2-2: forward (each layer's z = h·W + b and h = a(z)), the loss, backward (each
    layer's δ = ∂L/∂z by the chain rule, and each weight's gradient as the sum over the samples of
    input × δ), then the optimizer's update. Every gradient is shown beside its float64 central
    difference. The network starts where train-xor starts with the same --seed.

    --input takes a table whose last column is the target: 0/1 (one sigmoid output, binary
    cross-entropy) or class numbers 0..K-1 (K softmax outputs, cross-entropy).

    \b
    Examples:
      nnkit backprop                        # XOR, 2-2-1, one SGD step
      nnkit backprop --steps 2000           # ... and the loss falling
      nnkit backprop --optimizer adam --steps 3 -f json
      nnkit backprop -i rows.csv --hidden 3 --activation tanh
    """
    from nnkit.course.backprop import train_steps

    env = environment(quiet)
    resolve_format(fmt, env, report=True)
    if optimizer not in OPTIMIZERS:
        raise NnkitInputError(f"unknown optimizer {optimizer!r}", hint=f"choose one of: {', '.join(OPTIMIZERS)}")
    if not 1 <= steps <= 100_000:
        raise NnkitInputError(f"--steps must be between 1 and 100000, got {steps}")
    if lr is not None and not (np.isfinite(lr) and lr > 0):
        raise NnkitInputError(f"--lr must be a positive number, got {lr}")
    sizes = parse_hidden(hidden)
    if any(size > 64 for size in sizes) or len(sizes) > 4:
        raise NnkitInputError(f"--hidden {hidden}: backprop writes out every number; use at most 4 layers of "
                              "at most 64 units")
    check_report_target(output, OutputPlan(env, inputs=[input]))
    x, t, output_kind, source = _data(env, gate, input)
    weights = _start(x, t, output_kind, sizes, activation, seed, gate if input is None else None)
    if lr is None:
        from nnkit.course.logic_gates import xor_lr

        lr = xor_lr(optimizer, activation if sizes else "sigmoid") if input is None else OPTIMIZERS[optimizer].DEFAULT_LR
    activations = [activation] * len(sizes)
    run = train_steps(weights, activations, output_kind, x, t, optimizer, lr, steps)
    report = _report(run, x, t, sizes, activations, output_kind, source, optimizer, lr, steps)
    table = (["after_steps", "loss"], [[step, loss] for step, loss in enumerate(report["losses"])])
    emit_report(report, env, fmt, output, table, render=lambda console: _show(console, report, precision))


def _data(env, gate: str, path: str | None):
    """``(x, t, output, source)``: the gate's four rows, or a table whose last column is the target."""
    if path is None:
        from nnkit.course.logic_gates import truth_table

        x, t = truth_table(gate)
        return x, t, "sigmoid", gate
    from nnkit.files.arrays import load_array

    table = np.asarray(load_array(None, env, path), dtype=np.float64)
    if table.ndim != 2 or table.shape[1] < 2 or len(table) < 1:
        raise NnkitInputError(f"--input needs rows of features with the target last (2 columns or more), "
                              f"got shape {table.shape}")
    if len(table) > 1000:
        raise NnkitInputError(f"--input has {len(table)} rows; backprop writes out every number, use at most 1000")
    if not np.isfinite(table).all():
        raise NnkitInputError("--input holds nan or inf")
    x, t = table[:, :-1], table[:, -1]
    if np.isin(t, (0.0, 1.0)).all():
        return x, t.astype(np.int64), "sigmoid", path
    if (t >= 0).all() and (t == np.round(t)).all() and t.max() <= 100:
        return x, t.astype(np.int64), "softmax", path
    raise NnkitInputError("--input's last column is the target: 0/1, or class numbers 0..K-1 (at most 100)")


def _start(x, t, output_kind, sizes, activation, seed, gate):
    """The starting weights: train-xor's for a gate with at most one hidden layer, else build_mlp's."""
    if gate is not None and len(sizes) <= 1:
        from nnkit.course.logic_gates import gate_network

        network = gate_network(sizes[0] if sizes else None, activation, np.random.default_rng(seed))
    else:
        from nnkit.nn.stack import build_mlp

        n_out = 1 if output_kind == "sigmoid" else max(int(t.max()) + 1, 2)
        network = build_mlp(x.shape[1], sizes, n_out, activation, output_kind, dtype=np.float64, rng=seed)
    return [(layer.W, layer.b) for layer in network.dense_layers]


def unit_names(sizes: list[int]) -> list[list[str]]:
    """Names of every layer's units: inputs ``x1…``, hidden ``h1…`` (``h2.1…`` with several), outputs ``y…``.

    Examples
    --------
    >>> unit_names([2, 2, 1])
    [['x1', 'x2'], ['h1', 'h2'], ['y']]
    >>> unit_names([2, 3, 2, 3])
    [['x1', 'x2'], ['h1.1', 'h1.2', 'h1.3'], ['h2.1', 'h2.2'], ['y1', 'y2', 'y3']]
    """
    names = [[f"x{i + 1}" for i in range(sizes[0])]]
    hidden = sizes[1:-1]
    for layer, size in enumerate(hidden):
        prefix = "h" if len(hidden) == 1 else f"h{layer + 1}."
        names.append([f"{prefix}{j + 1}" for j in range(size)])
    names.append(["y"] if sizes[-1] == 1 else [f"y{k + 1}" for k in range(sizes[-1])])
    return names


def _report(run, x, t, sizes, activations, output_kind, source, optimizer, lr, steps) -> dict:
    first = run["first"]
    all_sizes = [x.shape[1], *sizes, first["y"].shape[1]]
    names = unit_names(all_sizes)
    layers = []
    for k, ((W, b), (W_after, b_after), (dW, db)) in enumerate(zip(first["before"], first["after"], first["grads"],
                                                                    strict=True)):
        numerical = first["numerical"][k] if first["numerical"] is not None else (None, None)
        is_output = k == len(sizes)
        layers.append({
            "layer": k + 1,
            "inputs": names[k],
            "units": names[k + 1],
            "activation": output_kind if is_output else activations[k],
            "z": first["zs"][k].tolist(),
            "h": (first["y"] if is_output else first["hs"][k + 1]).tolist(),
            "dL_dh": first["dL_dh"][k].tolist(),
            "derivative": None if first["derivative"][k] is None else first["derivative"][k].tolist(),
            "delta": first["delta"][k].tolist(),
            "W": W.tolist(), "b": b.tolist(),
            "dW": dW.tolist(), "db": db.tolist(),
            "numerical_dW": None if numerical[0] is None else numerical[0].tolist(),
            "numerical_db": None if numerical[1] is None else numerical[1].tolist(),
            "W_after": W_after.tolist(), "b_after": b_after.tolist(),
        })
    return {
        "network": {"sizes": all_sizes, "activations": activations, "output": output_kind,
                    "loss": "binary cross-entropy" if output_kind == "sigmoid" else "cross-entropy"},
        "data": source,
        "x": x.tolist(),
        "t": np.asarray(t).tolist(),
        "optimizer": optimizer,
        "lr": lr,
        "rule": OPTIMIZERS[optimizer].description,
        "loss": first["loss"],
        "layers": layers,
        "steps": steps,
        "losses": run["losses"],
    }


# --- the table --------------------------------------------------------------------------------------


def _show(console, report: dict, precision: int) -> None:
    from rich.text import Text

    num = lambda v: format_number(v, precision)  # noqa: E731
    network = report["network"]
    console.print(Text(
        f"One training step of a {'-'.join(map(str, network['sizes']))} network on {report['data']} "
        f"({len(report['x'])} samples): hidden {', '.join(network['activations']) or 'none'}, output "
        f"{network['output']} with {network['loss']}; {report['optimizer']} lr {report['lr']:g}", style="bold"))
    _show_forward(console, report, num)
    console.print(Text(f"2. loss ({network['loss']}, mean over the samples): L = {num(report['loss'])}", style="bold"))
    _show_backward(console, report, num)
    _show_gradients(console, report, num)
    _show_losses(console, report, num)


def _show_forward(console, report: dict, num) -> None:
    """1. 順伝播, one table per layer (a wide network stays readable)."""
    layers = report["layers"]
    for layer in layers:
        is_first, is_output = layer is layers[0], layer is layers[-1]
        k = layer["layer"]
        table = _titled(console, f"1. 順伝播 forward, layer {k}: z = {'x' if is_first else 'h'}·W{k} + b{k}, "
                                 f"{'y' if is_output else 'h'} = {layer['activation']}(z)")
        columns = ["sample", *(layer["inputs"] if is_first else []), *(f"z({u})" for u in layer["units"]),
                   *layer["units"], *(["t"] if is_output else [])]
        for column in columns:
            table.add_column(column, justify="right")
        for i in range(len(report["x"])):
            table.add_row(str(i + 1), *(num(v) for v in (report["x"][i] if is_first else [])),
                          *(num(v) for v in layer["z"][i]), *(num(v) for v in layer["h"][i]),
                          *([str(report["t"][i])] if is_output else []))
        console.print(table)


def _show_backward(console, report: dict, num) -> None:
    """3. 逆伝播, from the output back: ∂L/∂h, the activation's derivative and δ of every unit."""
    from rich.text import Text

    layers = report["layers"]
    for layer in reversed(layers):
        is_output = layer is layers[-1]
        table = _titled(console, f"3. 逆伝播 backward, layer {layer['layer']} ({'output' if is_output else 'hidden'}): "
                        + ("δ = ∂L/∂z = ∂L/∂y · ∂y/∂z" if is_output else "∂L/∂h = Σ δ_next·w, δ = ∂L/∂h · a'(z)"))
        table.add_column("sample", justify="right")
        derivative = layer["derivative"]
        for unit in layer["units"]:
            table.add_column(f"∂L/∂{unit}", justify="right")
            if derivative is not None:
                table.add_column(f"a'(z({unit}))" if not is_output else f"∂{unit}/∂z", justify="right")
            table.add_column(f"δ({unit})", justify="right")
        for i in range(len(report["x"])):
            cells = [str(i + 1)]
            for j in range(len(layer["units"])):
                cells += [num(layer["dL_dh"][i][j]), *([num(derivative[i][j])] if derivative is not None else []),
                          num(layer["delta"][i][j])]
            table.add_row(*cells)
        console.print(table)
        if is_output and report["network"]["output"] == "softmax":
            console.print(Text("softmax with cross-entropy: δ = (y − t)/N directly (the softmax's Jacobian and "
                               "∂L/∂y multiply to that)"))


def _show_gradients(console, report: dict, num) -> None:
    """4. every weight's gradient as the sum over samples of input × δ, and 5. 更新: before and after."""
    table = _titled(console, f"4. gradients ∂L/∂w = Σ over samples of input × δ, and 5. 更新 update "
                             f"({report['optimizer']}: {report['rule']})")
    for column in ("weight", "Σ input × δ", "∂L/∂w", "central difference", "before", "after"):
        table.add_column(column, justify="left" if column in ("weight", "Σ input × δ") else "right")
    layers = report["layers"]
    inputs_of = [report["x"]] + [layer["h"] for layer in layers[:-1]]
    for k, layer in enumerate(layers):
        h_prev, delta = np.array(inputs_of[k]), np.array(layer["delta"])
        numerical_W, numerical_b = layer["numerical_dW"], layer["numerical_db"]
        for i, source in enumerate(layer["inputs"]):
            for j, unit in enumerate(layer["units"]):
                table.add_row(f"W{k + 1} {source}→{unit}", _sum_text(h_prev[:, i], delta[:, j], num),
                              num(layer["dW"][i][j]), "—" if numerical_W is None else num(numerical_W[i][j]),
                              num(layer["W"][i][j]), num(layer["W_after"][i][j]))
        for j, unit in enumerate(layer["units"]):
            table.add_row(f"b{k + 1} →{unit}", _sum_text(None, delta[:, j], num), num(layer["db"][j]),
                          "—" if numerical_b is None else num(numerical_b[j]), num(layer["b"][j]),
                          num(layer["b_after"][j]))
    console.print(table)


def _show_losses(console, report: dict, num) -> None:
    """The loss after every step (a dozen of them for a long run), then before and after."""
    from rich.text import Text

    losses = report["losses"]
    if report["steps"] > 1:
        table = _titled(console, f"the loss over {report['steps']} steps")
        table.add_column("after step", justify="right")
        table.add_column("L", justify="right")
        for step in sorted({round(s) for s in np.linspace(0, len(losses) - 1, _LOSS_ROWS)}):
            table.add_row(str(step), num(losses[step]))
        console.print(table)
    console.print(Text(f"L = {num(losses[0])} before, {num(losses[-1])} after {report['steps']} step(s)"))


def _titled(console, title: str):
    """A table whose title is printed above it as a line of its own (a narrow table would wrap it)."""
    from rich.table import Table
    from rich.text import Text

    console.print(Text(title, style="bold"))
    return Table(header_style="bold")


def _sum_text(inputs, delta, num) -> str:
    """``0·(−0.01) + 1·(0.02) + …`` for a few samples, ``Σ over N samples`` for more."""
    if len(delta) > _SPELLED_OUT:
        return f"Σ over {len(delta)} samples"
    if inputs is None:
        return " + ".join(f"({num(d)})" for d in delta)
    return " + ".join(f"{num(v)}·({num(d)})" for v, d in zip(inputs, delta, strict=True))
