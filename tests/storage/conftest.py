"""Storage tests: services, queries and the schema on a real database — each test on SQLite and
on PostgreSQL (``db``, ``demo_db``), unless marked ``sqlite_only`` because the behaviour it
proves cannot differ between them."""

from pathlib import Path

import pytest
from support import mark_folder

from sms_core.domain.permissions import Actor
from sms_core.use_cases.accounts import load_actor


def pytest_collection_modifyitems(items):
    mark_folder(items, Path(__file__).parent, pytest.mark.storage)


@pytest.fixture
def staff(demo_db) -> Actor:
    """Stian Staff of the demo: Oslo Sentrum (current) and Bergen Bryggen."""
    return load_actor(demo_db, "staff")
