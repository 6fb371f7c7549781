""" "The text's length in bytes", on both databases.

The failure-reasons indexes (migration 0004) are partial: they hold only errors up to
``LONG_ERROR_BYTES`` long, measured with PostgreSQL's ``octet_length``, and the longer ones
apart.  PostgreSQL uses such an index only for a query that says so in the same words, so a
query that wants one must spell ``octet_length``.  SQLite (before 3.43) has no ``octet_length``;
it counts a text's UTF-8 bytes as the length of the text read as a blob.
"""

from __future__ import annotations

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class octet_length(FunctionElement):  # noqa: N801 (SQLAlchemy's naming for SQL constructs)
    """``octet_length(text_column)``: its length in bytes (UTF-8)."""

    type = Integer()
    inherit_cache = True
    name = "octet_length"


@compiles(octet_length)
def _octet_length(element, compiler, **kw):
    return f"octet_length({compiler.process(element.clauses, **kw)})"


@compiles(octet_length, "sqlite")
def _blob_length(element, compiler, **kw):
    return f"length(CAST({compiler.process(element.clauses, **kw)} AS BLOB))"
