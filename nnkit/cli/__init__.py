"""The command-line interface: one module per command, joined in :mod:`nnkit.cli.app`."""


def main() -> None:
    """Entry point of the ``nnkit`` command."""
    try:
        _main()
    except KeyboardInterrupt:  # Ctrl-C while the modules load, before a command's own handling
        import sys

        if sys.stderr is not None:
            print("nnkit: interrupted", file=sys.stderr)
        raise SystemExit(130) from None


def _main() -> None:
    import typer

    from nnkit.cli.app import app
    from nnkit.term.env import mend_closed_streams

    mend_closed_streams()
    typer.main.get_command(app).main()
