"""The course's data sets by name: MNIST, Fashion-MNIST and the 2-D 28×28 MedMNIST sets.

``--data mnist`` downloads the publisher's file once, checks it against the publisher's checksum and
keeps it in the user's cache folder (``pooch.os_cache("nnkit")``, or ``NNKIT_DATA_DIR``)::

    <cache>/mnist/mnist.npz
    <cache>/fashion-mnist/train-images-idx3-ubyte.gz  (and the three other IDX files)
    <cache>/pneumoniamnist/pneumoniamnist.npz

A file already there (downloaded before, or put there by hand) is used without a download, but it
is still checked: a file that does not match the checksum is refused, never silently replaced.

``NNKIT_DATA_URL`` replaces every publisher's address by one base URL (a mirror inside a hospital
network, or the tests' local server): the file ``NAME`` is then fetched from
``$NNKIT_DATA_URL/NAME``, and checked against the same checksums.

Where the addresses and checksums come from:

- MNIST and Fashion-MNIST: the files and SHA-256 sums of Keras's loaders
  (``keras/src/datasets/mnist.py``, ``keras/src/datasets/fashion_mnist.py``), so ``--data mnist``
  is exactly what ``keras.datasets.mnist.load_data()`` gives;
- MedMNIST v3 (Zenodo record 10519652): the URLs and MD5 sums of ``medmnist/info.py`` (3.0.2);
  class names are MedMNIST's, shortened where they hold a comma (CSV output stays one cell each).
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from nnkit.errors import NnkitInputError

#: Environment variables: the cache folder, and a base URL replacing every publisher's address.
DATA_DIR_VARIABLE = "NNKIT_DATA_DIR"
DATA_URL_VARIABLE = "NNKIT_DATA_URL"
#: The most seconds one file's download may take in all (a server trickling bytes is cut off), and
#: the most a server may stay silent; the first can be set in this environment variable.
DEADLINE_VARIABLE = "NNKIT_DOWNLOAD_DEADLINE"
DEFAULT_DEADLINE = 900.0
READ_TIMEOUT = 30.0

_KERAS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_MEDMNIST = "https://zenodo.org/records/10519652/files/"


@dataclass(frozen=True)
class RemoteFile:
    """One file of a named data set: its name, the publisher's URL and checksum (``algo:hex``)."""

    name: str
    url: str
    known_hash: str


@dataclass(frozen=True)
class NamedDataset:
    """What nnkit knows about a named data set before it is downloaded.

    Attributes
    ----------
    name : str
        The ``--data`` name.
    title, publisher, licence, homepage : str
    files : tuple of RemoteFile
    layout : str
        ``"keras-npz"``, ``"idx"`` (a folder of MNIST IDX files) or ``"medmnist-npz"``.
    samples : dict
        Images per part (``train``, ``validation``, ``test``) as published.
    image_shape : tuple
        ``(28, 28)`` for grey images, ``(28, 28, 3)`` for colour ones.
    class_names : tuple of str, optional
        Names of labels ``0..K-1``; None keeps the integer labels (the digits).
    n_classes : int
    """

    name: str
    title: str
    publisher: str
    licence: str
    homepage: str
    files: tuple
    layout: str
    samples: dict
    image_shape: tuple
    n_classes: int
    class_names: tuple | None = None
    aliases: tuple = field(default=())


def _medmnist(name, title, md5, licence, samples, classes, channels=1) -> NamedDataset:
    return NamedDataset(
        name=name,
        title=title,
        publisher="MedMNIST v3 (Yang et al., Scientific Data 2023)",
        licence=licence,
        homepage="https://medmnist.com",
        files=(RemoteFile(f"{name}.npz", f"{_MEDMNIST}{name}.npz?download=1", f"md5:{md5}"),),
        layout="medmnist-npz",
        samples=dict(zip(("train", "validation", "test"), samples, strict=True)),
        image_shape=(28, 28) if channels == 1 else (28, 28, channels),
        n_classes=len(classes),
        class_names=tuple(classes),
    )


_ORGANS = (
    "bladder", "femur-left", "femur-right", "heart", "kidney-left", "kidney-right", "liver",
    "lung-left", "lung-right", "pancreas", "spleen",
)  # fmt: skip

#: Every named data set, in the order ``nnkit datasets`` lists them.
NAMED_DATASETS: dict[str, NamedDataset] = {
    d.name: d
    for d in (
        NamedDataset(
            name="mnist",
            title="MNIST handwritten digits",
            publisher="Y. LeCun, C. Cortes, C. J. C. Burges (Keras's copy)",
            licence="CC BY-SA 3.0",
            homepage="https://keras.io/api/datasets/mnist/",
            files=(
                RemoteFile(
                    "mnist.npz",
                    f"{_KERAS}mnist.npz",
                    "sha256:731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
                ),
            ),
            layout="keras-npz",
            samples={"train": 60000, "test": 10000},
            image_shape=(28, 28),
            n_classes=10,
        ),
        NamedDataset(
            name="fashion-mnist",
            title="Fashion-MNIST clothing images",
            publisher="Zalando Research (Keras's copy)",
            licence="MIT",
            homepage="https://github.com/zalandoresearch/fashion-mnist",
            files=tuple(
                RemoteFile(name, f"{_KERAS}{name}", f"sha256:{sha}")
                for name, sha in (
                    ("train-labels-idx1-ubyte.gz", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
                    ("train-images-idx3-ubyte.gz", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
                    ("t10k-labels-idx1-ubyte.gz", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
                    ("t10k-images-idx3-ubyte.gz", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
                )
            ),
            layout="idx",
            samples={"train": 60000, "test": 10000},
            image_shape=(28, 28),
            n_classes=10,
            class_names=(
                "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
            ),
        ),
        _medmnist(
            "pneumoniamnist", "paediatric chest X-rays: pneumonia or normal",
            "28209eda62fecd6e6a2d98b1501bb15f", "CC BY 4.0", (4708, 524, 624), ("normal", "pneumonia"),
        ),
        _medmnist(
            "breastmnist", "breast ultrasound: malignant or normal/benign",
            "750601b1f35ba3300ea97c75c52ff8f6", "CC BY 4.0", (546, 78, 156), ("malignant", "normal or benign"),
        ),
        _medmnist(
            "organamnist", "abdominal CT, axial: 11 organs",
            "68e3f8846a6bd62f0c9bf841c0d9eacc", "CC BY 4.0", (34561, 6491, 17778), _ORGANS,
        ),
        _medmnist(
            "organcmnist", "abdominal CT, coronal: 11 organs",
            "b9ceb9546e10131b32923c5bbeaea2b1", "CC BY 4.0", (12975, 2392, 8216), _ORGANS,
        ),
        _medmnist(
            "organsmnist", "abdominal CT, sagittal: 11 organs",
            "9ab87b696fb54e2a387ebe992d6ed5f1", "CC BY 4.0", (13932, 2452, 8827), _ORGANS,
        ),
        _medmnist(
            "octmnist", "retinal OCT: 4 diagnoses",
            "c68d92d5b585d8d81f7112f81e2d0842", "CC BY 4.0", (97477, 10832, 1000),
            ("choroidal neovascularization", "diabetic macular edema", "drusen", "normal"),
        ),
        _medmnist(
            "tissuemnist", "kidney cortex cells: 8 types",
            "ebe78ee8b05294063de985d821c1c34b", "CC BY 4.0", (165466, 23640, 47280),
            (
                "collecting duct or connecting tubule", "distal convoluted tubule",
                "glomerular endothelial cells", "interstitial endothelial cells", "leukocytes",
                "podocytes", "proximal tubule segments", "thick ascending limb",
            ),
        ),
        _medmnist(
            "dermamnist", "dermatoscopy (colour): 7 skin lesions",
            "0744692d530f8e62ec473284d019b0c7", "CC BY-NC 4.0", (7007, 1003, 2005),
            (
                "actinic keratoses and intraepithelial carcinoma", "basal cell carcinoma",
                "benign keratosis-like lesions", "dermatofibroma", "melanoma", "melanocytic nevi",
                "vascular lesions",
            ),
            channels=3,
        ),
        _medmnist(
            "bloodmnist", "blood cell microscopy (colour): 8 cell types",
            "7053d0359d879ad8a5505303e11de1dc", "CC BY 4.0", (11959, 1712, 3421),
            (
                "basophil", "eosinophil", "erythroblast", "immature granulocytes", "lymphocyte",
                "monocyte", "neutrophil", "platelet",
            ),
            channels=3,
        ),
        _medmnist(
            "pathmnist", "colon pathology (colour): 9 tissue types",
            "a8b06965200029087d5bd730944a56c1", "CC BY 4.0", (89996, 10004, 7180),
            (
                "adipose", "background", "debris", "lymphocytes", "mucus", "smooth muscle",
                "normal colon mucosa", "cancer-associated stroma",
                "colorectal adenocarcinoma epithelium",
            ),
            channels=3,
        ),
        _medmnist(
            "retinamnist", "retina fundus (colour): diabetic retinopathy grade 0-4",
            "bd4c0672f1bba3e3a89f0e4e876791e4", "CC BY 4.0", (1080, 120, 400),
            ("0", "1", "2", "3", "4"),
            channels=3,
        ),
    )
}


def data_dir() -> Path:
    """The cache folder of named data sets: ``$NNKIT_DATA_DIR``, else the user's cache for nnkit."""
    configured = os.environ.get(DATA_DIR_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    import pooch

    return Path(pooch.os_cache("nnkit"))


def file_url(remote: RemoteFile) -> str:
    """Where ``remote`` is downloaded from: the publisher, or ``$NNKIT_DATA_URL/NAME``."""
    mirror = os.environ.get(DATA_URL_VARIABLE)
    if mirror:
        return f"{mirror.rstrip('/')}/{remote.name}"
    return remote.url


def local_path(dataset: NamedDataset, remote: RemoteFile) -> Path:
    """Where ``remote`` is kept (and where a user can put it by hand)."""
    return data_dir() / dataset.name / remote.name


def is_cached(dataset: NamedDataset) -> bool:
    """Whether every file of ``dataset`` is in the cache (not checked against its checksum here)."""
    return all(local_path(dataset, remote).is_file() for remote in dataset.files)


def cached_bytes(dataset: NamedDataset) -> int:
    """Bytes the cached files of ``dataset`` take (0 when none is there)."""
    paths = (local_path(dataset, remote) for remote in dataset.files)
    return sum(p.stat().st_size for p in paths if p.is_file())


def lookup(name: str) -> NamedDataset | None:
    """The named data set called ``name`` (case-insensitive), or None."""
    return NAMED_DATASETS.get(name.lower())


# ---------------------------------------------------------------------------------------------
# Fetching


class _DownloadBar:
    """The progress-bar object pooch's HTTPDownloader drives (``total``, ``update``, ``reset``, ``close``)."""

    def __init__(self, env, description: str):
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=env.console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task(description, total=None)
        self._progress.start()

    @property
    def total(self):
        return self._progress.tasks[0].total

    @total.setter
    def total(self, value):
        self._progress.update(self._task, total=value or None)

    def update(self, n: int) -> None:
        self._progress.advance(self._task, n)

    def reset(self) -> None:
        self._progress.reset(self._task, total=self.total)

    def close(self) -> None:
        self._progress.stop()


def _hash_of(path: Path, known_hash: str) -> str:
    import pooch

    algorithm = known_hash.split(":", 1)[0]
    return f"{algorithm}:{pooch.file_hash(str(path), alg=algorithm)}"


def _place_by_hand_hint(url: str, path: Path) -> str:
    return f"download {url} yourself and put it at {path} (it is checked, then used without a download)"


def most_bytes(dataset: NamedDataset) -> int:
    """The most bytes one file of ``dataset`` can hold: its images and labels uncompressed, plus 1 MB.

    A download past it (or past the size the server announced) is refused as it arrives, so a
    compressed bomb or an endless stream never fills the disk.
    """
    pixels = math.prod(dataset.image_shape)
    return sum(dataset.samples.values()) * (pixels + 8) + (1 << 20)


class _CappedDownloader:
    """Pooch's downloader interface: one GET, refused past a byte cap, a total deadline or a silence."""

    def __init__(self, cap: int, bar=None):
        self.cap = cap
        self.bar = bar
        self.deadline = float(os.environ.get(DEADLINE_VARIABLE) or DEFAULT_DEADLINE)

    def __call__(self, url, output_file, pooch_object, check_only=False):
        import time

        import requests

        end = time.monotonic() + self.deadline
        with requests.get(url, stream=True, timeout=READ_TIMEOUT) as response:
            response.raise_for_status()
            announced = int(response.headers.get("Content-Length") or 0)
            encoded = bool(response.headers.get("Content-Encoding"))
            cap = min(self.cap, announced) if announced and not encoded else self.cap
            if self.bar is not None:
                self.bar.total = announced or None
            written = 0
            with open(output_file, "wb") if isinstance(output_file, str) else output_file as out:
                while chunk := response.raw.read1(1 << 16, decode_content=True):  # returns as data arrives
                    written += len(chunk)
                    if written > cap:
                        raise _DownloadRefused(f"the server sent more than {cap} bytes "
                                               f"({'announced' if cap == announced else 'the most this data set holds'})")
                    if time.monotonic() > end:
                        raise _DownloadRefused(f"it took longer than {self.deadline:g} s "
                                               f"(set {DEADLINE_VARIABLE} to allow more)")
                    out.write(chunk)
                    if self.bar is not None:
                        self.bar.update(len(chunk))


class _DownloadRefused(Exception):
    """A download cut off by nnkit itself (too large, too slow)."""


def _fetch_file(dataset: NamedDataset, remote: RemoteFile, env) -> Path:
    path = local_path(dataset, remote)
    url = file_url(remote)
    if os.path.lexists(path) and not path.is_file():  # is_file follows a link: one to /dev/zero is caught too
        raise NnkitInputError(f"{path} is in the data cache but is not a regular file",
                              hint="remove it so that nnkit downloads the file again")
    if path.is_file():
        found = _hash_of(path, remote.known_hash)
        if found != remote.known_hash:
            raise NnkitInputError(
                f"{path} does not match the published checksum of {remote.name} "
                f"({remote.known_hash}, the file has {found})",
                hint=f"delete it so that nnkit downloads it again from {url}, or put the right file there",
            )
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NnkitInputError(
            f"cannot create the data folder {path.parent}: {exc.strerror or exc}",
            hint=f"set {DATA_DIR_VARIABLE} to a folder you can write to",
        ) from None
    try:
        _download(dataset, remote, url, path, env)
    finally:
        if not path.is_file():
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # only when empty: a failed first download leaves no folder
    return path


def _download(dataset: NamedDataset, remote: RemoteFile, url: str, path: Path, env) -> None:
    """One file into the cache through pooch (checked against its checksum), each failure an input error."""
    import logging

    import pooch
    import requests
    import urllib3

    # pooch reports each download on stderr; nnkit shows its own progress bar (terminal only).
    pooch.get_logger().setLevel(logging.WARNING)
    show = env is not None and env.stderr_isatty and not env.quiet
    bar = _DownloadBar(env, f"{dataset.name}: {remote.name}") if show else None
    try:
        pooch.retrieve(url, known_hash=remote.known_hash, fname=remote.name, path=path.parent,
                       downloader=_CappedDownloader(most_bytes(dataset), bar))
    except _DownloadRefused as exc:
        raise NnkitInputError(f"the download of {remote.name} from {url} was stopped: {exc}",
                              hint=_place_by_hand_hint(url, path)) from None
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:  # urllib3: a raw read
        raise NnkitInputError(
            f"cannot download {remote.name} of {dataset.name} from {url}: {_reason(exc)}",
            hint=_place_by_hand_hint(url, path),
        ) from None
    except ValueError:  # pooch: the downloaded file's hash differs (pooch has deleted it)
        raise NnkitInputError(
            f"the download of {remote.name} from {url} does not match the published checksum "
            f"{remote.known_hash}: it was damaged or cut short, and was removed",
            hint=_place_by_hand_hint(url, path),
        ) from None
    except OSError as exc:
        raise NnkitInputError(
            f"cannot store {remote.name} in {path.parent}: {exc.strerror or exc}",
            hint=f"set {DATA_DIR_VARIABLE} to a folder you can write to",
        ) from None
    finally:
        if bar is not None:
            bar.close()


def _reason(exc) -> str:
    """A short reason for a failed request (requests' messages can be several lines of repr)."""
    import requests

    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code} {exc.response.reason or ''}".strip()
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "no connection (offline, or the server is down)"
    if isinstance(exc, requests.exceptions.Timeout) or "Timeout" in type(exc).__name__:
        return "the server did not answer in time"
    return f"{type(exc).__name__}: the transfer broke off"


def fetch(dataset: NamedDataset, env=None) -> list[Path]:
    """Make sure every file of ``dataset`` is in the cache and matches its checksum.

    Parameters
    ----------
    dataset : NamedDataset
    env : Environment, optional
        A progress bar is drawn on its stderr when that is a terminal (and not ``quiet``).

    Returns
    -------
    paths : list of Path, one per file, in ``dataset.files`` order

    Raises
    ------
    NnkitInputError
        No connection, a failed or partial download, or a checksum mismatch; the message names
        the URL and the path where the file can be put by hand. Nothing half-written is left.
    """
    return [_fetch_file(dataset, remote, env) for remote in dataset.files]
