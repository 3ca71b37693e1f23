"""One module per surface of the change analysis; each compares one module's base and
current snapshots and records its changes on the `Differ`."""

from __future__ import annotations

from collections.abc import Callable

from contractspec.evolve.differ import Differ
from contractspec.evolve.lock import Json
from contractspec.evolve.surfaces import api, database, events, other, policy, workflows

SURFACES: tuple[Callable[[Differ, str, Json, Json], None], ...] = (
    api.operations, api.enums, api.types, database.entities, events.events, policy.access,
    workflows.workflows, other.metrics, other.flags, other.jobs)
