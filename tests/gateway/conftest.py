"""Gateway tests: the Kannel adapter against a real Kannel, and the served app's HTTP surface."""

from pathlib import Path

import pytest
from api_server import ApiServer
from support import mark_folder


def pytest_collection_modifyitems(items):
    mark_folder(items, Path(__file__).parent, pytest.mark.gateway)


@pytest.fixture
def api(demo_base_db):
    server = ApiServer(demo_base_db)
    yield server
    server.close()
