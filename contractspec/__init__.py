"""ContractSpec: a spec-first application compiler for the `.cspec` language."""

__version__ = "0.1.0"
