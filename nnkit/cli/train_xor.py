"""``nnkit train-xor``: train a small network on a logic gate and read its hidden units as gates."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import typer

from nnkit.cli.common import (
    Precision,
    Progress,
    Quiet,
    ReportFormat,
    ReportOutput,
    Seed,
    environment,
    hidden_option,
    old_spelling,
    parse_hidden,
    plot_option,
    renamed,
)
from nnkit.cli.completion import complete_names
from nnkit.course.logic_gates import (
    INPUTS,
    ONES_GATES,
    WIRED,
    XOR_ACTIVATION,
    XOR_EPOCHS,
    XOR_LR,
    XOR_LR_SCALE,
    XOR_OPTIMIZER,
    gate_expression,
    gate_name,
    hidden_bits,
    hidden_outputs,
    is_linearly_separable,
    ones_forward,
    ones_gate,
    output_as_gate_of_hidden,
    train_gate,
    truth_table,
    wired_forward,
    xor_lr,
)
from nnkit.errors import ExitStatus, NnkitInputError, unknown_name
from nnkit.nn.optimizers import OPTIMIZERS
from nnkit.term.limits import check_epochs, require_memory
from nnkit.term.output import OutputPlan, check_report_target, emit_report, format_number, resolve_format

_LR_HELP = ", ".join(f"{name} {lr:g}" for name, lr in XOR_LR.items()) + "".join(
    f"; ×{scale:g} for {activation}" for activation, scale in XOR_LR_SCALE.items()
)


def train_xor(
    gate: Annotated[
        Literal["xor", "xnor", "and", "or", "nand", "nor"],
        typer.Option("--gate", help="The logic gate to learn."),
    ] = "xor",
    hidden: hidden_option("2; one hidden layer here, 'none' shows that XOR is not linearly separable") = None,
    no_hidden: old_spelling("--no-hidden", flag=True) = False,
    activation: Annotated[
        Literal["sigmoid", "tanh", "relu"], typer.Option("-a", "--activation", help="Hidden activation.")
    ] = XOR_ACTIVATION,
    optimizer: Annotated[
        str,
        typer.Option(
            "--optimizer", help=f"Optimizer: {', '.join(OPTIMIZERS)}.", autocompletion=complete_names(OPTIMIZERS)
        ),
    ] = XOR_OPTIMIZER,
    lr: Annotated[
        float | None,
        typer.Option("--lr", help=f"Learning rate (default per optimizer: {_LR_HELP}).", show_default=False),
    ] = None,
    epochs: Annotated[
        int, typer.Option("--epochs", help="Training steps, each on all four rows (full batch).")
    ] = XOR_EPOCHS,
    seed: Seed = 0,
    wired: Annotated[
        bool,
        typer.Option("--wired", help="Show the course's hand-built NAND/OR → AND networks instead of training "
                     "(Saitoh's weights, and the course's gates with every weight 1)."),
    ] = False,
    plot: plot_option("Draw the four points and the decision regions, and where the hidden layer (中間層) "
                      "puts them") = None,
    save: Annotated[
        str | None, typer.Option("--save", help="Write the trained model (.npz).", metavar="MODEL.npz")
    ] = None,
    progress: Progress = None,
    fmt: ReportFormat = None,
    output: ReportOutput = None,
    precision: Precision = 6,
    quiet: Quiet = False,
) -> None:
    r"""Train a 2-H-1 network on a logic gate; show its truth table, weights and hidden units as gates.

    XOR needs the hidden layer: its units learn gates such as NAND and OR that the output combines
    with AND, as in the course.

    \b
    Examples:
      nnkit train-xor                         # XOR: 4/4 with 2 hidden units
      nnkit train-xor --hidden none           # one layer: XOR is not separable
      nnkit train-xor --gate nand --hidden none   # NAND: linearly separable
      nnkit train-xor --wired                 # the course's NAND, OR → AND
      nnkit train-xor --plot xor.png -f json
    """
    from nnkit.term.progress import EpochProgress

    env = environment(quiet)
    resolve_format(fmt, env, report=True)
    hidden = _hidden_units(env, hidden, no_hidden)
    check_epochs(epochs)
    if hidden is not None:
        # Weights, gradients and optimiser state of the 2-H-1 network (float64, ~8 copies of its
        # 4H+1 parameters) and the four rows' activations: refused before allocating.
        require_memory((4 * hidden + 1) * 8 * 8 + 4 * hidden * 8 * 6, f"--hidden {hidden}")
    if optimizer not in OPTIMIZERS:
        raise unknown_name("optimizer", optimizer, OPTIMIZERS)
    if wired and save is not None:
        raise NnkitInputError("--save applies to a trained network, not to --wired")
    # Both targets checked before training, so the model is never written with the plot failing.
    plan = OutputPlan(env)
    check_report_target(output, plan)
    if save is not None:
        plan.add(save, "--save", ".npz")
    if plot is not None:
        plan.add(plot, "--plot", ".png")

    if wired:
        report = _wired_report()
        if plot is not None:
            _plot_wired(plot, env)
        _print(env, fmt, output, report, precision, _show_wired)
        return

    shown = EpochProgress(env, epochs, description=f"train-xor {gate}", mode=progress)
    with shown:
        network, history = train_gate(
            gate,
            hidden=hidden,
            activation=activation,
            optimizer=optimizer,
            lr=lr,
            epochs=epochs,
            seed=seed,
            on_epoch=shown.update,
        )
    report = _report(network, history, gate, activation, optimizer, lr, seed)
    if save is not None:
        from nnkit.files.model_file import save_model

        meta = {
            "task": "classification",
            "classes": [0, 1],
            # The gates take x1, x2 as they are: standardising with mean 0 and std 1 is the identity,
            # spelled in the form nnkit predict reads.
            "preprocessing": {
                "kind": "standardize", "mean": [0.0, 0.0], "std": [1.0, 1.0], "feature_names": ["x1", "x2"]
            },
            "gate": gate,
            "epochs_run": len(history),
            "options": report["options"],
        }
        save_model(save, network, meta, env)
        env.note(f"nnkit: wrote {save}")
    if plot is not None:
        _plot_trained(plot, network, gate, report, env)
    _print(env, fmt, output, report, precision, _show_trained)
    if history.interrupted:
        raise typer.Exit(ExitStatus.INTERRUPTED)


def _hidden_units(env, hidden: str | None, no_hidden: bool) -> int | None:
    """``--hidden 2`` → 2, ``--hidden none`` → None (one layer); the old ``--no-hidden`` with a note."""
    if no_hidden:
        hidden = renamed(env, "--no-hidden", "--hidden none", "none", hidden)
    sizes = parse_hidden("2" if hidden is None else hidden)
    if len(sizes) > 1:
        raise NnkitInputError(f"train-xor's network has one hidden layer; --hidden {hidden} asks for {len(sizes)}",
                              hint="give one size (--hidden 2) or none; nnkit train-mlp takes several")
    return sizes[0] if sizes else None


# --- the report ---------------------------------------------------------------------------------


def _report(network, history, gate, activation, optimizer, lr, seed) -> dict:
    x, t = truth_table(gate)
    p = network.predict_proba(x)[:, 0]
    prediction = (p >= 0.5).astype(int)
    has_hidden = len(network.dense_layers) == 2
    bits = hidden_bits(network).T if has_hidden else np.empty((0, 4), dtype=int)
    dense = network.dense_layers
    final_loss = network.loss(x, t) if history else None
    return {
        "gate": gate,
        "accuracy": float(np.mean(prediction == t)),
        "final_loss": final_loss,
        "epochs": len(history),
        "truth_table": [
            {"x1": int(a), "x2": int(b), "target": int(target), "output": float(out), "prediction": int(pred)}
            for (a, b), target, out, pred in zip(x, t, p, prediction, strict=True)
        ],
        "hidden_gates": [gate_name(row) for row in bits],
        "hidden_truth_tables": [row.tolist() for row in bits],
        "output_gate": output_as_gate_of_hidden(network) if has_hidden else None,
        # the four points as the hidden layer (中間層) sees them: the hidden units' outputs per row
        "hidden_space": hidden_outputs(network, x).tolist() if has_hidden else None,
        "linearly_separable": is_linearly_separable(gate),
        "weights": {
            name: array.tolist()
            for i, layer in enumerate(dense)
            for name, array in ((f"W{i}", layer.W), (f"b{i}", layer.b))
        },
        "network": {"sizes": network.sizes, "activations": network.activations, "output": network.output},
        "options": {
            "hidden": network.sizes[1] if has_hidden else None,
            "activation": activation if has_hidden else None,
            "optimizer": optimizer,
            "lr": xor_lr(optimizer, activation if has_hidden else "sigmoid") if lr is None else lr,
            "epochs": history[-1]["epoch"] if history else 0,
            "seed": seed,
        },
        "interrupted": history.interrupted,
    }


def _wired_report() -> dict:
    s, y = wired_forward(INPUTS)
    ones_s, ones_y = ones_forward(INPUTS)
    _, t = truth_table("xor")
    return {
        "gate": "xor",
        "wired": True,
        "accuracy": float(np.mean(y == t)),
        "truth_table": [
            {"x1": int(a), "x2": int(b), "s1": int(s1), "s2": int(s2), "target": int(target), "prediction": int(out)}
            for (a, b), (s1, s2), target, out in zip(INPUTS, s, t, y, strict=True)
        ],
        "hidden_gates": [gate_name(column) for column in s.T],
        "output_gate": gate_expression([0, 0, 0, 1], "s1", "s2"),
        "weights": {name: array.tolist() for name, array in zip(("W0", "b0", "W1", "b1"), WIRED.values(), strict=True)},
        # the course's own gates, every weight 1: the same s1, s2 and y from sums and thresholds
        "ones_gates": {
            name: {"inputs": n, "weights": [1.0] * n, "threshold": threshold, "fires_when_sum_is": side,
                   "truth_table": (ones_gate(name, INPUTS[:, 0], INPUTS[:, 1]) if n == 2
                                   else ones_gate(name, np.array([0.0, 1.0]))).astype(int).tolist()}
            for name, (n, threshold, side) in ONES_GATES.items()
        },
        "ones_network": {"s1": ones_s[:, 0].astype(int).tolist(), "s2": ones_s[:, 1].astype(int).tolist(),
                         "y": ones_y.astype(int).tolist()},
    }


def _print(env, fmt, output, report: dict, precision: int, show) -> None:
    header = list(report["truth_table"][0])
    rows = [[row[key] for key in header] for row in report["truth_table"]]
    emit_report(report, env, fmt, output, (header, rows), render=lambda console: show(console, report, precision))


# --- terminal display -------------------------------------------------------------------------


def _show_trained(console, report: dict, precision: int) -> None:
    """The trained network: its truth table and verdict, its weights, and its hidden units as gates."""
    _show_truth_table(console, report, precision)
    hidden_names = _show_weights(console, report["weights"], precision)
    if hidden_names:
        _show_hidden_gates(console, report, hidden_names)


def _show_truth_table(console, report: dict, precision: int) -> None:
    from rich.table import Table
    from rich.text import Text

    gate = report["gate"].upper()
    sizes = report["network"]["sizes"]
    options = report["options"]
    hidden_text = f"{options['activation']} hidden, " if options["hidden"] else "no hidden layer, "
    console.print(
        Text(
            f"{gate} by a {'-'.join(map(str, sizes))} network ({hidden_text}{options['optimizer']} "
            f"lr {options['lr']:g}, {report['epochs']} epochs, seed {options['seed']})",
            style="bold",
        )
    )
    table = Table(title="truth table", header_style="bold")
    for column in ("x1", "x2", "target", "output", "prediction", ""):
        table.add_column(column, justify="right")
    for row in report["truth_table"]:
        right = row["prediction"] == row["target"]
        table.add_row(
            str(row["x1"]), str(row["x2"]), str(row["target"]), format_number(row["output"], precision),
            str(row["prediction"]), Text("✓", style="green") if right else Text("✗", style="bold red"),
        )
    console.print(table)
    correct = round(report["accuracy"] * 4)
    loss = "n/a" if report["final_loss"] is None else format_number(report["final_loss"], precision)
    console.print(Text(f"learned {correct}/4 · final loss {loss}"))
    if report["interrupted"]:
        console.print(Text(f"interrupted after {report['epochs']} epochs", style="yellow"))
    if correct < 4 and not report["linearly_separable"] and sizes[1:] == [1]:
        console.print(
            Text(
                f"{gate} is not linearly separable: a single layer draws one straight line, and no line "
                f"separates its 0s from its 1s. A hidden layer can (--hidden 2).",
                style="bold",
            )
        )
    elif correct < 4:
        console.print(Text("not learned for this seed: try more --epochs or another --seed", style="yellow"))


def _show_weights(console, weights: dict, precision: int) -> list[str]:
    """The weights and bias of every unit; returns the hidden units' names (none without a hidden layer)."""
    from rich.table import Table

    wtable = Table(title="weights, biases: z = w·inputs + b", header_style="bold")
    for column in ("unit", "inputs", "weights", "bias"):
        wtable.add_column(column, justify="right")
    hidden_names = [f"h{j + 1}" for j in range(len(weights["b0"]))] if "W1" in weights else []
    layers = [("W0", "b0", hidden_names or ["y"], "x1, x2")]
    if hidden_names:
        layers.append(("W1", "b1", ["y"], ", ".join(hidden_names)))
    for w_key, b_key, units, inputs in layers:
        W, b = np.array(weights[w_key]), np.array(weights[b_key])
        for j, unit in enumerate(units):
            wtable.add_row(
                unit, inputs, ", ".join(format_number(v, precision) for v in W[:, j]), format_number(b[j], precision)
            )
    console.print(wtable)
    return hidden_names

def _show_hidden_gates(console, report: dict, hidden_names: list[str]) -> None:
    """Where each hidden unit is on, and the gate that pattern is (the course's NAND, OR → AND)."""
    from rich.table import Table
    from rich.text import Text

    htable = Table(title="hidden layer (中間層/隠れ層): units on where z > 0", header_style="bold")
    for column in ("x1", "x2", *hidden_names, "y"):
        htable.add_column(column, justify="right")
    bits = report["hidden_truth_tables"]
    for i, row in enumerate(report["truth_table"]):
        htable.add_row(str(row["x1"]), str(row["x2"]), *(str(b[i]) for b in bits), str(row["prediction"]))
    console.print(htable)
    for name, unit_bits in zip(hidden_names, bits, strict=True):
        expression = gate_expression(unit_bits)
        console.print(Text(f"{name} ≈ {expression}" if expression else f"{name}: constant, matches no gate"))
    if report["output_gate"]:
        console.print(Text(f"y ≈ {report['output_gate']}", style="bold"))


def _show_wired(console, report: dict, precision: int) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title="The course's wired XOR: s1 = NAND(x1, x2), s2 = OR(x1, x2), y = AND(s1, s2) (step units)",
        header_style="bold",
    )
    for column in ("x1", "x2", "s1 = NAND", "s2 = OR", "y = AND(s1, s2)", "XOR"):
        table.add_column(column, justify="right")
    for row in report["truth_table"]:
        table.add_row(*(str(row[k]) for k in ("x1", "x2", "s1", "s2", "prediction", "target")))
    console.print(table)
    wtable = Table(title="weights and biases (unit on where w1·a + w2·b + bias > 0)", header_style="bold")
    for column in ("unit", "inputs", "weights", "bias"):
        wtable.add_column(column, justify="right")
    W0, b0, W1, b1 = (np.array(report["weights"][k]) for k in ("W0", "b0", "W1", "b1"))
    for j, unit in enumerate(("s1 (NAND)", "s2 (OR)")):
        wtable.add_row(unit, "x1, x2", ", ".join(format_number(v, precision) for v in W0[:, j]), format_number(b0[j], precision))
    wtable.add_row("y (AND)", "s1, s2", ", ".join(format_number(v, precision) for v in W1[:, 0]), format_number(b1[0], precision))
    console.print(wtable)
    gates = Table(title="the course's gates with every weight 1: a unit adds its inputs and fires when the sum is "
                  "above (OR, AND) or below (NOT, NAND) its threshold", header_style="bold")
    for column in ("gate", "weights", "fires when", "outputs for (0,0) (0,1) (1,0) (1,1)", "as w·x + b > 0"):
        gates.add_column(column, justify="left")
    for name, gate in report["ones_gates"].items():
        total = "x" if gate["inputs"] == 1 else "x1 + x2"
        sign = ">" if gate["fires_when_sum_is"] == "above" else "<"
        outputs = " ".join(map(str, gate["truth_table"])) + ("  (for x = 0, 1)" if gate["inputs"] == 1 else "")
        w = 1 if sign == ">" else -1
        usual = f"w = {', '.join([str(w)] * gate['inputs'])}, b = {-w * gate['threshold']:g}"
        gates.add_row(name, ", ".join(["1"] * gate["inputs"]), f"{total} {sign} {gate['threshold']:g}", outputs, usual)
    console.print(gates)
    ones = report["ones_network"]
    console.print(Text(f"with them: s1 = NAND(x1, x2) = {ones['s1']}, s2 = OR(x1, x2) = {ones['s2']}, "
                       f"y = AND(s1, s2) = {ones['y']} = XOR; s1 and s2 are the 中間層 (隠れ層, hidden layer)"))


# --- plots ------------------------------------------------------------------------------------


def _plot_trained(path: str, network, gate: str, report: dict, env) -> None:
    from nnkit.plots.figures import save_figure
    from nnkit.plots.hidden_space import xor_trained_figure

    x, t = truth_table(gate)
    dense = network.dense_layers
    lines = []
    if len(dense) == 2:
        first = dense[0]
        lines = [(first.W[:, j], float(first.b[j]), f"h{j + 1} switches on") for j in range(first.n_out)]
    sizes = "-".join(map(str, network.sizes))
    title = f"{gate.upper()}: {sizes} network, {round(report['accuracy'] * 4)}/4 correct"
    if len(dense) == 1:  # no hidden layer: one straight boundary, and no hidden plane to show
        from nnkit.plots.decision_regions import write_decision_plot

        title += (". No hidden layer: the boundary is one straight line" +
                  ("; no straight line puts the 1s apart from the 0s, 3 of 4 at best" if not report["linearly_separable"]
                   else f", and one straight line separates {gate.upper()}"))
        write_decision_plot(path, lambda g: network.predict_proba(g)[:, 0], x, t, title, lines, env,
                            (dense[0].W[:, 0], float(dense[0].b[0])))
    else:
        save_figure(xor_trained_figure(network, x, t, title, lines), path, env)
    env.note(f"nnkit: wrote {path}")


def _plot_wired(path: str, env) -> None:
    from nnkit.plots.figures import save_figure
    from nnkit.plots.hidden_space import xor_wired_figure

    x, t = truth_table("xor")
    saitoh = [(WIRED["hidden_W"][:, j], float(WIRED["hidden_b"][j]), name)
              for j, name in enumerate(("s1 = NAND", "s2 = OR"))]
    # every weight 1: OR fires above x1 + x2 = 0.5; NAND below x1 + x2 = 1.5 (weights −1, bias 1.5)
    ones = [(np.array([-1.0, -1.0]), ONES_GATES["NAND"][1], "s1 = NAND"),
            (np.array([1.0, 1.0]), -ONES_GATES["OR"][1], "s2 = OR")]
    s, _ = ones_forward(x)
    figure = xor_wired_figure(
        lambda g: wired_forward(g)[1], saitoh, lambda g: ones_forward(g)[1], ones, s, x, t,
        lambda g: ones_gate("AND", g[:, 0], g[:, 1]), (np.array([1.0, 1.0]), -ONES_GATES["AND"][1], "y = AND"),
    )
    save_figure(figure, path, env)
    env.note(f"nnkit: wrote {path}")
