"""Settings: defaults < user config < trusted workspace config < AETHER_* environment < flags.

A workspace's `.aether/config.toml` comes with the repository, so it is untrusted: the settings
that decide where code and credentials go (any `provider`, `endpoint` or URL) are taken from
it only once the user has trusted that exact file (`aether trust`, see `aether.trust`); the
variable that holds an API key and the `[security]` section are never taken from it. Until
then those keys are ignored with one clear notice, and everything else (ignores, limits,
offline settings) applies.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from aether import trust

ProviderName = Literal["static", "openai", "gemini", "anthropic"]

CONFIG_DIR = ".aether"
CONFIG_FILE = "config.toml"

DEFAULT_CONFIG_TOML = """\
# AETHER configuration. Every setting is optional; the values shown are the defaults.
# Precedence: defaults < your user config (~/.config/aether/config.toml) < this file <
# AETHER_* environment variables < command-line flags.
# This file may come with the repository, so it is not trusted: provider, endpoint and any URL
# set here are ignored until you run `aether trust` (again after every change to the file).
# api_key_env and [security] are read only from your user config, the environment or flags.

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
# Name of the environment variable that holds the API key (user config, environment or
# flags only). Keys themselves are never read from files.
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
# Spend caps, checked before each request is sent (a request that would cross one is not
# sent). Unset = no cap; 0 = never call the provider. A run is one `aether index`, or one
# lifetime of `aether watch` / `lsp` / `mcp`; a day is a UTC day.
# max_tokens_per_run = 200000
# max_tokens_per_day = 1000000
# max_cost_per_run = 1.0     # US dollars, from [pricing]
# max_cost_per_day = 5.0
# verify_retry_share = 0.5   # a model SIR with more than this share of claims not found in
#                            # the code is asked again once, with the static facts

# Prices in US dollars per million tokens; shipped defaults cover common models (dated in
# aether/guard/pricing.py). Add or override one per model:
# [pricing."gpt-4o-mini"]
# input = 0.15
# output = 0.60

[search]
# Semantic vectors from a local static-embedding model (offline, shipped with aether).
# vectors = true
# Optional: embeddings from an OpenAI-compatible /v1/embeddings endpoint instead (the local
# model stays the fallback), e.g. Ollama "nomic-embed-text" or OpenAI "text-embedding-3-small".
# embedding_endpoint = ""
# embedding_model = ""
# embedding_api_key_env = ""

[daemon]
# Memory ceiling of a running daemon (aether watch / lsp / mcp as the writer), its parse
# workers included, in MB; 0 = no ceiling. Above it the daemon gives back its caches and
# uses fewer workers; if it still cannot get under, health says so (degraded, with why).
# max_memory_mb = 1024
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


class SecuritySettings(_Section):
    # Plain http to a host other than this machine sends code and keys in the clear; only the
    # user's own configuration may allow it.
    allow_insecure_http: bool = False


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
    max_tokens_per_run: int | None = Field(default=None, ge=0)
    max_tokens_per_day: int | None = Field(default=None, ge=0)
    max_cost_per_run: float | None = Field(default=None, ge=0)
    max_cost_per_day: float | None = Field(default=None, ge=0)
    verify_retry_share: float = Field(default=0.5, ge=0, le=1)

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


class ModelPrice(_Section):
    """US dollars per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)


class SearchSettings(_Section):
    # Semantic vectors (local static embeddings, offline). Off: search is lexical only.
    vectors: bool = True
    # Optional: an OpenAI-compatible /v1/embeddings endpoint (Ollama, OpenAI, ...). Empty
    # means the local model. Sends symbol text off the machine, so it is a trust setting.
    embedding_endpoint: str = ""
    embedding_model: str = ""
    embedding_api_key_env: str = ""

    def embedding_api_key(self) -> str | None:
        env = self.embedding_api_key_env
        return (os.environ.get(env) or None) if env else None


class DaemonSettings(_Section):
    # Enforced, not counted: see aether.engine.memory for what is given back above it.
    max_memory_mb: int = Field(default=1024, ge=0)


class Settings(_Section):
    workspace: Path
    # Where the database, lock and logs live when not in `<workspace>/.aether` (see
    # `choose_state_dir`): `--state-dir`, AETHER_STATE_DIR, or a cache folder when the
    # workspace cannot be written.
    state_dir: Path | None = None
    index: IndexSettings = Field(default_factory=IndexSettings)
    inference: InferenceSettings = Field(default_factory=InferenceSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    # Not settings: what loading found, for the surfaces to say (never read from a file).
    untrusted_reason: str | None = Field(default=None, exclude=True)
    notices: list[str] = Field(default_factory=list, exclude=True)

    @property
    def untrusted_config(self) -> bool:
        """The workspace config asks for network settings the user has not trusted."""
        return self.untrusted_reason is not None
    pricing: dict[str, ModelPrice] = Field(default_factory=dict)
    search: SearchSettings = Field(default_factory=SearchSettings)

    @property
    def data_dir(self) -> Path:
        return self.state_dir or self.workspace / CONFIG_DIR

    @property
    def db_path(self) -> Path:
        return self.data_dir / "aether.db"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"


def _sections() -> dict[str, type[_Section]]:
    """The configurable sections: every field of Settings that is a section model."""
    out: dict[str, type[_Section]] = {}
    for name, field in Settings.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, _Section):
            out[name] = kind
    return out


# AETHER_<SECTION>_<KEY>, e.g. AETHER_INFERENCE_PROVIDER=openai, AETHER_INDEX_WORKERS=1
def _env_overrides() -> dict[str, dict[str, Any]]:
    sections = {name.upper(): name for name in _sections()}
    out: dict[str, dict[str, Any]] = {}
    for key, value in os.environ.items():
        if not key.startswith("AETHER_"):
            continue
        rest = key[len("AETHER_") :]
        section, _, field = rest.partition("_")
        if section in sections and field:
            name = field.lower()
            parsed: Any = value
            if name == "exclude":
                parsed = [p for p in value.split(",") if p]
            out.setdefault(sections[section], {})[name] = parsed
    return out


DATA_DIR_GITIGNORE = "# Created by aether: its index, logs and settings are never committed.\n*\n"


def ensure_data_dir(path: Path) -> bool:
    """Create the data folder with its own `.gitignore` (`*`), so the store, logs and config
    are never committed by accident. True if it was created now."""
    if path.is_dir():
        return False
    path.mkdir(parents=True, exist_ok=True)
    try:
        with (path / ".gitignore").open("x", encoding="utf-8") as fh:
            fh.write(DATA_DIR_GITIGNORE)
    except FileExistsError:
        pass
    return True


def ensure_config_file(workspace: Path) -> Path:
    """Create `.aether/config.toml` with commented defaults if missing; never overwrite.
    A workspace that cannot be written simply gets no file."""
    path = workspace / CONFIG_DIR / CONFIG_FILE
    if not path.exists():
        try:
            ensure_data_dir(path.parent)
            with path.open("x", encoding="utf-8") as fh:
                fh.write(DEFAULT_CONFIG_TOML)
        except FileExistsError:
            pass  # another process created it first: theirs wins
        except OSError:
            pass  # read-only workspace: defaults apply, state goes elsewhere
    return path


STATE_DIR_ENV = "AETHER_STATE_DIR"


def _writable_dir(path: Path) -> bool:
    """Can files be created in `path` (or, if it does not exist, in its nearest parent)?"""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)


def choose_state_dir(workspace: Path, explicit: str | Path | None = None) -> Path | None:
    """None means `<workspace>/.aether`. Otherwise: the flag or AETHER_STATE_DIR; else, when
    the workspace cannot be written and holds no database to serve read-only, a folder under
    `$XDG_CACHE_HOME/aether/` named by a hash of the workspace path."""
    chosen = explicit or os.environ.get(STATE_DIR_ENV)
    if chosen:
        return Path(chosen).expanduser().resolve()
    local = workspace / CONFIG_DIR
    if _writable_dir(local) or (local / "aether.db").exists():
        return None
    import hashlib

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha256(str(workspace).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return cache / "aether" / f"{workspace.name or 'root'}-{digest}"


def _format_validation_error(err: ValidationError, source: str) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first.get("loc", ()))
    return f"{source}: {loc}: {first.get('msg', 'invalid value')}"


# Keys that decide where data goes: taken from a workspace file only once it is trusted.
def _is_network_key(key: str) -> bool:
    return key in ("provider", "endpoint") or key.endswith(("_provider", "_endpoint", "_url"))


# Keys that decide what may be spent (caps, prices): a cloned repository must not raise a cap
# or price a model at 0, so these too come from a workspace file only once it is trusted.
def _is_spend_key(section: str, key: str) -> bool:
    return section == "pricing" or (
        section == "inference" and key.startswith(("max_tokens_per_", "max_cost_per_")))


# Tables that are not sections of settings: name -> what they hold.
_TABLES = {"pricing": "prices per model"}


# Keys a workspace file may never set, trusted or not: which variable holds a key, and the
# security switches.
def _is_user_only(section: str, key: str) -> bool:
    return section == "security" or key == "api_key_env" or key.endswith("_key_env")


def network_settings(data: dict[str, Any]) -> dict[str, Any]:
    """`section.key -> value` of the settings in a config file's data that decide where code
    and keys are sent (what trusting the file would allow)."""
    return {f"{section}.{key}": value for section, values in data.items()
            if isinstance(values, dict) for key, value in values.items()
            if _is_network_key(key) or _is_spend_key(section, key)}


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    unknown = sorted(k for k in data if k not in _sections() and k not in _TABLES)
    if unknown:
        raise ConfigError(f"{path}: unknown section or key: {', '.join(unknown)}")
    for name, value in data.items():
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: [{name}] must be a table")
    return data


def _validated(root: Path, data: dict[str, Any], source: str) -> Settings:
    try:
        return Settings(workspace=root, **data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, source)) from None
    except TypeError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _merge(base: dict[str, Any], layer: dict[str, Any]) -> None:
    for section, values in layer.items():
        clean = {k: v for k, v in values.items() if v is not None}
        if clean:
            base.setdefault(section, {}).update(clean)


def is_loopback_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def _check_urls(settings: Settings, sources: str) -> None:
    """Every endpoint/URL setting is a URL, and https unless it points at this machine."""
    for section in _sections():
        values = getattr(settings, section).model_dump()
        for key, value in values.items():
            if not isinstance(value, str) or not value or not (
                    key.endswith(("endpoint", "_url"))):
                continue
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError(f"{section}.{key} = {value!r} is not a URL "
                                  f"(expected http(s)://host[:port]/path; from {sources})")
            if (parts.scheme == "http" and not is_loopback_url(value)
                    and not settings.security.allow_insecure_http):
                raise ConfigError(
                    f"{section}.{key} = {value!r} would send code and keys over plain http to "
                    "another machine; use https, or set allow_insecure_http = true under "
                    f"[security] in your user config ({trust.user_config_path()})")


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
    state_dir = choose_state_dir(root, (overrides or {}).get("state", {}).get("dir"))
    overrides = {k: v for k, v in (overrides or {}).items() if k != "state"}
    create = create and state_dir is None  # a state dir elsewhere: the workspace stays as is
    notices: list[str] = []
    if create and not (root / CONFIG_DIR).is_dir():
        notices.append(f"created {CONFIG_DIR}/ for the index, logs and settings "
                       f"({CONFIG_DIR}/.gitignore keeps it out of git)")
    path = ensure_config_file(root) if create else root / CONFIG_DIR / CONFIG_FILE
    user_path = trust.user_config_path()
    user = _read_toml(user_path)
    ws = _read_toml(path)
    _validated(root, user, str(user_path))
    _validated(root, ws, str(path))  # a typo is reported even in keys that are ignored

    ignored: list[str] = []
    gated: list[str] = []
    kept: dict[str, dict[str, Any]] = {}
    for section, values in ws.items():
        for key, value in values.items():
            name = f"{section}.{key}"
            if _is_user_only(section, key):
                ignored.append(name)
            elif _is_network_key(key) or _is_spend_key(section, key):
                gated.append(name)
            else:
                kept.setdefault(section, {})[key] = value
    if ignored:
        notices.append(f"{path} sets {', '.join(ignored)}, which only your user config "
                       f"({user_path}), the environment or flags may set: ignored")
    untrusted_reason = None
    if gated:
        if trust.is_trusted(path):
            for name in gated:
                section, _, key = name.partition(".")
                kept.setdefault(section, {})[key] = ws[section][key]
        else:
            untrusted_reason = (
                f"{path} sets {', '.join(gated)}, which decide where code and keys are sent "
                "or what may be spent; ignored until you trust this file with `aether trust`")
            notices.append(untrusted_reason)

    data: dict[str, Any] = {}
    for layer in (user, kept, _env_overrides(), overrides or {}):
        _merge(data, layer)
    settings = _validated(root, data, "settings (user config, workspace config, "
                                      "AETHER_* environment, flags)")
    _check_urls(settings, "user config, trusted workspace config, environment or flags")
    settings.untrusted_reason = untrusted_reason
    settings.state_dir = state_dir
    settings.notices = notices
    return settings
