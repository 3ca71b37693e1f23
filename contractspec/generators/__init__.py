"""Generators: pure functions from the IR to files (`{relative path: bytes}`).

See `base.py` for the protocol and the registry; each target is a subpackage.
"""
