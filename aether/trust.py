"""Which workspace configuration files the user has trusted, like direnv's `allow`.

A cloned repository is untrusted: its `.aether/config.toml` must not decide where code and
credentials go until the user says so. `aether trust` records the file's SHA-256 in the user's
own state (`$XDG_STATE_HOME/aether/trusted.json`, outside every repository); any change to
the file changes the hash, so it needs trusting again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TRUST_FILE = "trusted.json"


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var, "").strip()
    return Path(value) if value and os.path.isabs(value) else Path.home() / fallback


def user_config_path() -> Path:
    """The user's own configuration: `$XDG_CONFIG_HOME/aether/config.toml`."""
    return _xdg("XDG_CONFIG_HOME", ".config") / "aether" / "config.toml"


def trust_store_path() -> Path:
    return _xdg("XDG_STATE_HOME", ".local/state") / "aether" / TRUST_FILE


def file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _load() -> dict[str, Any]:
    try:
        data = json.loads(trust_store_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(data: dict[str, Any]) -> None:
    path = trust_store_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def _key(path: Path) -> str:
    return str(path.expanduser().resolve())


def is_trusted(path: Path) -> bool:
    """The file as it is now was trusted by the user (same path, same content)."""
    entry = _load().get(_key(path))
    digest = file_digest(path)
    return isinstance(entry, dict) and digest is not None and entry.get("sha256") == digest


def trust(path: Path) -> str:
    """Record the file's current content as trusted; returns its SHA-256."""
    digest = file_digest(path)
    if digest is None:
        raise FileNotFoundError(f"no configuration file at {path}")
    data = _load()
    now = datetime.now(UTC).isoformat(timespec="seconds")
    data[_key(path)] = {"sha256": digest, "trusted_at": now}
    _save(data)
    return digest


def revoke(path: Path) -> bool:
    """Forget the file; True if it was trusted before."""
    data = _load()
    found = data.pop(_key(path), None) is not None
    if found:
        with contextlib.suppress(OSError):
            _save(data)
    return found
