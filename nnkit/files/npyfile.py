"""``.npy`` and ``.npz`` files read from their headers first: nothing is allocated on a promise.

An ``.npy`` header states the dtype and shape; NumPy allocates that much before reading a byte of
data, so a 100-byte file claiming 10⁶×10⁶ floats is a ``MemoryError``, and an ``.npz`` member may be
encrypted, compressed in a way ``zipfile`` cannot undo, raw bytes without a header, or a deflate
bomb. Here every header is read and checked against the bytes really there (the file's length, the
zip member's declared size, which ``zipfile`` enforces) and against the memory available, and only
plain numeric arrays (no objects, no structured records) are accepted, all before any data is read.
"""

from __future__ import annotations

import io
import math
import os
import struct
from dataclasses import dataclass

import numpy as np

from nnkit.errors import NnkitInputError, reason, shape_text
from nnkit.term.limits import format_bytes, require_memory

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
#: Compression methods ``zipfile`` can read: stored, deflate, bzip2, lzma (zipfile's numbering).
_READABLE_COMPRESSION = {0, 8, 12, 14}
#: The dtype kinds nnkit reads: booleans, integers, unsigned, floats, and (for labels) strings.
ARRAY_KINDS = "biufU"


@dataclass(frozen=True)
class NpyHeader:
    """What an ``.npy`` header promises: ``shape``, ``dtype``, and where the data starts."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    data_offset: int

    @property
    def nbytes(self) -> int:
        """Bytes of data the header promises (a Python int: no overflow)."""
        return math.prod(self.shape) * self.dtype.itemsize

    def describe(self) -> str:
        """``'20000×20000 float64'``."""
        return f"{shape_text(self.shape) or 'scalar'} {self.dtype}"


def read_npy_header(stream, source: str) -> NpyHeader:
    """Read and check the header of an ``.npy`` stream, leaving it at the first data byte.

    Raises
    ------
    NnkitInputError
        Not an ``.npy`` header, an unsupported version, or a dtype nnkit does not read (objects
        that would need pickle, structured records, complex numbers).
    """
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise NnkitInputError(f"{source}: .npy format version {version[0]}.{version[1]} is not supported")
    except NnkitInputError:
        raise
    except (ValueError, EOFError, SyntaxError, TypeError, OverflowError) as exc:
        raise NnkitInputError(f"{source} is not a valid .npy file: {reason(exc)}") from None
    if dtype.hasobject:
        raise NnkitInputError(f"{source} holds Python objects, which nnkit does not read (they would need pickle)")
    if dtype.names is not None or dtype.subdtype is not None or dtype.kind not in ARRAY_KINDS:
        raise NnkitInputError(f"{source} holds {dtype} values; nnkit reads arrays of plain numbers")
    return NpyHeader(tuple(int(s) for s in shape), dtype, bool(fortran_order), stream.tell())


def check_length(header: NpyHeader, data_length: int, source: str) -> None:
    """Refuse a header whose data is not all there (or is followed by more) before allocating it."""
    if data_length != header.nbytes:
        raise NnkitInputError(
            f"{source}: the header promises {header.describe()} = {format_bytes(header.nbytes)}, "
            f"the file holds {format_bytes(data_length)} of data"
        )
    require_memory(header.nbytes, f"{source} ({header.describe()})")


def load_npy(data: bytes, source: str) -> np.ndarray:
    """The array of ``.npy`` bytes, checked as above before NumPy allocates it."""
    stream = io.BytesIO(data)
    header = read_npy_header(stream, source)
    check_length(header, len(data) - header.data_offset, source)
    stream.seek(0)
    try:
        return np.load(stream, allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        raise NnkitInputError(f"cannot read {source} as .npy: {reason(exc)}") from None


def load_npy_file(path) -> np.ndarray:
    """The array of an ``.npy`` file, its header checked against the file's length and memory first."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            header = read_npy_header(handle, source)
            check_length(header, os.fstat(handle.fileno()).st_size - header.data_offset, source)
            handle.seek(0)
            return np.lib.format.read_array(handle, allow_pickle=False)
    except NnkitInputError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise NnkitInputError(f"cannot read {source} as .npy: {reason(exc)}") from None


class ArchiveError(NnkitInputError):
    """A damaged or foreign ``.npz``: ``problem`` says what, without the file's name."""

    def __init__(self, source: str, problem: str):
        super().__init__(f"{source}: {problem}")
        self.problem = problem


class NpzArchive:
    """An ``.npz`` opened for checked reading: ``headers`` (name → :class:`NpyHeader`) and :meth:`read`.

    Every member is checked on opening: not encrypted, a readable compression, a ``.npy`` with a
    header whose data size matches the member's declared size. Use as a context manager.
    """

    def __init__(self, file, source: str):
        import zipfile  # imported here: commands that read no .npz do not pay for it at start-up

        self.source = source
        try:
            self.zip = zipfile.ZipFile(file)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, OSError, EOFError,
                struct.error) as exc:  # NotImplementedError: "zip file version 6.4" of a damaged header
            raise ArchiveError(source, f"not an .npz archive ({reason(exc)})") from None
        try:
            self.headers = self._check_members()
        except BaseException:
            self.zip.close()
            raise

    def _check_members(self) -> dict[str, NpyHeader]:
        import zipfile
        import zlib

        headers = {}
        for info in self.zip.infolist():
            where = f"the member {info.filename!r}"
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise ArchiveError(self.source, f"{where} is encrypted")
            if info.compress_type not in _READABLE_COMPRESSION:
                raise ArchiveError(
                    self.source, f"{where} uses a compression method ({info.compress_type}) nnkit cannot read"
                )
            if not info.filename.endswith(".npy"):
                raise ArchiveError(self.source, f"{where} is not a .npy array")
            name = info.filename[: -len(".npy")]
            if name in headers:
                raise ArchiveError(self.source, f"{where} appears twice")
            try:
                with self.zip.open(info) as member:
                    header = read_npy_header(member, where)
            except NnkitInputError as error:
                raise ArchiveError(self.source, error.message) from None
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, OSError, EOFError, ValueError) as exc:
                raise ArchiveError(self.source, f"{where} cannot be read: {reason(exc)}") from None
            if info.file_size - header.data_offset != header.nbytes:
                raise ArchiveError(
                    self.source,
                    f"{where}: the header promises {header.describe()} = {format_bytes(header.nbytes)}, "
                    f"the member holds {format_bytes(max(info.file_size - header.data_offset, 0))}"
                )
            headers[name] = header
        return headers

    @property
    def files(self) -> list[str]:
        """The array names, in the archive's order."""
        return list(self.headers)

    def read(self, name: str) -> np.ndarray:
        """One array, after checking that it fits in memory."""
        import zipfile
        import zlib

        header = self.headers[name]
        require_memory(header.nbytes, f"{self.source}[{name}] ({header.describe()})")
        try:
            with self.zip.open(f"{name}.npy") as member:
                return np.lib.format.read_array(member, allow_pickle=False)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, RuntimeError) as exc:
            raise ArchiveError(self.source, f"the array {name!r} cannot be read: {reason(exc)}") from None

    def close(self) -> None:
        self.zip.close()

    def __enter__(self) -> NpzArchive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
