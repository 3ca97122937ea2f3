"""``nnkit datasets``: the data sets ``--data`` knows by name, and whether each is downloaded."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Literal

import typer

from nnkit.cli.common import Quiet, environment
from nnkit.errors import NnkitInputError, shape_text
from nnkit.term.output import resolve_format, write_stdout_bytes

ListFormat = Annotated[
    Literal["table", "csv", "tsv", "json"] | None,
    typer.Option("-f", "--format", help="Output format. Default: table on a terminal, csv in a pipe.", show_default=False),
]

COLUMNS = ("name", "title", "train", "validation", "test", "image_shape", "classes", "licence", "cached", "cached_bytes", "path", "url")


def _rows() -> list[dict]:
    from nnkit.data.named import NAMED_DATASETS, cached_bytes, data_dir, file_url, is_cached

    rows = []
    for d in NAMED_DATASETS.values():
        rows.append(
            {
                "name": d.name,
                "title": d.title,
                "train": d.samples.get("train"),
                "validation": d.samples.get("validation"),
                "test": d.samples.get("test"),
                "image_shape": shape_text(d.image_shape),
                "classes": d.n_classes,
                "licence": d.licence,
                "cached": is_cached(d),
                "cached_bytes": cached_bytes(d),
                "path": str(data_dir() / d.name),
                "url": " ".join(file_url(f) for f in d.files),
            }
        )
    return rows


def datasets(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="With --download: the data sets to download now.", show_default=False, metavar="[NAME]..."),
    ] = None,
    download: Annotated[
        bool, typer.Option("--download", help="Download (once) and check the named data sets, then list all.")
    ] = False,
    fmt: ListFormat = None,
    quiet: Quiet = False,
) -> None:
    r"""List the data sets that --data takes by name: images, size, classes, licence, and whether each is cached.

    A named data set is downloaded from its publisher the first time a command uses it, checked
    against the publisher's checksum and kept in the cache folder (NNKIT_DATA_DIR overrides it).

    \b
    Examples:
      nnkit datasets
      nnkit datasets --download pneumoniamnist
      nnkit train-mlp --data mnist
    """
    from nnkit.data.named import NAMED_DATASETS, fetch, lookup

    env = environment(quiet)
    chosen = resolve_format(fmt, env)
    if names and not download:
        raise NnkitInputError("data set names are taken with --download only", hint="nnkit datasets --download NAME")
    if download:
        if not names:
            raise NnkitInputError("--download needs the names of the data sets to download")
        wanted = []
        for name in names:
            dataset = lookup(name)
            if dataset is None:
                raise NnkitInputError(f"no data set named {name!r}", hint=f"choose from: {', '.join(NAMED_DATASETS)}")
            wanted.append(dataset)
        for dataset in wanted:
            fetch(dataset, env)
    rows = _rows()
    if chosen == "json":
        write_stdout_bytes(env, (json.dumps(rows) + "\n").encode())
    elif chosen in ("csv", "tsv"):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, delimiter="," if chosen == "csv" else "\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_stdout_bytes(env, buffer.getvalue().encode())
    else:
        _show(env, rows)


def _count(n: int | None) -> str:
    """``60k``, ``4708``, ``23.6k``: images per part, short enough for an 80-column terminal."""
    if n is None:
        return "–"
    if n < 10_000:
        return str(n)
    return f"{n / 1000:.0f}k" if n >= 100_000 or n % 1000 == 0 else f"{n / 1000:.1f}k"


def _show(env, rows: list[dict]) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    console = env.console()
    wide = console.width >= 120  # room for each set's description
    table = Table(
        title="data sets for --data NAME (downloaded once, then read from the cache)",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("name", style="bold", no_wrap=True)
    if wide:
        table.add_column("what")
    table.add_column("train/val/test", justify="right", no_wrap=True)
    table.add_column("image", justify="right", no_wrap=True)
    table.add_column("classes", justify="right")
    table.add_column("licence", no_wrap=True)
    table.add_column("cached", no_wrap=True)
    for row in rows:
        parts = "/".join(_count(row[p]) for p in ("train", "validation", "test"))
        cached = f"{row['cached_bytes'] / 1e6:.1f} MB" if row["cached"] else "no"
        description = [Text(row["title"])] if wide else []
        table.add_row(
            Text(row["name"]), *description, parts, row["image_shape"], str(row["classes"]), Text(row["licence"]), cached
        )
    console.print(table)
    if rows:
        folder = rows[0]["path"].rsplit("/", 1)[0]
        console.print(Text(f"cache: {folder} (NNKIT_DATA_DIR overrides; -f json: URLs)"))
