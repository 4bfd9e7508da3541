"""Read and write region.toml (the format RegionConfig.load reads) without losing settings.

tomllib only reads; the chart's region files hold scalars, lists of scalars and one table
per plugin, so a small writer for exactly that shape is enough and keeps the dependency list
short.
"""
from __future__ import annotations

import json
import re
import tomllib
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
HEADER = ("# Rendered by Helm from the release's values; `kleroterion ops plugins` may edit it "
          "live.\n")


class RegionFileError(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def parse(text: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegionFileError("region.toml", f"is not valid TOML ({exc})") from None
    enabled = data.get("enabled_plugins", [])
    if not isinstance(enabled, list) or not all(isinstance(p, str) for p in enabled):
        raise RegionFileError("enabled_plugins", "must be a list of plugin names")
    return data


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def _value(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # A JSON string is a valid TOML basic string (same escapes, \uXXXX included).
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v, where) for v in value) + "]"
    raise RegionFileError(where, f"cannot write a {type(value).__name__} to region.toml")


def dump(data: dict[str, Any]) -> str:
    lines = [HEADER.rstrip("\n")]
    tables = {}
    for key, value in data.items():
        if isinstance(value, dict):
            tables[key] = value
        else:
            lines.append(f"{_key(key)} = {_value(value, key)}")
    for name, table in tables.items():
        _dump_table([name], table, lines)
    return "\n".join(lines) + "\n"


def _dump_table(path: list[str], table: dict[str, Any], lines: list[str]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
    subtables = {k: v for k, v in table.items() if isinstance(v, dict)}
    if scalars or not subtables:
        lines.append("")
        lines.append("[" + ".".join(_key(p) for p in path) + "]")
        for key, value in scalars.items():
            lines.append(f"{_key(key)} = {_value(value, '.'.join(path + [key]))}")
    for key, sub in subtables.items():
        _dump_table(path + [key], sub, lines)


def enable(text: str, plugin: str) -> tuple[str, bool]:
    """region.toml with ``plugin`` enabled, and whether anything changed."""
    data = parse(text)
    enabled = list(data.get("enabled_plugins", []))
    if plugin in enabled:
        return text, False
    data["enabled_plugins"] = enabled + [plugin]
    return dump(data), True


def disable(text: str, plugin: str) -> tuple[str, bool]:
    """region.toml without ``plugin`` (also out of channel_order; its settings are kept so
    that enabling it again restores them)."""
    data = parse(text)
    enabled = list(data.get("enabled_plugins", []))
    if plugin not in enabled:
        return text, False
    data["enabled_plugins"] = [p for p in enabled if p != plugin]
    if plugin in data.get("channel_order", []):
        data["channel_order"] = [c for c in data["channel_order"] if c != plugin]
    return dump(data), True
