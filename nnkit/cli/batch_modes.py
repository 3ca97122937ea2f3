"""Several ``--batch-size`` values at once: the course's 2-9 (batch, online and mini-batch learning) side by side.

``nnkit train-mlp --batch-size full,1,32`` trains one model per value and reports them in one table.
The data is read and split once; each model is trained by the same steps as a single run
(:func:`nnkit.cli.training_run.train_prepared`) with the very same request but its batch size, so
every model has the same data split, the same initial weights (the same ``--seed``) and the same
epochs; only the batching differs. A training command hands over its request::

    if several_batch_sizes(batch_size):
        return train_each_batch_size(request, plot=plot, fmt=fmt, precision=precision, quiet=quiet)
"""

from __future__ import annotations

import statistics
import time

import typer

from nnkit.cli.training_run import parse_batch_size
from nnkit.errors import ExitStatus, NnkitInputError
from nnkit.nn.training import batch_bounds
from nnkit.term.output import check_report_target, emit_report, format_number, resolve_format

#: The course's names of the three ways of feeding data (2-9).
MODES = {"full": "batch learning", 1: "online learning"}
MINI_BATCH = "mini-batch learning"
#: The same names in the course's Japanese.
MODES_JA = {"batch learning": "バッチ学習", "online learning": "オンライン学習", MINI_BATCH: "ミニバッチ学習"}
#: Options that belong to one model and cannot be shared by several.
_SINGLE_MODEL_OPTIONS = ("save", "resume")


def several_batch_sizes(text: str) -> bool:
    """Whether ``--batch-size`` lists more than one value (``full,1,32``).

    Examples
    --------
    >>> several_batch_sizes("full,1,32"), several_batch_sizes("32")
    (True, False)
    """
    return "," in str(text)


def parse_batch_sizes(text: str) -> list[int | str]:
    """``"full,1,32"`` → ``["full", 1, 32]``: each a number of at least 1 or ``full``, none twice.

    Examples
    --------
    >>> parse_batch_sizes(" full, 1,32")
    ['full', 1, 32]
    """
    sizes: list[int | str] = []
    for item in str(text).split(","):
        size: int | str = parse_batch_size(item, "--batch-size values") or "full"
        if size in sizes:
            raise NnkitInputError(f"--batch-size {size} is given twice", hint="each value trains one model")
        sizes.append(size)
    return sizes


def mode_name(size: int | str, n_train: int) -> str:
    """The course's name of a batch size for ``n_train`` training samples.

    Examples
    --------
    >>> mode_name("full", 100), mode_name(1, 100), mode_name(32, 100), mode_name(100, 100)
    ('batch learning', 'online learning', 'mini-batch learning', 'batch learning')
    """
    if size == "full" or size == n_train:
        return MODES["full"]
    return MODES.get(size, MINI_BATCH)


def check_against_data(sizes: list[int | str], n_train: int) -> None:
    """Refuse a size larger than the training part, and a size equal to it beside ``full``."""
    for size in sizes:
        if size != "full" and size > n_train:
            raise NnkitInputError(
                f"--batch-size {size} is larger than the {n_train} training samples",
                hint=f"use at most {n_train}, or 'full' for batch learning",
            )
    if "full" in sizes and n_train in sizes:
        raise NnkitInputError(f"--batch-size {n_train} is all {n_train} training samples: the same as 'full'")


def train_each_batch_size(request, *, plot: str | None, fmt: str | None, precision: int, quiet: bool,
                          output: str | None = None) -> None:
    """Train one model per ``--batch-size`` value of ``request`` on one reading of the data, and report them.

    Parameters
    ----------
    request : TrainingRequest
        The command's run (:mod:`nnkit.cli.training_run`); its ``batch_size`` lists the values.
    plot, fmt, precision, quiet
        The command's ``--plot``, ``-f``, ``--precision`` and ``-q``.
    """
    from nnkit.cli.common import environment
    from nnkit.cli.training_run import load_data, plan_outputs, train_prepared, with_batch_size
    from nnkit.term.interrupts import InterruptGuard

    env = environment(quiet)
    for name in _SINGLE_MODEL_OPTIONS:
        if getattr(request, name) is not None:
            raise NnkitInputError(
                f"--{name} takes one model; several --batch-size values train several",
                hint="give one --batch-size with --save/--resume",
            )
    sizes = parse_batch_sizes(request.settings.batch_size)
    resolve_format(fmt, env, report=True)
    plan_outputs(request, env, plot)
    check_report_target(output, env=env)
    for size in sizes:
        with_batch_size(request, size).settings.check()
    with InterruptGuard() as guard:
        prepared = load_data(request, env)  # once: every model trains on the same split
        n_train = int(prepared.x["train"].shape[0])
        check_against_data(sizes, n_train)
        started = time.perf_counter()
        runs, interrupted = [], False
        for size in sizes:
            env.note(f"nnkit: batch size {size} ({mode_name(size, n_train)})")
            try:
                if runs:
                    guard.release()  # the last model's hold: a Ctrl-C held back meanwhile lands here
                one_started = time.perf_counter()
                report = train_prepared(with_batch_size(request, size), prepared, env, guard).report
                report["seconds"] = time.perf_counter() - one_started
            except KeyboardInterrupt:  # Ctrl-C before this model's training started: keep the ones before
                interrupted = True
                break
            runs.append(_summary(size, report))
            interrupted = report["interrupted"]
            if interrupted:
                break
        result = {"task": "batch-modes", "batch_sizes": sizes, "training_samples": n_train,
                  "epochs": request.settings.epochs, "seed": request.settings.seed, "runs": runs,
                  "interrupted": interrupted, "seconds": time.perf_counter() - started}
        with guard.critical():
            _render(result, request.command, plot, fmt, output, precision, env)
    if interrupted:
        env.note("nnkit: interrupted: the results above are for the models and epochs completed")
        raise typer.Exit(ExitStatus.INTERRUPTED)


def _render(result: dict, command: str, plot: str | None, fmt: str | None, output: str | None, precision: int,
            env) -> None:
    """Draw ``--plot`` and deliver the comparison: ``-o`` by extension, stdout in the chosen format."""
    from nnkit.cli.training_core import history_table

    runs = result["runs"]
    if plot is not None and runs:
        from nnkit.plots.batch_modes import write_batch_modes_plot

        write_batch_modes_plot(plot, runs, title=f"{command} on {runs[0]['data']}: batch, online and mini-batch "
                               f"learning ({result['training_samples']} training samples)", env=env)
        env.note(f"nnkit: wrote {plot}")
    rows = [{"batch_size": run["batch_size"], **row} for run in runs for row in run["history"]]
    emit_report(result, env, fmt, output, history_table(rows, lead=("batch_size",)),
                render=lambda console: _show(console, result, precision))


def _summary(size: int | str, report: dict) -> dict:
    """One model's row of the comparison, with its whole single-run report kept beside it."""
    history = report["history"]
    n_train = report["train"]["samples"]
    return {
        "batch_size": size,
        "mode": mode_name(size, n_train),
        "mode_ja": MODES_JA[mode_name(size, n_train)],
        "updates_per_epoch": len(batch_bounds(n_train, None if size == "full" else size)),
        "seconds_per_epoch": statistics.fmean(row["seconds"] for row in history) if history else None,
        "epochs_run": report["epochs_run"],
        "history": history,
        "train": report["train"],
        "validation": report["validation"],
        "test": report["test"],
        "data": report.get("data"),
        "report": report,
    }


def _show(console, result: dict, precision: int) -> None:
    from rich.table import Table
    from rich.text import Text

    # ten columns in 100 characters: at most 4 significant digits, accuracies in per cent
    def num(value):
        return "—" if value is None else format_number(value, min(precision, 4))

    def percent(value):
        return "—" if value is None else f"{100 * value:.1f} %"

    console.print(
        Text(
            f"{len(result['runs'])} models, the same split ({result['training_samples']} training samples), "
            f"seed {result['seed']} and {result['epochs']} epoch(s); only the batch size differs",
            style="bold",
        )
    )
    ran = [run["epochs_run"] for run in result["runs"]]
    if any(n != result["epochs"] for n in ran):  # early stopping (or Ctrl-C) ended some runs sooner
        console.print(Text("epochs run: " + ", ".join(f"batch size {run['batch_size']} {n}"
                                                      for run, n in zip(result["runs"], ran, strict=True))))
    table = Table(header_style="bold")
    for column in ("batch size", "updates\n/ epoch", "s /\nepoch", "train\nloss", "train\nacc",
                   "val\nloss", "val\nacc", "test\nloss", "test\nacc"):
        table.add_column(column, justify="left" if column == "batch size" else "right", no_wrap=True)
    for run in result["runs"]:
        parts = [run[key] or {} for key in ("train", "validation", "test")]
        table.add_row(
            f"{run['batch_size']} {MODES_JA[run['mode']]}",
            str(run["updates_per_epoch"]),
            num(run["seconds_per_epoch"]),
            *[f(part.get(metric)) for part in parts for metric, f in (("loss", num), ("accuracy", percent))],
        )
    console.print(table)
    console.print(
        Text(
            "バッチ学習 (batch learning): one update per epoch from every sample (stable, slow to learn); "
            "オンライン学習 (online learning): one update per sample (fast to react, noisy); "
            "ミニバッチ学習 (mini-batch learning): in between."
        )
    )


def run_request(ctx: typer.Context, request, *, lr_find: bool, batch_size: str | None, plot: str | None,
                fmt: str | None, output: str | None, precision: int, quiet: bool, maps: int | None = None) -> None:
    """Carry out a training command's request: lr finder, one model per batch size, or one run.

    ``--lr-find`` runs the learning-rate finder; ``--batch-size full,1,32`` trains one model per size
    side by side; otherwise one training run and its report.
    """
    from nnkit.cli.training_core import find_lr_and_report, train_and_report

    if lr_find:
        return find_lr_and_report(request, plot=plot, fmt=fmt, output=output, precision=precision, quiet=quiet)
    if batch_size is not None and several_batch_sizes(batch_size):  # one model each, side by side
        return train_each_batch_size(request, plot=plot, fmt=fmt, output=output, precision=precision, quiet=quiet)
    extra = {} if maps is None else {"maps": maps}
    return train_and_report(ctx, request, plot=plot, fmt=fmt, output=output, precision=precision, quiet=quiet,
                            **extra)

