"""Page tests: each Streamlit page run with AppTest (``app_env``: the app on a demo database on
SQLite), asserting on what the user sees and clicking as they would."""

from pathlib import Path

import pytest
from export_download import exported_rows
from support import mark_folder


def pytest_collection_modifyitems(items):
    mark_folder(items, Path(__file__).parent, pytest.mark.pages)


@pytest.fixture
def exported_csv():
    """What a click on Export CSV downloads: ``exported_csv(at)`` clicks it, follows the link it
    gives through the app's export route and gives the file's rows (``export_download``)."""
    return exported_rows
