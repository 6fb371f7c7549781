"""Page tests: each Streamlit page run with AppTest (``app_env``: the app on a demo database on
SQLite), asserting on what the user sees and clicking as they would."""

import csv
import io
from pathlib import Path

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from support import mark_folder


def pytest_collection_modifyitems(items):
    mark_folder(items, Path(__file__).parent, pytest.mark.pages)


@pytest.fixture
def exported_csv(monkeypatch):
    """What a click on Export CSV downloads: ``exported_csv(at)`` gives its rows.  AppTest cannot
    click a download, so the deferred file Streamlit would serve is kept and built here."""
    made: dict[str, object] = {}  # deferred file id → the callable Streamlit runs on the click
    add_deferred = MediaFileManager.add_deferred

    def remember(manager, data, *args, **kwargs):
        made[file_id := add_deferred(manager, data, *args, **kwargs)] = data
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", remember)

    def rows(at) -> list[list[str]]:
        button = at.download_button[0]
        assert button.label == "Export CSV"
        data = made[button.proto.deferred_file_id]()
        return list(csv.reader(io.StringIO(data.read().decode("utf-8-sig"), newline="")))

    return rows
