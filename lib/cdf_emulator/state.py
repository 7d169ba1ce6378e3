"""One emulated CDF project: every store, and the router over their endpoints."""

from __future__ import annotations

from cdf_emulator import extpipes, instances, raw, schema, sync, timeseries
from cdf_emulator.clock import Clock
from cdf_emulator.routing import Router


class ProjectState:
    """All data of the emulated project. Stores keep their own locks; ``reset`` is a new ProjectState."""

    def __init__(self, clock: Clock, cursor_ttl_s: float) -> None:
        self.clock = clock
        self.cursor_ttl_s = cursor_ttl_s
        self.schema = schema.SchemaStore(clock)
        self.instances = instances.InstanceStore(clock, self.schema, cursor_ttl_s)
        self.raw = raw.RawStore(clock)
        self.extpipes = extpipes.ExtpipeStore(clock)
        self.timeseries = timeseries.TimeSeriesStore(clock)


def build_router(state: ProjectState) -> Router:
    """Every project-scoped endpoint (paths relative to ``/api/v1/projects/{project}``)."""
    router = Router()
    schema.register(router, state)
    instances.register(router, state)
    sync.register(router, state)
    raw.register(router, state)
    extpipes.register(router, state)
    timeseries.register(router, state)
    return router
