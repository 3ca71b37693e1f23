"""Every check, one module per family; importing this package registers them all."""

from contractspec.check.rules import (  # noqa: F401  (each module registers its rules)
    events,
    names,
    policy,
    releases,
    stdlib,
    syntax,
    types,
    views,
    workflows,
)
