"""Reliability tests: faults injected into real parts (workers killed, gateways failing, a
database server restarted), and figures for RELIABILITY.md."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest
from support import PostgresCluster, mark_folder, postgres_bin_dir, require


def pytest_collection_modifyitems(items):
    mark_folder(items, Path(__file__).parent, pytest.mark.reliability)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture
def own_postgres():
    """A running PostgreSQL cluster of this test's own, to stop and start as the test likes;
    stopped and deleted afterwards, whatever happened."""
    bin_dir = postgres_bin_dir()
    require(bin_dir is not None, "PostgreSQL's initdb is not installed (Debian: apt-get install postgresql)")
    if os.geteuid() == 0:
        require(_has_user("postgres"), "running as root needs the 'postgres' user to run initdb as")
    cluster = PostgresCluster(bin_dir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()
