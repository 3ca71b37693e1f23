"""Generated implementations of the standard modules' operations (see `base.py`).

`PROVIDERS` lists one provider per standard module that has one; the `api` target serves a
std operation when a provider implements it or when it is plain CRUD.
"""

from __future__ import annotations

from contractspec.generators.services.audit import AuditProvider
from contractspec.generators.services.base import ServiceInput, ServiceProvider
from contractspec.generators.services.files import FilesProvider
from contractspec.generators.services.flags import FlagsProvider
from contractspec.generators.services.identity import IdentityProvider
from contractspec.generators.services.jobs import JobsProvider
from contractspec.generators.services.learning import LearningProvider
from contractspec.generators.services.metering import MeteringProvider
from contractspec.generators.services.notifications import NotificationsProvider

PROVIDERS: tuple[ServiceProvider, ...] = (
    IdentityProvider(),
    AuditProvider(),
    JobsProvider(),
    FilesProvider(),
    FlagsProvider(),
    LearningProvider(),
    MeteringProvider(),
    NotificationsProvider(),
)

__all__ = ["PROVIDERS", "ServiceInput", "ServiceProvider"]

