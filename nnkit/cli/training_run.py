"""One training run as plain steps: check the outputs, resume, read the data, build, fit, evaluate, save.

``nnkit train`` and ``nnkit train-mlp`` describe what to train as a :class:`TrainingRequest` and call
:func:`run_training`, which returns a :class:`TrainingRun` (the report and what it was made from).
Several models on one data set (``--batch-size full,1,32``) read the data once with
:func:`load_data` and train each model with :func:`train_prepared`. Nothing here draws or prints:
rendering the report and the ``--plot`` stays with the commands (``docs/design.md``, "How a command
flows from options to output").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from nnkit.errors import NnkitInputError, at_least_one, did_you_mean, shape_text, unknown_name
from nnkit.nn.optimizers import OPTIMIZERS, check_learning_rate, make_optimizer
from nnkit.nn.training import fit

#: Options a resumed run takes from the saved model unless given again: the same optimiser, batch
#: size and decay continue the training, and the same seed and split fractions give the same
#: validation and test parts (another split would move test samples into the training part).
RESUMED_OPTIONS = ("optimizer", "lr", "batch_size", "l2", "seed", "val_split", "val_from", "test_split")


def parse_batch_size(text: str, option: str = "--batch-size") -> int | None:
    """``"full"`` → None (batch learning), ``"1"`` → online learning, ``"N"`` → mini-batches.

    ``option`` names the value in the message when it is below 1.

    Examples
    --------
    >>> parse_batch_size(" Full"), parse_batch_size("32")
    (None, 32)
    """
    if text.strip().lower() == "full":
        return None
    try:
        size = int(text)
    except ValueError:
        raise NnkitInputError(f"--batch-size takes numbers or 'full', like full,1,32; got {text.strip()!r}") from None
    return at_least_one(size, option)


@dataclass
class Settings:
    """The training options of one run, before ``--resume`` fills in the saved ones."""

    optimizer: str
    lr: float | None
    batch_size: str
    epochs: int
    val_split: float
    val_from: str
    test_split: float
    early_stopping: int | None
    l2: float
    seed: int
    init: str = "auto"
    threads: int | None = None  # None: NNKIT_THREADS, else the cores (not saved: it changes no result)

    def check(self) -> int | None:
        """Refuse impossible values; returns the batch size (None: full batch)."""
        if self.optimizer not in OPTIMIZERS:
            raise unknown_name(
                "optimizer", self.optimizer, OPTIMIZERS
            )
        from nnkit.term.limits import check_epochs

        batch = parse_batch_size(self.batch_size)
        check_epochs(self.epochs)
        if self.l2 < 0:
            raise NnkitInputError(f"--l2 must not be negative, got {self.l2}")
        if self.lr is not None:
            check_learning_rate(self.lr)
        for name, fraction in (("--val-split", self.val_split), ("--test-split", self.test_split)):
            if not 0.0 <= fraction < 1.0:  # NaN too
                raise NnkitInputError(f"{name} must be a fraction in [0, 1), got {fraction}")
        return batch

    def split(self) -> dict:
        """The options that decide the validation and test parts (``prepare``'s keywords)."""
        return {"val_split": self.val_split, "val_from": self.val_from, "test_split": self.test_split,
                "seed": self.seed}


@dataclass
class Architecture:
    """The layers a command asks for, as engine spec dicts.

    ``specs`` may end with a dense layer whose ``units`` is None: the output layer then takes
    the task's size and activation (one sigmoid unit for two classes, a softmax unit per class).
    ``given`` is False when the command line named no architecture (a resumed run then keeps the
    saved one); ``describe`` is the stack in the command's own words, for titles. ``from_saved``
    checks a resumed model's meta data against the command's options and returns the options it
    carries on into the report (``extra_meta`` is used as it is when it is None).
    """

    specs: list[dict]
    describe: str
    given: bool = True
    extra_meta: dict = field(default_factory=dict)
    from_saved: Callable[[dict], dict] | None = None


@dataclass
class TrainingRequest:
    """Everything one training run needs, as the command line gave it.

    ``typed`` names the options typed on the command line (not left at their defaults): a resumed
    run keeps the saved value of every other option of :data:`RESUMED_OPTIONS`, and refuses to
    fall back on the bundled digits when ``data`` is not among them.
    """

    command: str
    architecture: Architecture
    settings: Settings
    data: str = "digits"
    label_column: str | None = None
    positive: str | None = None
    save: str | None = None
    resume: str | None = None
    typed: frozenset = frozenset()
    progress: str | None = None  # --progress: none, bar or lines (default: bar on a terminal)


@dataclass
class Resumed:
    """A saved model to continue.

    Its network, meta data and the epochs it has run, and the command's options that the report
    carries on (``Architecture.extra_meta``, or what ``Architecture.from_saved`` returned).
    """

    network: object
    meta: dict
    epochs_before: int
    extra_meta: dict


@dataclass
class TrainingRun:
    """What one run returns: the report (as ``-f json`` prints it) and what it was made from."""

    report: dict
    network: object
    prepared: object
    roc: tuple | None
    title: str
    epochs_before: int = 0


def resumed_options(saved: dict, given: dict) -> dict:
    """The options of a ``--resume`` run: each one given on the command line, else the saved one.

    Parameters
    ----------
    saved : dict
        The ``options`` stored in the model's meta data.
    given : dict
        The values of :data:`RESUMED_OPTIONS` typed on the command line (absent if not typed).

    Returns
    -------
    dict of the options to use; ``lr`` is None (the optimiser's default) when another optimiser
    than the saved one is chosen without an ``--lr``.

    Examples
    --------
    >>> resumed_options({"optimizer": "sgd", "lr": 0.05, "seed": 3}, {"seed": 1})
    {'optimizer': 'sgd', 'lr': 0.05, 'seed': 1}
    >>> resumed_options({"optimizer": "sgd", "lr": 0.05}, {"optimizer": "adam"})
    {'optimizer': 'adam', 'lr': None}
    """
    options = {key: saved[key] for key in RESUMED_OPTIONS if saved.get(key) is not None}
    if "optimizer" in given and given["optimizer"] != options.get("optimizer"):
        options["lr"] = None  # a saved rate belongs to the saved optimiser
    options.update(given)
    if isinstance(options.get("batch_size"), int):
        options["batch_size"] = str(options["batch_size"])
    return options


def output_specs(specs: list[dict], classes: list) -> list[dict]:
    """Fill in or check the last dense layer against the number of classes.

    Examples
    --------
    >>> output_specs([{"type": "dense", "units": None}], ["no", "yes"])
    [{'type': 'dense', 'units': 1, 'activation': 'sigmoid'}]
    >>> output_specs([{"type": "dense", "units": None, "activation": "softmax"}], ["no", "yes"])
    [{'type': 'dense', 'units': 2, 'activation': 'softmax'}]
    >>> output_specs([{"type": "dense", "units": 3}], [0, 1, 2])
    [{'type': 'dense', 'units': 3, 'activation': 'softmax'}]
    """
    specs = [dict(s) for s in specs]
    last = specs[-1]
    k = len(classes)
    hint = f"end with 'dense {k} softmax'" + (" or 'dense 1 sigmoid'" if k == 2 else "")
    if last.get("units") is None:
        if last.get("activation") == "softmax":  # a course model: one softmax unit per class
            last["units"] = k
            return specs
        last["units"] = 1 if k == 2 else k
        last["activation"] = "sigmoid" if k == 2 else "softmax"
        return specs
    units, activation = last["units"], last.get("activation")
    if activation not in ("softmax", "sigmoid"):
        if activation is not None:
            raise NnkitInputError(
                f"the last layer's activation is {activation}; it gives the class scores, so it is softmax or sigmoid",
                hint=hint,
            )
        activation = last["activation"] = "sigmoid" if units == 1 else "softmax"
    if not ((activation == "softmax" and units == k) or (activation == "sigmoid" and units == 1 and k == 2)):
        shown = ", ".join(map(str, classes[:10])) + (", …" if k > 10 else "")
        raise NnkitInputError(
            f"the last layer 'dense {units} {activation}' does not fit the data's {k} classes ({shown})", hint=hint
        )
    return specs


# --- the steps, in the order a run takes them ----------------------------------------------------


def plan_outputs(request: TrainingRequest, env, plot: str | None = None) -> None:
    """Check every file the run will write (``--save``, the command's ``--plot``) before any work.

    ``--data`` and ``--resume`` are inputs and are never overwritten.
    """
    from nnkit.term.output import OutputPlan

    plan = OutputPlan(env, inputs=[request.resume, None if request.data == "digits" else request.data])
    if request.save is not None:
        plan.add(request.save, "--save", ".npz")
    if plot is not None:
        plan.add(plot, "--plot", ".png")


def resume(request: TrainingRequest) -> Resumed | None:
    """Load the ``--resume`` model and take its saved options for those not typed again."""
    if request.resume is None:
        return None
    from nnkit.data.named import lookup
    from nnkit.files.model_file import load_model

    network, meta = load_model(request.resume)
    trained_on = meta.get("data")
    if "data" not in request.typed and trained_on not in (None, "digits"):
        raise NnkitInputError(
            f"{request.resume} was trained on {trained_on}, not on the bundled digits",
            hint=f"give its data again: --data {'' if lookup(trained_on) else 'PATH/'}{trained_on}",
        )
    given = {name: getattr(request.settings, name) for name in RESUMED_OPTIONS if name in request.typed}
    for name, value in resumed_options(meta.get("options") or {}, given).items():
        setattr(request.settings, name, value)
    wanted = request.architecture
    extra = wanted.extra_meta if wanted.from_saved is None else wanted.from_saved(meta)
    return Resumed(network, meta, int(meta.get("epochs_run", 0)), extra)


def load_data(request: TrainingRequest, env, resumed: Resumed | None = None):
    """Read ``--data`` and prepare it for the network: split, encoded and scaled (``PreparedData``).

    Images keep their height × width × channels when the stack has conv or pool layers; a resumed
    run reuses the saved classes and preprocessing, so new data is scaled as the model learnt it.
    """
    from nnkit.cli.layers_grammar import keeps_image_shape, needs_images
    from nnkit.data.labelled import load_dataset, prepare

    dataset = load_dataset(request.data, request.label_column, env)
    if dataset.kind != "images" and needs_images(request.architecture.specs):
        raise NnkitInputError(
            f"conv and pool layers need images; {dataset.name} is a table of feature rows",
            hint="use dense layers for tables (nnkit train-mlp), or image data: an MNIST npz/IDX folder or the digits",
        )
    split = request.settings.split()
    if resumed is None:
        keep = keeps_image_shape(request.architecture.specs) and dataset.kind == "images"
        return prepare(dataset, keep_image_shape=keep, **split)
    saved_shape = resumed.network.input_shape
    if len(saved_shape) == 3 and dataset.kind != "images":
        raise NnkitInputError(
            f"{request.resume} takes images of {shape_text(saved_shape)}; {dataset.name} is a table of feature rows"
        )
    meta = resumed.meta
    if "classes" not in meta or "preprocessing" not in meta:
        raise NnkitInputError(f"{request.resume} was not saved by a training command (no classes/preprocessing)")
    prepared = prepare(dataset, classes=meta["classes"], preprocessing=meta["preprocessing"],
                       keep_image_shape=len(saved_shape) == 3, **split)
    if prepared.input_shape != saved_shape:
        raise NnkitInputError(
            f"the data's samples have shape {shape_text(prepared.input_shape)}, the resumed "
            f"model takes {shape_text(saved_shape)}"
        )
    return prepared


def build(request: TrainingRequest, prepared, batch: int | None, resumed: Resumed | None = None):
    """The network to train: a new one from the architecture, or the resumed one (which must match)."""
    from nnkit.cli.layers_grammar import require_stack_memory
    from nnkit.nn.stack import build_network

    wanted = request.architecture
    if resumed is None:
        specs = output_specs(wanted.specs, prepared.classes)
        if wanted.extra_meta.get("model") and len(prepared.input_shape) == 3:
            check_model_fits(wanted.extra_meta["model"], specs, prepared.input_shape, request.data)
        n_train = len(prepared.y["train"])
        require_stack_memory(specs, prepared.input_shape, min(batch or n_train, n_train))
        return build_network(specs, prepared.input_shape, seed=request.settings.seed, init=request.settings.init)
    if wanted.given:
        asked = build_network(output_specs(wanted.specs, prepared.classes), prepared.input_shape, seed=0)
        if asked.configs() != resumed.network.configs():
            raise NnkitInputError(
                f"{wanted.describe} differs from the resumed model's layers",
                hint="leave the architecture out to continue the saved model",
            )
    return resumed.network


def check_model_fits(model: str, specs: list[dict], shape, data: str) -> None:
    """Refuse a course model whose layers do not fit the data's images, naming both sizes.

    The engine's own message names the layer that fails (a pooling layer left with a 1×1 input);
    the cause a learner needs is that the model was made for other images.
    """
    from nnkit.cli.layers_grammar import COURSE_MODELS
    from nnkit.nn.stack import summary

    try:
        summary(specs, shape)  # the shapes only: no weights are drawn
    except NnkitInputError as error:
        made_for = COURSE_MODELS[model].description.rpartition(" on ")[2].rstrip(")")
        size = "×".join(str(n) for n in shape[:2])
        raise NnkitInputError(
            f"--model {model} does not fit the images of --data {data}: they are {size}, the model was "
            f"made for {made_for} ({error.message})",
            hint=f"use data of that size (--data mnist), or --layers with fewer pooling layers for {size} images",
        ) from None


def train(network, prepared, settings: Settings, batch: int | None, env, guard, progress: str | None = None):
    """Fit the network on the training part with the training display; returns the history and the rate used.

    ``guard`` (an :class:`~nnkit.term.interrupts.InterruptGuard`) keeps each epoch's commit whole,
    and turns the first Ctrl-C into "stop after this batch"; ``progress`` is ``--progress``.
    """
    from nnkit.term.progress import TrainingDisplay

    x, y = prepared.x, prepared.y
    optimizer = make_optimizer(settings.optimizer, network.parameters(), lr=settings.lr, weight_decay=settings.l2)
    with TrainingDisplay(env, settings.epochs, progress) as display, guard.stop_after_batch(display.note):

        def on_batch(number: int, batches: int, loss: float) -> None:
            display.batch(number, batches, loss)
            guard.check()

        history = fit(network, x["train"], y["train"], optimizer=optimizer, epochs=settings.epochs,
                      batch_size=batch, seed=settings.seed, x_val=x.get("validation"), t_val=y.get("validation"),
                      early_stopping=settings.early_stopping, on_epoch=display.epoch, on_batch=on_batch,
                      critical=guard.critical,
                      threads=settings.threads)
    if guard.stop_requested:  # Ctrl-C after the last batch: the run is whole, but the user asked to stop
        history.interrupted = True
    if history.interrupted and not history:
        env.note("nnkit: interrupted before the first epoch ended: nothing was trained, so there is no report "
                 "and nothing was saved")
        raise KeyboardInterrupt
    return history, optimizer.lr


def positive_index(positive: str | None, classes: list) -> int | None:
    """The index of ``--positive`` among two classes (default the second, as scikit-learn); None otherwise."""
    if len(classes) != 2:
        if positive is not None:
            raise NnkitInputError(f"--positive applies to two classes; the data has {len(classes)}")
        return None
    if positive is None:
        return 1  # the second class in sorted order, as scikit-learn's pos_label default
    names = [str(c) for c in classes]
    if positive not in names:
        raise NnkitInputError(f"--positive {positive!r} is not a class",
                              hint=did_you_mean(positive, names, also=f"the classes are {', '.join(names)}"))
    return names.index(positive)


def evaluate(network, prepared, positive: int | None) -> tuple[dict, tuple | None]:
    """Loss and accuracy of every part, and the test part's metrics by class name.

    Returns ``({part: result or None}, roc)``; ``roc`` is ``(is_positive, scores)`` of the test
    part for two classes (the ROC curve of ``--plot``), else None.
    """
    from nnkit.data.labelled import PART_NAMES
    from nnkit.nn.metrics import class_probabilities, classification_report

    x, y, classes = prepared.x, prepared.y, prepared.classes
    parts: dict = {}
    roc = None
    for part in PART_NAMES:
        if part not in x:
            parts[part] = None
            continue
        loss, accuracy = network.evaluate(x[part], y[part])
        result = {"loss": loss, "accuracy": accuracy, "samples": int(x[part].shape[0])}
        if part == "test":
            proba = class_probabilities(network.forward(x[part]))
            result.update(classification_report(y[part], proba, positive))
            for row in result["per_class"]:
                row["class"] = classes[row["class"]]
            if positive is not None:
                roc = (y[part] == positive, proba[:, positive])
            result["accuracy"] = accuracy
        parts[part] = result
    return parts, roc


def describe_network(network) -> dict:
    """The report's ``network``: input shape, layer configs, parameter count, output (and MLP sizes)."""
    from nnkit.nn.stack import summary

    described = {
        "input_shape": list(network.input_shape),
        "layers": network.configs(),
        "parameters": summary(network.layers, network.input_shape)["total_params"],
        "output": network.output,
    }
    if network.is_mlp:
        described.update({"sizes": network.sizes, "activations": network.activations})
    return described


def run_options(settings: Settings, batch: int | None, lr: float, extra: dict) -> dict:
    """The report's and the saved model's ``options``: what a ``--resume`` continues with."""
    return {
        "optimizer": settings.optimizer, "lr": lr, "batch_size": "full" if batch is None else batch,
        "epochs": settings.epochs, "l2": settings.l2, "seed": settings.seed, "val_split": settings.val_split,
        "val_from": settings.val_from, "test_split": settings.test_split,
        "early_stopping": settings.early_stopping, "init": settings.init, **extra,
    }


def training_inputs_summary(network, x_train, seed: int) -> dict:
    """What the training inputs looked like, for the out-of-distribution caution of predict and explain."""
    import numpy as np

    from nnkit.nn.metrics import class_probabilities
    from nnkit.nn.novelty import MAX_SAMPLES, training_summary

    if len(x_train) > MAX_SAMPLES:  # the same seeded sample training_summary takes: classify only it
        x_train = x_train[np.sort(np.random.default_rng(seed).choice(len(x_train), MAX_SAMPLES, replace=False))]
    return training_summary(x_train, class_probabilities(network.forward(x_train)), seed)


def save(request: TrainingRequest, run: TrainingRun, env) -> None:
    """Write ``--save``: the network with what predicting and resuming need."""
    from nnkit.files.model_file import save_model

    report, prepared = run.report, run.prepared
    meta = {
        "task": "classification",
        "classes": prepared.classes,
        "preprocessing": prepared.preprocessing,
        "data": prepared.info["data"],
        "data_digest": prepared.info["digest"],
        "epochs_run": report["epochs_run"],
        "command": request.command,
        "options": report["options"],
        "training_summary": training_inputs_summary(run.network, prepared.x["train"], report["options"]["seed"]),
    }
    save_model(request.save, run.network, meta, env)
    env.note(f"nnkit: wrote {request.save}")


# --- the run -------------------------------------------------------------------------------------


def run_training(request: TrainingRequest, env, guard, plot: str | None = None) -> TrainingRun:
    """Check the outputs, resume, read the data, then :func:`train_prepared`; see there for the rest.

    ``plot`` is the command's ``--plot`` target, only checked here with the other outputs.
    """
    plan_outputs(request, env, plot)
    resumed = resume(request)
    request.settings.check()
    prepared = load_data(request, env, resumed)
    return train_prepared(request, prepared, env, guard, resumed)


def train_prepared(request: TrainingRequest, prepared, env, guard, resumed: Resumed | None = None) -> TrainingRun:
    """Build (or continue) the network, fit it, evaluate every part and save it.

    Returns with Ctrl-C held back (``guard.hold()``) from the trained network on, so that the caller
    writes the report and pictures together with the model and then calls ``guard.release()``.
    """
    settings = request.settings
    batch = settings.check()
    network = build(request, prepared, batch, resumed)
    positive = positive_index(request.positive, prepared.classes)
    history, lr = train(network, prepared, settings, batch, env, guard, request.progress)
    guard.hold()  # from the trained network to the written model and report: all of it, together
    before, extra = (0, request.architecture.extra_meta) if resumed is None else (resumed.epochs_before,
                                                                                  resumed.extra_meta)
    for row in history:
        row["epoch"] += before
    parts, roc = evaluate(network, prepared, positive)
    # epochs_run counts every epoch the model has been trained, earlier runs included (as the saved
    # model's meta does); epochs_this_run only this run's (the history's rows).
    report = {"task": "classification", "classes": prepared.classes, "epochs_run": before + len(history),
              "epochs_this_run": len(history), "history": list(history), **parts}
    if positive is not None:
        report["positive"] = prepared.classes[positive]
    report.update({
        "data": prepared.info["data"],
        "network": describe_network(network),
        "options": run_options(settings, batch, lr, extra),
        "best_epoch": None if history.best_epoch is None else history.best_epoch + before,
        "stopped_early": history.stopped_early,
        "interrupted": history.interrupted,
    })
    describe = request.architecture.describe
    title = f"{'-'.join(map(str, network.sizes))} network" if network.is_mlp else describe
    run = TrainingRun(report, network, prepared, roc, title, before)
    if request.save is not None:
        save(request, run, env)
    return run


def with_batch_size(request: TrainingRequest, size) -> TrainingRequest:
    """The same request with another ``--batch-size`` (``"full"`` or a number)."""
    return replace(request, settings=replace(request.settings, batch_size=str(size)))


def range_test(request: TrainingRequest, env, plot: str | None = None) -> dict:
    """``--lr-find``: the learning-rate range test (:mod:`nnkit.nn.lr_finder`) on the new network.

    The same data split, network, optimiser, batch size and seed as the training run would use; the
    weights are left as they were, nothing is saved.
    """
    from nnkit.nn.lr_finder import STEPS, find_lr

    for option, value in (("--save", request.save), ("--resume", request.resume)):
        if value is not None:
            raise NnkitInputError(f"--lr-find trains nothing to keep: leave out {option}",
                                  hint="find the rate first, then train with --lr RATE")
    plan_outputs(request, env, plot)
    settings = request.settings
    batch = settings.check()
    prepared = load_data(request, env)
    network = build(request, prepared, batch)
    found = find_lr(network, prepared.x["train"], prepared.y["train"], settings.optimizer, batch,
                    seed=settings.seed, weight_decay=settings.l2)
    return {
        "task": "lr-find", "data": prepared.info["data"], "optimizer": settings.optimizer,
        "batch_size": batch, "default_lr": OPTIMIZERS[settings.optimizer].DEFAULT_LR,
        "suggestion": found.suggestion, "minimum_rule": found.minimum,
        "valley": [float(found.lrs[i]) for i in found.valley], "steps": len(found.lrs), "steps_planned": STEPS,
        "stopped_early": found.stopped_early, "lrs": found.lrs.tolist(), "losses": found.losses.tolist(),
        "smoothed": found.smoothed.tolist(),
    }
