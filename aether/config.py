"""Settings: defaults < .aether/config.toml < AETHER_* environment < command-line flags."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

ProviderName = Literal["static", "openai", "gemini", "anthropic"]

CONFIG_DIR = ".aether"
CONFIG_FILE = "config.toml"

DEFAULT_CONFIG_TOML = """\
# AETHER configuration. Every setting is optional; the values shown are the defaults.
# Precedence: these defaults < this file < AETHER_* environment variables < command-line flags.

[index]
# Files larger than this are skipped (recorded in the errors table).
# max_file_bytes = 1048576
# Give up on parsing a single file after this many seconds.
# parse_timeout_s = 5.0
# Worker processes for a cold index (0 = one per core).
# workers = 0
# Extra gitignore-style patterns never to index (on top of .gitignore and .aetherignore).
# exclude = []

[inference]
# static (offline, default) | openai (any OpenAI-compatible endpoint) | gemini | anthropic
# provider = "static"
# model = ""
# endpoint = ""            # e.g. "http://127.0.0.1:11434/v1" for Ollama
# Name of the environment variable that holds the API key. Keys are never read from files.
# api_key_env = ""
# max_concurrency = 2
# requests_per_minute = 60
# timeout_s = 30.0           # per attempt
# deadline_s = 120.0         # per symbol, all attempts included
# max_attempts = 4
# backoff_base_s = 0.5
# backoff_cap_s = 30.0
# breaker_threshold = 5      # consecutive failures that open the circuit
# breaker_cooldown_s = 30.0
# context_budget_chars = 6000
# retry_stale_s = 60.0       # daemons retry failed symbols after this, backing off
"""


# Used when `inference.api_key_env` is empty.
DEFAULT_API_KEY_ENV = {
    "openai": "OPENAI_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
}


class ConfigError(Exception):
    """The configuration cannot be used; the message is one line, fit for a user."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class IndexSettings(_Section):
    max_file_bytes: int = Field(default=1024 * 1024, gt=0)
    parse_timeout_s: float = Field(default=5.0, gt=0)
    workers: int = Field(default=0, ge=0, le=64)
    exclude: list[str] = Field(default_factory=list)


class InferenceSettings(_Section):
    provider: ProviderName = "static"
    model: str = ""
    endpoint: str = ""
    api_key_env: str = ""
    max_concurrency: int = Field(default=2, ge=1, le=64)
    requests_per_minute: float = Field(default=60.0, gt=0)
    timeout_s: float = Field(default=30.0, gt=0)
    deadline_s: float = Field(default=120.0, gt=0)
    max_attempts: int = Field(default=4, ge=1, le=20)
    backoff_base_s: float = Field(default=0.5, ge=0)
    backoff_cap_s: float = Field(default=30.0, ge=0)
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_cooldown_s: float = Field(default=30.0, ge=0)
    context_budget_chars: int = Field(default=6000, ge=0)
    # A daemon retries failed symbols on its own after this long, doubling while they keep
    # failing (capped at 32x), so an outage heals without anyone touching a file.
    retry_stale_s: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _coherent(self) -> InferenceSettings:
        if self.backoff_cap_s < self.backoff_base_s:
            raise ValueError("backoff_cap_s must be >= backoff_base_s")
        if self.deadline_s < self.timeout_s:
            raise ValueError("deadline_s must be >= timeout_s")
        return self

    def key_env(self) -> str:
        """Name of the variable that holds the key: `api_key_env`, else the provider's usual."""
        return self.api_key_env or DEFAULT_API_KEY_ENV.get(self.provider, "")

    def api_key(self) -> str | None:
        """The API key, from the environment only (never from a file)."""
        env = self.key_env()
        return (os.environ.get(env) or None) if env else None


class Settings(_Section):
    workspace: Path
    index: IndexSettings = Field(default_factory=IndexSettings)
    inference: InferenceSettings = Field(default_factory=InferenceSettings)

    @property
    def data_dir(self) -> Path:
        return self.workspace / CONFIG_DIR

    @property
    def db_path(self) -> Path:
        return self.data_dir / "aether.db"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"


# AETHER_<SECTION>_<KEY>, e.g. AETHER_INFERENCE_PROVIDER=openai, AETHER_INDEX_WORKERS=1
_ENV_SECTIONS = {"INDEX": "index", "INFERENCE": "inference"}


def _env_overrides() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key, value in os.environ.items():
        if not key.startswith("AETHER_"):
            continue
        rest = key[len("AETHER_") :]
        section, _, field = rest.partition("_")
        if section in _ENV_SECTIONS and field:
            name = field.lower()
            parsed: Any = value
            if name == "exclude":
                parsed = [p for p in value.split(",") if p]
            out.setdefault(_ENV_SECTIONS[section], {})[name] = parsed
    return out


def ensure_config_file(workspace: Path) -> Path:
    """Create `.aether/config.toml` with commented defaults if missing; never overwrite."""
    path = workspace / CONFIG_DIR / CONFIG_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("x", encoding="utf-8") as fh:
                fh.write(DEFAULT_CONFIG_TOML)
        except FileExistsError:
            pass  # another process created it first: theirs wins
    return path


def _format_validation_error(err: ValidationError, source: str) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first.get("loc", ()))
    return f"{source}: {loc}: {first.get('msg', 'invalid value')}"


def load_settings(
    workspace: Path | str,
    overrides: dict[str, dict[str, Any]] | None = None,
    *,
    create: bool = True,
) -> Settings:
    """Read the layered settings for `workspace`; raises ConfigError with a one-line message."""
    root = Path(workspace).expanduser()
    if not root.is_dir():
        raise ConfigError(f"no such workspace directory: {root}")
    root = root.resolve()
    path = ensure_config_file(root) if create else root / CONFIG_DIR / CONFIG_FILE
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    for layer in (_env_overrides(), overrides or {}):
        for section, values in layer.items():
            clean = {k: v for k, v in values.items() if v is not None}
            if clean:
                data.setdefault(section, {}).update(clean)
    try:
        return Settings(workspace=root, **data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, str(path))) from None
    except TypeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
