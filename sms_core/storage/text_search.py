""" "Text contains", case-insensitive for every letter on both databases.

PostgreSQL's ILIKE folds the case of every letter and is backed by the pg_trgm index: it is
rendered exactly as before.  SQLite's LIKE and lower() fold ASCII only ("Ø" would not find "ø"),
so on SQLite both sides go through ``unicode_casefold``, a Python function that
``sms_core.storage.database`` registers on every SQLite connection.
"""

from __future__ import annotations

from sqlalchemy import Boolean
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

CASEFOLD_FUNCTION = "unicode_casefold"


def unicode_casefold(value):
    """Python's full case folding (Ø → ø, ẞ → ss); anything but text passes unchanged."""
    return value.casefold() if isinstance(value, str) else value


class text_contains(FunctionElement):  # noqa: N801 (SQLAlchemy's naming for SQL constructs)
    """``text_contains(column, like_pattern)``: the column matches the LIKE pattern (escape ``\\``),
    whatever the case of any letter."""

    type = Boolean()
    inherit_cache = True
    name = "text_contains"


@compiles(text_contains)
def _ilike(element, compiler, **kw):
    column, pattern = element.clauses
    return compiler.process(column.ilike(pattern, escape="\\"), **kw)


@compiles(text_contains, "sqlite")
def _casefolded_like(element, compiler, **kw):
    column, pattern = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({CASEFOLD_FUNCTION}({column}) LIKE {CASEFOLD_FUNCTION}({pattern}) ESCAPE '\\')"
