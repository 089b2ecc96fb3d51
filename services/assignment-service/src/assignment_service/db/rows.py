"""The type of a row that a Core ``select`` reads: any number of columns, each read by name."""

from __future__ import annotations

from typing import Any, TypeAlias

from sqlalchemy import Row

# ``Row[Any]`` would be a one-column row: SQLAlchemy types a row by the tuple of its columns.
AnyRow: TypeAlias = Row[*tuple[Any, ...]]
