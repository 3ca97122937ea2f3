"""A small declarative schema for JSON data read from files nnkit did not necessarily write.

A schema is a tree of checkers; each one takes a value and the path to it (``meta.options.lr``) and
returns the value or raises :class:`SchemaError` naming that path, what was expected and what was
found. A file format declares its whole layout once with these (see :mod:`nnkit.files.model_file`), and the
reader validates everything before using any of it, so no later ``meta["x"]["y"]`` can fail with a
``KeyError``, ``TypeError`` or ``AttributeError`` on a foreign file.

Examples
--------
>>> point = Record({"x": Number(), "label": Field(Str(), required=False)})
>>> point({"x": 1.5}, "p")
{'x': 1.5}
>>> point({"x": "1.5"}, "p")
Traceback (most recent call last):
...
nnkit.files.schema.SchemaError: p.x must be a finite number, not a string ('1.5')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_JSON_TYPES = {
    bool: "true/false",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "an object",
    type(None): "null",
}


class SchemaError(ValueError):
    """A value that does not match its schema: ``where`` it is and what is wrong with it."""

    def __init__(self, where: str, problem: str):
        super().__init__(f"{where} {problem}")
        self.where = where
        self.problem = problem


def describe(value: Any) -> str:
    """A short description of a JSON value for messages: its type and, if short, the value."""
    kind = _JSON_TYPES.get(type(value), type(value).__name__)
    if isinstance(value, (list, dict)):
        return f"{kind} of {len(value)}"
    text = repr(value)
    return f"{kind} ({text})" if len(text) <= 40 else kind


def _fail(where: str, expected: str, value: Any):
    raise SchemaError(where, f"must be {expected}, not {describe(value)}")


Checker = Callable[[Any, str], Any]


@dataclass(frozen=True)
class Const:
    """Exactly ``value``."""

    value: Any

    def __call__(self, value, where):
        if type(value) is not type(self.value) or value != self.value:
            _fail(where, repr(self.value), value)
        return value


@dataclass(frozen=True)
class Int:
    """An integer (not a boolean) in ``[low, high]``."""

    low: int | None = None
    high: int | None = None

    def __call__(self, value, where):
        if type(value) is not int:
            _fail(where, "an integer", value)
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            _fail(where, f"an integer in {_interval(self.low, self.high)}", value)
        return value


@dataclass(frozen=True)
class Number:
    """A finite number (integers too, not booleans) with optional bounds; ``positive`` excludes 0."""

    low: float | None = None
    high: float | None = None
    positive: bool = False
    below_high: bool = False  # [low, high) instead of [low, high]

    def __call__(self, value, where):
        if type(value) not in (int, float) or not math.isfinite(value):
            _fail(where, "a finite number", value)
        bad = (
            (self.low is not None and value < self.low)
            or (self.high is not None and (value >= self.high if self.below_high else value > self.high))
            or (self.positive and value <= 0)
        )
        if bad:
            expected = "a positive number" if self.positive else "a number"
            if self.low is not None or self.high is not None:
                closing = ")" if self.below_high else "]"
                expected += f" in {_interval(self.low, self.high)[:-1]}{closing}"
            _fail(where, expected, value)
        return value


def _interval(low, high) -> str:
    return f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"


@dataclass(frozen=True)
class Str:
    """A string of at most ``max_length`` characters."""

    max_length: int = 10_000

    def __call__(self, value, where):
        if type(value) is not str:
            _fail(where, "a string", value)
        if len(value) > self.max_length:
            raise SchemaError(where, f"is {len(value)} characters long; at most {self.max_length} allowed")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise SchemaError(where, "holds an unpaired surrogate, which is not text") from None
        return value


@dataclass(frozen=True)
class Choice:
    """One of ``values`` (strings, usually a registry's names)."""

    values: tuple

    def __call__(self, value, where):
        if type(value) not in (str, int) or value not in self.values:
            _fail(where, "one of " + ", ".join(map(str, self.values)), value)
        return value


@dataclass(frozen=True)
class AnyOf:
    """The first of ``options`` that accepts the value; else "must be ``expected``"."""

    options: tuple
    expected: str

    def __call__(self, value, where):
        for option in self.options:
            try:
                return option(value, where)
            except SchemaError:
                continue
        _fail(where, self.expected, value)


@dataclass(frozen=True)
class Nullable:
    """``null``, or a value ``check`` accepts (whose message is kept: it says what is wrong inside)."""

    check: Checker

    def __call__(self, value, where):
        return None if value is None else self.check(value, where)


@dataclass(frozen=True)
class List:
    """A list of items, each checked by ``item``; ``unique`` refuses repeated items."""

    item: Checker
    min_length: int = 0
    max_length: int = 10_000_000
    unique: bool = False

    def __call__(self, value, where):
        if type(value) is not list:
            _fail(where, "a list", value)
        if not self.min_length <= len(value) <= self.max_length:
            raise SchemaError(
                where, f"must hold {_count(self.min_length, self.max_length)} items, not {len(value)}"
            )
        for i, item in enumerate(value):
            self.item(item, f"{where}[{i}]")
        if self.unique:
            seen = set()
            for i, item in enumerate(value):
                if item in seen:
                    raise SchemaError(f"{where}[{i}]", f"repeats {item!r}")
                seen.add(item)
        return value


def _count(low: int, high: int) -> str:
    if low == high:
        return str(low)
    return f"at least {low}" if high >= 10_000_000 else f"{low} to {high}"


@dataclass(frozen=True)
class Field:
    """One key of a :class:`Record`: its checker and whether it must be there."""

    check: Checker
    required: bool = True


@dataclass(frozen=True)
class Record:
    """A JSON object with declared keys; undeclared keys are kept but never read by nnkit."""

    fields: Mapping[str, Field | Checker]

    def __call__(self, value, where):
        if type(value) is not dict:
            _fail(where, "an object", value)
        for key, spec in self.fields.items():
            spec = spec if isinstance(spec, Field) else Field(spec)
            if key not in value:
                if spec.required:
                    raise SchemaError(f"{where}.{key}", "is missing")
                continue
            spec.check(value[key], f"{where}.{key}")
        return value

    def extended(self, **fields: Field | Checker) -> Record:
        """A copy with more (or replaced) keys: how a new model kind adds its own."""
        return Record({**self.fields, **fields})


@dataclass(frozen=True)
class Tagged:
    """An object whose ``tag`` key (``"kind"``, ``"type"``) chooses the :class:`Record` it must match.

    This is how a list of layers is declared: ``List(Tagged("type", {"dense": Record({...}), …}))``.
    """

    tag: str
    variants: Mapping[str, Record]

    def __call__(self, value, where):
        if type(value) is not dict:
            _fail(where, "an object", value)
        if self.tag not in value:
            raise SchemaError(f"{where}.{self.tag}", "is missing")
        Choice(tuple(self.variants))(value[self.tag], f"{where}.{self.tag}")
        return self.variants[value[self.tag]](value, where)


def check_all(rules: Sequence[Callable[[dict], str | None]], value: dict, where: str) -> None:
    """Cross-field rules: each returns ``None`` or the problem (``"classes: 3 names for 10 outputs"``)."""
    for rule in rules:
        problem = rule(value)
        if problem:
            raise SchemaError(where, problem)
