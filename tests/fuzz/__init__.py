"""Fuzzing the compiler: generated valid specs, mutated repository specs, and the properties
every input must keep (docs/reliability.md). `python -m tests.fuzz` runs the long mode."""
