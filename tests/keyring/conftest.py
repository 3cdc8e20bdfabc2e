"""The keyring tier shares one real Secret Service (scripts/with-secret-service.sh): a test here locks its default
collection to see the honest message, which would make another worker's write fail meanwhile. So every test in
this folder runs in one xdist worker, one after another (``--dist loadgroup`` in scripts/test.sh)."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.xdist_group("secret-service"))
