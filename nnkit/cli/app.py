"""The ``nnkit`` command: its subcommands, and the one place where errors become exit statuses.

Every expected failure is an :class:`~nnkit.errors.NnkitInputError` (or a command-line usage error)
and ends as one line ``nnkit: error: …`` on stderr with exit status 2; anything else is an internal
error: exit 1, one line, and the traceback only with ``NNKIT_DEBUG=1`` (httpie's idea).
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import traceback

import typer
from typer.core import TyperGroup

from nnkit import __version__
from nnkit.cli.helptext import COURSE
from nnkit.errors import ExitStatus, NnkitInputError, printable

# A word that starts with "-" and then a digit, ".5", "inf" or "nan" is a number, never an option:
# nnkit activate relu 1 -2 3, -1e-3, -inf, "-1,2;3,-4".
_NEGATIVE_NUMBER = re.compile(r"^-(\d|\.\d|inf|nan)", re.IGNORECASE)


def protect_negative_numbers(args: list[str]) -> list[str]:
    """Mark negative numbers so the option parser reads them as values, with or without ``--``.

    The parser treats a word as an option only when it starts with ``-``; a leading space hides the
    sign from it, and every number parser in nnkit strips white space.

    Examples
    --------
    >>> protect_negative_numbers(["relu", "1", "-2", "-f", "csv", "-1e-3", "-inf"])
    ['relu', '1', ' -2', '-f', 'csv', ' -1e-3', ' -inf']
    """
    return [" " + arg if _NEGATIVE_NUMBER.match(arg) else arg for arg in args]


#: Old flags that became options with a value, by command: (old flag, new flag, the value's pattern).
#: ``nnkit dense X --random`` (random weights) is now ``--random-weights``; ``--random SHAPE`` is a
#: random input, as in every command.
_OLD_FLAGS = {"dense": [("--random", "--random-weights", re.compile(r"^\d+([x,]\d+)*$"))]}


def old_flags(args: list[str]) -> list[str]:
    """Rewrite an old flag given without its new value into its new name, with a note on stderr.

    Examples
    --------
    >>> old_flags(["dense", "1,2", "--random", "--units", "2"])
    ['dense', '1,2', '--random-weights', '--units', '2']
    >>> old_flags(["dense", "--random", "4x3", "--random-weights"])
    ['dense', '--random', '4x3', '--random-weights']
    """
    command = next((arg for arg in args if not arg.startswith("-")), None)
    rewritten = list(args)
    for old, new, value in _OLD_FLAGS.get(command, []):
        for i, arg in enumerate(rewritten):
            following = rewritten[i + 1].strip() if i + 1 < len(rewritten) else ""
            if arg == old and not value.match(following):
                rewritten[i] = new
                print(f"nnkit: note: {command} {old} without a shape is now {new}; the old spelling goes in "
                      "the next release", file=sys.stderr)
    return rewritten


# Click 8 names completion instructions shell first (bash_complete, zsh_source), Typer the other way
# round (complete_bash, the form its installed scripts use); nnkit takes both.
_CLICK_COMPLETION = re.compile(r"^(bash|zsh|fish|powershell|pwsh)_(source|complete)$")
COMPLETE_VAR = "_NNKIT_COMPLETE"


def accept_click_completion_order(environ) -> None:
    """Rewrite ``_NNKIT_COMPLETE=bash_complete`` (Click's order) as ``complete_bash`` (Typer's).

    Examples
    --------
    >>> environ = {"_NNKIT_COMPLETE": "bash_complete"}
    >>> accept_click_completion_order(environ)
    >>> environ
    {'_NNKIT_COMPLETE': 'complete_bash'}
    """
    match = _CLICK_COMPLETION.match(environ.get(COMPLETE_VAR, ""))
    if match:
        environ[COMPLETE_VAR] = f"{match[2]}_{match[1]}"


def _say_error(message: str, hint: str | None = None) -> None:
    try:
        print(f"nnkit: error: {printable(message)}", file=sys.stderr)
        if hint:
            print(f"  hint: {printable(hint)}", file=sys.stderr)
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass  # stderr is gone: the exit status still tells


def describe_os_error(error: OSError) -> str:
    """A failing system call in the user's words: the path (shortened) and the cause.

    Examples
    --------
    >>> describe_os_error(OSError(36, "File name too long", "1," * 200))
    "cannot use '1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,…' (400 characters) as a path: File name too long"
    >>> describe_os_error(OSError(28, "No space left on device"))
    'No space left on device'
    """
    cause = error.strerror or type(error).__name__
    name = error.filename
    if name is None:
        return cause
    name = os.fsdecode(name)
    if len(name) > 60:
        return f"cannot use {name[:60] + '…'!r} ({len(name)} characters) as a path: {cause}"
    return f"{name}: {cause}"


def _silence_stdout() -> None:
    # The reader went away (nnkit … | head -1): point stdout at /dev/null so the interpreter's
    # final flush does not complain.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


#: Every subcommand → (module in nnkit.cli, function), in the course's order (the order of ``--help``).
#: A command's module is imported only when that command runs, so start-up pays for one command only.
COMMANDS = {
    "dense": ("dense", "dense"),
    "activate": ("activate", "activate"),
    "loss": ("loss", "loss"),
    "optimize": ("optimize", "optimize"),
    "backprop": ("backprop", "backprop"),
    "onehot": ("onehot", "onehot"),
    "reshape": ("reshape", "reshape"),
    "convolve": ("convolve", "convolve_command"),
    "pool": ("pool", "pool_command"),
    "shift": ("shift", "shift"),
    "train-xor": ("train_xor", "train_xor"),
    "train-mlp": ("train_mlp", "train_mlp"),
    "train": ("train", "train"),
    "summary": ("summary", "summary"),
    "predict": ("predict", "predict"),
    "evaluate": ("evaluate", "evaluate"),
    "explain": ("explain", "explain"),
    "datasets": ("datasets", "datasets"),
    "export": ("export", "export"),
}


def command_function(name: str):
    """The Typer function behind ``nnkit NAME`` (imports its module)."""
    module, function = COMMANDS[name]
    return getattr(importlib.import_module(f"nnkit.cli.{module}"), function)


class NnkitGroup(TyperGroup):
    """nnkit's command group: lazy subcommands, negative numbers without ``--``, one error path."""

    def list_commands(self, ctx) -> list[str]:
        """The subcommands, in the course's order."""
        return list(COMMANDS)

    def resolve_command(self, ctx, args):
        """Find the subcommand; a mistyped one gets a "did you mean" hint."""
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            from nnkit.errors import did_you_mean

            raise NnkitInputError(f"no such command {name!r}",
                                  hint=did_you_mean(name, COMMANDS, also="see 'nnkit --help'"))
        return super().resolve_command(ctx, args)

    def get_command(self, ctx, cmd_name: str):
        """Build the click command of one subcommand, importing only its module."""
        if cmd_name not in COMMANDS:
            return None
        from typer.main import get_command_from_info
        from typer.models import CommandInfo

        from nnkit.cli.helptext import prepare_help

        command = get_command_from_info(
            CommandInfo(name=cmd_name, callback=command_function(cmd_name)),
            pretty_exceptions_short=True,
            rich_markup_mode=self.rich_markup_mode,
        )
        prepare_help(command, cmd_name)
        return command

    def invoke(self, ctx):
        """Run the subcommand, turning every exception into a message and an exit status."""
        try:
            import numpy as np  # every command uses it; `nnkit --help` never gets here

            # Floating point beyond the largest float is inf, 0/0 is nan: the documented results
            # (commands that cannot take them refuse them as input errors), never a RuntimeWarning.
            with np.errstate(all="ignore"):
                return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except NnkitInputError as error:
            _say_error(error.message, error.hint)
            raise typer.Exit(ExitStatus.INPUT_ERROR) from None
        except KeyboardInterrupt:
            print("nnkit: interrupted", file=sys.stderr)
            raise typer.Exit(ExitStatus.INTERRUPTED) from None
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(ExitStatus.BROKEN_PIPE) from None
        except OSError as error:  # the system refused: a full disk, a name too long, a closed stream
            _silence_stdout()  # what could not be written must not fail again at the interpreter's exit
            _say_error(describe_os_error(error))
            raise typer.Exit(ExitStatus.INPUT_ERROR) from None
        except Exception as error:
            if os.environ.get("NNKIT_DEBUG") == "1":
                traceback.print_exc()
            message = str(error).splitlines()[0] if str(error) else ""
            _say_error(
                f"internal error: {type(error).__name__}: {message}",
                None if os.environ.get("NNKIT_DEBUG") == "1" else "run again with NNKIT_DEBUG=1 for the traceback",
            )
            raise typer.Exit(ExitStatus.ERROR) from None

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Parse ``args`` (default ``sys.argv[1:]``), run, and exit with nnkit's status."""
        args = old_flags(protect_negative_numbers(list(sys.argv[1:] if args is None else args)))
        accept_click_completion_order(os.environ)
        try:
            result = super().main(
                args=args, prog_name=prog_name or "nnkit", complete_var=complete_var, standalone_mode=False, **extra
            )
            status = result if isinstance(result, int) else ExitStatus.SUCCESS
            sys.stdout.flush()
        except typer.TyperException as error:  # a usage error: unknown option, bad choice, missing value
            if _is_help_for_no_arguments(error):
                sys.stdout.flush()  # plain `nnkit`: the help has been printed, and that is no error
                return _exit(ExitStatus.SUCCESS, standalone_mode)
            context = getattr(error, "ctx", None)
            command = context.command_path if context is not None else "nnkit"
            message, hint = usage_hint(error, args, command)
            _say_error(message, hint)
            status = ExitStatus.INPUT_ERROR
        except typer.Abort:
            print("nnkit: aborted", file=sys.stderr)
            status = ExitStatus.INTERRUPTED
        except BrokenPipeError:
            _silence_stdout()
            status = ExitStatus.BROKEN_PIPE
        except SystemExit as exit_:
            # Rich meets a closed pipe while it prints help (nnkit --help | head -c 20): it points
            # stdout at /dev/null and exits 1. End as every other output to a closed pipe ends.
            if not _raised_by_broken_pipe(exit_):
                raise
            _silence_stdout()
            status = ExitStatus.BROKEN_PIPE
        except OSError as error:  # the last flush of stdout failed (a full disk behind > file)
            _silence_stdout()
            _say_error(f"cannot write the result to standard output: {describe_os_error(error)}")
            status = ExitStatus.INPUT_ERROR
        return _exit(status, standalone_mode)


def _raised_by_broken_pipe(exit_: SystemExit) -> bool:
    """Whether ``exit_`` is Rich's ``Console.on_broken_pipe`` (or Typer's EPIPE handler) giving up."""
    tb = exit_.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    name = tb.tb_frame.f_code.co_name if tb is not None else ""
    return name == "on_broken_pipe" or type(sys.stdout).__name__ == "PacifyFlushWrapper"


#: Options whose value is one comma list; a space-separated list there is the usual mistake.
LIST_OPTIONS = ("--hidden", "--size", "--stride", "--shape")


def usage_hint(error, args: list[str], command: str) -> tuple[str, str]:
    """A usage error's message, and a hint that names the likely cause.

    A mistyped option gets "did you mean"; extra numbers after a list option (``--hidden 256 128``)
    get the comma list it takes (``--hidden 256,128``); anything else points at the command's help.
    """
    message = error.format_message()
    message = message[:1].lower() + message[1:]
    see = f"see '{command} --help'"
    possibilities = getattr(error, "possibilities", None)
    option = getattr(error, "option_name", None)
    if option and possibilities is not None:  # click's NoSuchOption
        message = f"no such option: {option}"
        if possibilities:
            guess = " or ".join(sorted(possibilities)[:2])
            return message, f"did you mean {guess}? ({see})"
        return message, see
    if message.startswith("got unexpected extra argument"):
        words = [arg.strip() for arg in args]
        for i, word in enumerate(words[:-2]):
            name = word.split("=", 1)[0]
            if name in LIST_OPTIONS and "=" not in word:
                values = [words[i + 1]]
                for extra in words[i + 2:]:
                    if not re.fullmatch(r"[\d.,x]+", extra):
                        break
                    values.append(extra)
                if len(values) > 1:
                    return message, (f"{name} takes one comma list, with no spaces: "
                                     f"{name} {','.join(values)}")
    return message, see


def _exit(status: int, standalone_mode: bool) -> int:
    if standalone_mode:
        sys.exit(int(status))
    return int(status)


def _is_help_for_no_arguments(error: Exception) -> bool:
    # click's NoArgsIsHelpError (no_args_is_help=True) is a UsageError whose "message" is the help
    from typer._click.exceptions import NoArgsIsHelpError

    return isinstance(error, NoArgsIsHelpError)


def _version(value: bool) -> None:
    if value:
        print(f"nnkit {__version__}")
        raise typer.Exit()


app = typer.Typer(
    cls=NnkitGroup,
    name="nnkit",
    help="See and run the building blocks of neural networks: activations, losses, one-hot labels, "
    "reshaping, convolution and pooling of images, and training small networks. The commands follow the "
    f"course {COURSE} section by section; each command's --help names its section.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _nnkit(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """See and run the building blocks of neural networks from the shell."""
