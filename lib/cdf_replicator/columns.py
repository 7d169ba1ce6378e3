"""Column names of the replicated tables: the one place that spells them.

System columns keep CDF's names. Replication metadata columns start with ``_``, which no CDF property identifier
can (identifiers start with a letter), so the two never collide.

A view property becomes a column named by its identifier, except where that identifier equals a system column
name, ignoring case (CogniteTimeSeries and CogniteAsset both have a ``type`` property, for example): such a
property is written as ``<identifier>_``. Property identifiers cannot end with ``_``, so the renamed column can
never collide with another property. The comparison ignores case because Spark and Delta resolve column names
case-insensitively by default.
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["nodes", "edges"]

SPACE = "space"
EXTERNAL_ID = "externalId"
INSTANCE_TYPE = "instanceType"
VERSION = "version"
CREATED_TIME = "createdTime"
LAST_UPDATED_TIME = "lastUpdatedTime"
TYPE = "type"
START_NODE = "startNode"
END_NODE = "endNode"

# Fields of a reference to an instance: node/edge type, edge endpoints, direct relations.
REF_SPACE = "space"
REF_EXTERNAL_ID = "externalId"

REPLICATED_AT = "_replicatedAt"
# Batch-only: marks tombstones for the MERGE. Never stored in a table.
DELETED = "_deleted"

KEY_COLUMNS: tuple[str, ...] = (SPACE, EXTERNAL_ID)

_COMMON_SYSTEM_COLUMNS: tuple[str, ...] = (SPACE, EXTERNAL_ID, INSTANCE_TYPE, VERSION, CREATED_TIME, LAST_UPDATED_TIME)
NODE_SYSTEM_COLUMNS: tuple[str, ...] = (*_COMMON_SYSTEM_COLUMNS, TYPE)
EDGE_SYSTEM_COLUMNS: tuple[str, ...] = (*_COMMON_SYSTEM_COLUMNS, TYPE, START_NODE, END_NODE)

# Every system column of either kind: a property gets the same column name in node and edge tables.
_RESERVED_LOWER = frozenset(name.lower() for name in EDGE_SYSTEM_COLUMNS)


def system_columns(kind: Kind) -> tuple[str, ...]:
    """The system columns of a nodes or edges table, in table order."""
    if kind == "nodes":
        return NODE_SYSTEM_COLUMNS
    if kind == "edges":
        return EDGE_SYSTEM_COLUMNS
    raise ValueError(f"kind must be 'nodes' or 'edges', not {kind!r}")


def property_column(identifier: str) -> str:
    """The column name of a view property: its identifier, with ``_`` appended when it names a system column."""
    if identifier.lower() in _RESERVED_LOWER:
        return identifier + "_"
    return identifier
