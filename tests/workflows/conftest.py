"""One ``hybrid serve`` on 127.0.0.1 over the embedded sample for all published workflows,
and the raw input each test checks its result against (downloaded from the same server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server_helpers import ServeProcess, basic_client


@pytest.fixture(scope="session")
def serve(tmp_path_factory: pytest.TempPathFactory, sample_catalog: Path) -> Iterator[ServeProcess]:
    data_dir = tmp_path_factory.mktemp("serve-workflows") / "data"
    with ServeProcess(data_dir=data_dir, stac=sample_catalog, workers=1) as server:
        yield server


@pytest.fixture(scope="session")
def connection(serve: ServeProcess, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return basic_client(serve.url, tmp_path_factory.mktemp("client"))
