"""`cspec.toml`: the workspace root, its spec folders, rule severities, generator settings."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_NAME = "cspec.toml"
DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024
SEVERITY_NAMES = ("error", "warning", "info", "hint", "off")


class ConfigError(Exception):
    """`cspec.toml` cannot be read or has a wrong value."""


@dataclass
class Config:
    root: Path
    path: Path | None = None
    name: str | None = None
    specs: list[str] = field(default_factory=lambda: ["."])
    rules: dict[str, str] = field(default_factory=dict)
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    generators: dict[str, Any] = field(default_factory=dict)
    output: str = "generated"

    def spec_dirs(self) -> list[Path]:
        return [(self.root / s).resolve() for s in self.specs]


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` that holds a `cspec.toml`."""
    here = start.resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return None


def load_config(root: Path) -> Config:
    """Read `root/cspec.toml`; a folder without one gets the defaults."""
    path = root / CONFIG_NAME
    config = Config(root=root.resolve())
    if not path.is_file():
        return config
    config.path = path
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: {error}") from error
    workspace = _table(data, "workspace", path)
    config.name = _typed(workspace, "name", str, path, None)
    config.specs = _typed(workspace, "specs", list, path, ["."])
    if not all(isinstance(s, str) for s in config.specs):
        raise ConfigError(f"{path}: [workspace] specs must be a list of folder names")
    config.max_file_bytes = _typed(workspace, "max_file_bytes", int, path, DEFAULT_MAX_FILE_BYTES)
    rules = _table(data, "rules", path)
    for code, severity in rules.items():
        if not isinstance(severity, str) or severity not in SEVERITY_NAMES:
            raise ConfigError(
                f"{path}: [rules] {code} must be one of {', '.join(SEVERITY_NAMES)}"
            )
        config.rules[code.upper()] = severity
    config.generators = _table(data, "generators", path)
    output = _table(data, "output", path)
    config.output = _typed(output, "dir", str, path, "generated")
    return config


def _table(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{key}] must be a table")
    return value


def _typed(table: dict[str, Any], key: str, kind: type, path: Path, default: Any) -> Any:
    value = table.get(key, default)
    if value is not default and not isinstance(value, kind):
        raise ConfigError(f"{path}: {key} must be a {kind.__name__}")
    return value
