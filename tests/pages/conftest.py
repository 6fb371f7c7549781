"""Page tests: each Streamlit page run with AppTest (``app_env``: the app on a demo database on
SQLite), asserting on what the user sees and clicking as they would."""

from pathlib import Path

import pytest
from support import mark_folder


def pytest_collection_modifyitems(items):
    mark_folder(items, Path(__file__).parent, pytest.mark.pages)
