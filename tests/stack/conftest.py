from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.stack import LocalStack


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    """The whole local stack (`make dev`) on free ports: gateway, pollers, moto server, provider sandboxes."""
    with LocalStack(api_port=0, moto_port=0, sandbox_port=0, physical_names={"DataTable": "blueclerk-test"}) as s:
        yield s
