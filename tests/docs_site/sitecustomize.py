"""Test-only start-up hook: named data sets checked against the local fixtures' checksums.

tests/test_readme_numbers.py puts this folder on ``PYTHONPATH`` of the pages' commands and serves
small files in the publishers' layouts on 127.0.0.1; ``NNKIT_TEST_HASHES`` (file name → ``algo:hex``)
replaces the publishers' checksums, which such small files cannot match. Without that variable this
does nothing.
"""

import os

if os.environ.get("NNKIT_TEST_HASHES"):
    import dataclasses
    import json

    from nnkit.data import named

    _hashes = json.loads(os.environ["NNKIT_TEST_HASHES"])
    for _name, _dataset in list(named.NAMED_DATASETS.items()):
        _files = tuple(dataclasses.replace(f, known_hash=_hashes.get(f.name, f.known_hash)) for f in _dataset.files)
        named.NAMED_DATASETS[_name] = dataclasses.replace(_dataset, files=_files)
