"""A cloned repository is untrusted (issue 10): its config cannot send code or keys anywhere
until the user trusts it, hard-coded credentials never leave in a prompt nor land in the store,
and a provider echoing a key back cannot get it into errors or logs.

Everything runs through the real CLI, MCP and LSP processes against the fake provider on
127.0.0.1, which records every request it receives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from aether.config import DATA_DIR_GITIGNORE
from tests.fakeprovider import FakeProvider
from tests.helpers import write
from tests.test_lsp import eventually, lsp
from tests.test_mcp import connect, ok

REPO = Path(__file__).resolve().parent.parent
GITHUB_TOKEN = "ghp_Zq8Xw2Lm4Nv6Bc0Rt1Yu3Io5Pa7Sd9Fg2Hj4"

# One value per key format, all invented; each must reach neither a request nor the store.
SECRETS = {
    "openai": "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c",
    "anthropic": "sk-ant-api03-Hq2Wm9Zx4Cv7Bn1Lk8Jh5Gf3Ds6Ap0Oi",
    "google": "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI",
    "aws": "AKIAQ3EGRTYU7SXWPL4M",
    "github": GITHUB_TOKEN,
    "gitlab": "glpat-Xk3Mq8Vz2Nw5Rb7Ty1Lp",
    "slack": "xoxb-2418563970-Q8wErTyUiOp",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZXRoZXItdGVzdCJ9.Zk3Lq8Vm2Nx5Rb7Ty1Lp4Wc6",
    "password": "Tr0ub4dor-and-3-horses",
    "entropy": "Q2x5aGVyZV9pc19yYW5kb21fZW5vdWdoXzQ4OTE3MjM1",
    "pem": "MIIEowIBAAKCAQEAx8Vn3Kq2Lm7Zp4Rt",
}

LEAKY_PY = f'''
import os


def connect(host):
    """Connect with the service key {SECRETS["openai"]} (rotate it yearly)."""
    aws = "{SECRETS["aws"]}"
    headers = {{"Authorization": "Bearer {SECRETS["github"]}", "x": "{SECRETS["gitlab"]}"}}
    slack = "{SECRETS["slack"]}"
    session = "{SECRETS["jwt"]}"
    password = "{SECRETS["password"]}"
    blob = "{SECRETS["entropy"]}"
    google = "{SECRETS["google"]}"
    key = """-----BEGIN RSA PRIVATE KEY-----
{SECRETS["pem"]}
-----END RSA PRIVATE KEY-----"""
    os.environ["X"] = aws + slack + session + password + blob + google + key
    return "{SECRETS["anthropic"]}"
'''


def aether(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aether", *args], capture_output=True,
                          text=True, timeout=120, cwd=str(REPO),
                          env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})


def fake_config(root: Path, fake: FakeProvider, **extra: Any) -> Path:
    settings = {"provider": "openai", "endpoint": fake.endpoint("openai"), "model": "fake-1",
                "max_attempts": 1, "timeout_s": 5.0, "deadline_s": 5.0,
                "breaker_threshold": 100, "requests_per_minute": 100_000.0, **extra}
    lines = ["[inference]"] + [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    return write(root, ".aether/config.toml", "\n".join(lines) + "\n")


def forget_index(root: Path) -> None:
    """Start over: a fresh index, so every symbol needs a SIR from the provider now set."""
    for path in (root / ".aether").glob("aether.db*"):
        path.unlink()


def status(root: Path) -> dict[str, Any]:
    res = aether("status", "--workspace", str(root), "--json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def stored_bytes(root: Path) -> bytes:
    """Everything AETHER wrote under .aether/: the database with its WAL, and the logs."""
    return b"".join(p.read_bytes() for p in sorted((root / ".aether").rglob("*"))
                    if p.is_file() and p.name != "config.toml")


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(default="ok") as fp:
        yield fp


# ---------------------------------------------------------------------------- trust


def test_untrusted_config_sends_nothing_until_trusted_and_again_after_a_change(
        workspace: Path, fake: FakeProvider) -> None:
    config = fake_config(workspace, fake)
    res = aether("index", "--workspace", str(workspace))
    assert res.returncode == 0, res.stderr
    assert fake.count == 0  # the repository's endpoint was not used
    assert "not trusted" not in res.stdout
    assert "inference.provider, inference.endpoint" in res.stderr
    assert "aether trust" in res.stderr
    view = status(workspace)
    assert view["untrusted_config"] is True and "aether trust" in view["untrusted_reason"]
    assert view["provider"] == "static"

    res = aether("trust", "--show", "--workspace", str(workspace))
    assert res.returncode == 1 and "NOT trusted" in res.stdout
    assert fake.endpoint("openai") in res.stdout  # the user sees where data would go
    res = aether("trust", "--workspace", str(workspace))
    assert res.returncode == 0, res.stderr
    assert "trusted" in res.stdout and fake.endpoint("openai") in res.stdout
    view = status(workspace)
    assert view["untrusted_config"] is False and view["provider"] == "openai"
    forget_index(workspace)
    res = aether("index", "--workspace", str(workspace), "--json")
    assert res.returncode == 0, res.stderr
    assert fake.count == 4  # now every symbol was sent
    assert json.loads(res.stdout)["sir_ok"] == 4

    # Any change to the file (here: only a comment) needs trusting again.
    config.write_text(config.read_text() + "# changed\n")
    (workspace / "pkg/session.py").write_text(
        (workspace / "pkg/session.py").read_text().replace("raise KeyError(name)", "return ''"))
    res = aether("index", "--workspace", str(workspace))
    assert res.returncode == 0, res.stderr
    assert fake.count == 4
    assert status(workspace)["untrusted_config"] is True
    res = aether("trust", "--revoke", "--workspace", str(workspace))
    assert res.returncode == 0 and "no longer trusted" in res.stdout
    res = aether("trust", "--revoke", "--workspace", str(workspace))
    assert res.returncode == 0 and "was not trusted" in res.stdout


def test_workspace_never_chooses_the_key_variable(workspace: Path, fake: FakeProvider) -> None:
    config = fake_config(workspace, fake, api_key_env="GITHUB_TOKEN")
    assert aether("trust", "--workspace", str(workspace)).returncode == 0
    env = {"GITHUB_TOKEN": GITHUB_TOKEN, "OPENAI_API_KEY": ""}
    res = aether("index", "--workspace", str(workspace), env=env)
    assert res.returncode == 0, res.stderr
    assert "inference.api_key_env" in res.stderr and "ignored" in res.stderr
    assert fake.count == 4  # trusted: the loopback endpoint is used, with no key at all
    for request in fake.requests():
        assert GITHUB_TOKEN not in json.dumps(request.headers)
        assert "authorization" not in request.headers
    assert config.exists()


def test_plain_http_to_another_host_is_refused_unless_the_user_allows_it(
        workspace: Path, user_dirs: Path) -> None:
    remote = "http://203.0.113.9:8080/v1"
    res = aether("status", "--workspace", str(workspace),
                 env={"AETHER_INFERENCE_PROVIDER": "openai", "AETHER_INFERENCE_ENDPOINT": remote})
    assert res.returncode == 2
    assert "plain http" in res.stderr and "allow_insecure_http" in res.stderr
    assert res.stderr.count("\n") == 1

    res = aether("status", "--workspace", str(workspace),
                 env={"AETHER_INFERENCE_ENDPOINT": "not-a-url"})
    assert res.returncode == 2 and "is not a URL" in res.stderr

    # A workspace file cannot lift the rule, trusted or not ...
    write(workspace, ".aether/config.toml", "[security]\nallow_insecure_http = true\n")
    assert aether("trust", "--workspace", str(workspace)).returncode == 0
    res = aether("status", "--workspace", str(workspace),
                 env={"AETHER_INFERENCE_PROVIDER": "openai", "AETHER_INFERENCE_ENDPOINT": remote})
    assert res.returncode == 2 and "plain http" in res.stderr
    # ... the user's own config can.
    write(user_dirs / "config", "aether/config.toml", "[security]\nallow_insecure_http = true\n")
    res = aether("status", "--workspace", str(workspace), "--json",
                 env={"AETHER_INFERENCE_PROVIDER": "openai", "AETHER_INFERENCE_ENDPOINT": remote})
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["provider"] == "openai"


def test_data_folder_is_ignored_by_git_and_said_once(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    write(root, "a.py", "def f():\n    return 1\n")
    first = aether("index", "--workspace", str(root))
    assert first.returncode == 0, first.stderr
    assert ".gitignore keeps it out of git" in first.stderr
    assert (root / ".aether/.gitignore").read_text() == DATA_DIR_GITIGNORE
    second = aether("index", "--workspace", str(root))
    assert ".gitignore" not in second.stderr
    if subprocess.run(["git", "--version"], capture_output=True).returncode == 0:
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        listed = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                 "--untracked-files=all"], capture_output=True, text=True)
        assert listed.stdout.strip() == "?? a.py"


async def test_mcp_and_lsp_say_the_config_is_untrusted(workspace: Path,
                                                       fake: FakeProvider) -> None:
    fake_config(workspace, fake)
    async with connect(workspace) as session:
        data = await ok(session, "aether_status", {"wait_s": 30})
        assert data["untrusted_config"] is True
        assert "aether trust" in data["untrusted_reason"]
        assert data["provider"] == "static"
    async with lsp(workspace) as s:
        messages = s.client.messages
        await eventually(lambda: any("aether trust" in m.message for m in messages))
        warning = next(m for m in messages if "aether trust" in m.message)
        assert warning.type == types.MessageType.Warning
        await s.idle()
    assert fake.count == 0


# ---------------------------------------------------------------------------- secrets


def _assert_no_secret(blob: bytes | str, where: str) -> None:
    text = blob.decode("utf-8", errors="replace") if isinstance(blob, bytes) else blob
    for name, value in SECRETS.items():
        assert value not in text, f"{name} secret found in {where}"


def test_hard_coded_credentials_never_reach_the_store_or_a_prompt(
        workspace: Path, fake: FakeProvider) -> None:
    write(workspace, "pkg/leaky.py", LEAKY_PY)
    # The static SIRs (intent from the docstring, the returned literal) are masked...
    res = aether("index", "--workspace", str(workspace))
    assert res.returncode == 0, res.stderr
    _assert_no_secret(stored_bytes(workspace), "the store after a static index")
    view = status(workspace)
    assert view["redacted_symbol_count"] == 1 and view["redaction_count"] >= 1
    found = aether("search", "sk-live", "--workspace", str(workspace))
    _assert_no_secret(found.stdout, "search results")

    # ... and so is what a model is sent, and what it answers.
    fake_config(workspace, fake)
    assert aether("trust", "--workspace", str(workspace)).returncode == 0
    forget_index(workspace)
    res = aether("index", "--workspace", str(workspace))
    assert res.returncode == 0, res.stderr
    bodies = [json.dumps(r.body) for r in fake.requests()]
    assert len(bodies) == 5
    connect_prompt = next(b for b in bodies if "Qualified name: connect" in b)
    for body in bodies:
        _assert_no_secret(body, "a request body")
    assert "[redacted" in connect_prompt and "password = \\\"***\\\"" in connect_prompt
    assert "def connect(host)" in connect_prompt  # the code itself still goes
    _assert_no_secret(stored_bytes(workspace), "the store after a model index")
    assert status(workspace)["redaction_count"] >= 10


@pytest.mark.parametrize("echo", ["echoupper", "echosplit"])
async def test_a_key_echoed_back_in_any_form_is_scrubbed(workspace: Path, echo: str) -> None:
    key = "sk-proj-Mk2Xq9Zw4Vb7Nc1Lp8Rt5Ys3"
    with FakeProvider(default=echo) as fake:
        fake_config(workspace, fake, max_attempts=1)
        assert aether("trust", "--workspace", str(workspace)).returncode == 0
        res = aether("index", "--workspace", str(workspace), "--verbose",
                     env={"OPENAI_API_KEY": key})
        assert res.returncode == 0, res.stderr
        assert fake.count == 1  # a 401 stops the provider for the run after one request
        assert key in json.dumps(fake.requests()[0].headers)  # it was sent, as it must be
        async with connect(workspace) as session:
            view = await ok(session, "aether_get_sir", {"qualified_name": "load_token"})
    pieces = {key, key.upper(), key[:len(key) // 2], key[len(key) // 2:]}
    written = stored_bytes(workspace).decode("utf-8", errors="replace")
    for piece in pieces:
        for where, text in (("stdout", res.stdout), ("stderr", res.stderr),
                            ("the store and logs", written)):
            assert piece not in text and piece.upper() not in text, f"{piece!r} in {where}"
    assert view["sir"] is None and view["last_error"]
    for text in (view["last_error"], view["warning"]):
        assert "\x1b" not in text and "\n" not in text and len(text) <= 400
        assert all(p not in text for p in pieces)
