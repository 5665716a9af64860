"""Test doubles that implement the real Provider interface (no patching of internals)."""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from pathlib import Path

from aether.providers.base import SirRequest
from aether.providers.errors import ProviderError, TransientError
from aether.sir.model import Sir
from aether.trust import trust


class ScriptedProvider:
    """A provider whose answers the test decides: ok, or raise a given error."""

    name = "scripted"
    model = "test-model"

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()  # qualified_name -> attempts
        self.fail_with: ProviderError | None = None
        self.version = 1

    async def generate(self, request: SirRequest) -> Sir:
        self.calls[request.qualified_name] += 1
        if self.fail_with is not None:
            raise self.fail_with
        return Sir(intent=f"Summary of {request.qualified_name} v{self.version}.",
                   inputs=["x"], confidence=0.9)

    async def aclose(self) -> None:
        pass

    def fail(self, message: str = "upstream timed out") -> None:
        self.fail_with = TransientError(message)


def trusted_config(root: Path, section: str, settings: dict[str, object]) -> Path:
    """Write the workspace's `.aether/config.toml` and trust it, as a user who chose that
    provider would (`aether trust`): the test's own state folder records it."""
    lines = [f"[{section}]"] + [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    path = write(root, ".aether/config.toml", "\n".join(lines) + "\n")
    trust(path)
    return path


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


SAMPLE_PY = '''
import os
import httpx


class Session:
    """An HTTP session that keeps cookies between requests."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url
        self.timeout = timeout

    def send(self, path: str, payload: dict | None = None) -> dict:
        """Send a request and return the decoded JSON body."""
        response = httpx.post(self.base_url + path, json=payload, timeout=self.timeout)
        if response.status_code >= 400:
            raise RuntimeError(f"request failed: {response.status_code}")
        return response.json()


def load_token(name: str) -> str:
    """Read an API token from the environment."""
    value = os.environ.get(name)
    if value is None:
        raise KeyError(name)
    return value
'''
