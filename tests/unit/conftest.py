"""Unit tests: the domain rules in plain Python, no database, no Streamlit."""

from pathlib import Path

import pytest
from support import mark_folder


def pytest_collection_modifyitems(items):
    mark_folder(items, Path(__file__).parent, pytest.mark.unit)
