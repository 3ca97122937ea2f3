"""The command-line interface: one module per command, joined in :mod:`nnkit.cli.app`."""


def main() -> None:
    """Entry point of the ``nnkit`` command."""
    import typer

    from nnkit.cli.app import app
    from nnkit.io.env import mend_closed_streams

    mend_closed_streams()
    typer.main.get_command(app).main()
