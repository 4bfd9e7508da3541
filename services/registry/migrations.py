"""The registry's schema, one numbered migration at a time."""
from __future__ import annotations

from services.common.storage import Migration
from services.registry import models


def _create(op, table) -> None:
    op.create_table(table.name, *(c._copy() for c in table.columns))
    for index in table.indexes:
        op.create_index(index.name, table.name, [c.name for c in index.columns],
                        unique=index.unique)


def _initial(op) -> None:
    for table in models.metadata.sorted_tables:
        _create(op, table)


MIGRATIONS = [Migration(1, "assemblies, extracts, persons, rollouts, invitations, deliveries, "
                           "registrants, pool exports, aggregate statistics", _initial)]
