"""Gateway tests: the Kannel adapter against a real Kannel, and the served app's HTTP surface."""

from pathlib import Path

import pytest
from support import mark_folder


def pytest_collection_modifyitems(items):
    mark_folder(items, Path(__file__).parent, pytest.mark.gateway)
