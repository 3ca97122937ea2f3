"""Shell completion of registry names: ``nnkit activate <TAB>`` offers the activation functions.

Each completer reads the same registry as the command's choices and its ``--help`` (one place for
each fact), and describes every name with its formula or label, which zsh and fish show beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping


def complete_names(registry: Mapping, describe: Callable | None = None) -> Callable[[str], list]:
    """A Typer ``autocompletion`` callback offering the registry's names that start as typed.

    Examples
    --------
    >>> complete = complete_names({"relu": "max(0, x)", "sigmoid": "1 / (1 + exp(-x))"}, str)
    >>> complete("s")
    [('sigmoid', '1 / (1 + exp(-x))')]
    """

    def complete(incomplete: str) -> list:
        return [
            (name, describe(entry)) if describe else name
            for name, entry in registry.items()
            if name.startswith(incomplete or "")
        ]

    return complete
