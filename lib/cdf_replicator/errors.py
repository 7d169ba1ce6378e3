"""The replicator's error hierarchy: catch ``ReplicatorError`` at the job boundary or the per-view isolation point.

Messages are one line, name what failed and where, and never contain secret values (client secrets, tokens).
"""

from __future__ import annotations


class ReplicatorError(Exception):
    """Base of every error the replicator raises on purpose."""


class ConfigError(ReplicatorError):
    """The configuration is invalid: unreadable file, bad YAML, unset variable, unknown key, wrong type or value.

    ``path`` is the dotted path of the failing field (``data_modeling[0].data_models[1].version``), empty when the
    problem concerns the whole file; ``origin`` names the file. The message is ``"<origin>: <path>: <problem>"``.
    """

    def __init__(self, problem: str, *, path: str = "", origin: str = "") -> None:
        self.problem = problem
        self.path = path
        self.origin = origin
        super().__init__(": ".join(part for part in (origin, path, problem) if part))

    def located(self, origin: str) -> ConfigError:
        """The same error, attributed to the file or source ``origin``."""
        return ConfigError(self.problem, path=self.path, origin=origin)


class CdfAccessError(ReplicatorError):
    """CDF cannot be used: unreachable, authentication or authorisation failed, or a configured model or view is
    unknown."""


class SchemaMappingError(ReplicatorError):
    """A view definition cannot be mapped to a table schema (for example an unknown property type)."""


class SchemaChangeError(ReplicatorError):
    """A view property changed type in a way no Delta widening covers; the view must be reprocessed."""


class CursorExpiredError(ReplicatorError):
    """CDF rejected a sync cursor as expired or invalid; the view needs a full resync."""


class StateError(ReplicatorError):
    """The cursor state store cannot be read or written, or holds something unexpected."""


class PublishError(ReplicatorError):
    """A publish snapshot could not be written or moved into place."""


class StorageError(ReplicatorError):
    """The destination storage (local folder, S3, Delta table) cannot be read or written."""
