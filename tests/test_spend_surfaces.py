"""Spend caps and verification as the MCP and LSP clients see them (real stdio servers)."""

from __future__ import annotations

import json
from pathlib import Path

from lsprotocol import types

from aether.trust import trust
from tests.fakeprovider import FakeProvider
from tests.test_lsp import _fake_config, _line_of, eventually, lsp
from tests.test_mcp import configure_openai, connect, ok, wait_idle

CLAIMS_A_DATABASE = json.dumps({
    "intent": "Keeps cookies between calls.", "inputs": [], "outputs": [], "confidence": 0.9,
    "side_effects": ["queries the database for cookies"], "dependencies": [],
    "error_modes": []})


async def test_mcp_get_sir_returns_verification_and_status_the_spend(workspace: Path) -> None:
    with FakeProvider(default="ok") as fake:
        fake.push_answer(CLAIMS_A_DATABASE)  # the first request's answer, whichever symbol
        configure_openai(workspace, fake, max_concurrency=1, max_tokens_per_day=10_000_000)
        async with connect(workspace) as session:
            status = await wait_idle(session)
            assert status["unverified_count"] == 1
            spend = status["spend"]
            assert spend["today_tokens"] == fake.reported_tokens() > 0
            assert spend["left"]["tokens_today"] == 10_000_000 - spend["today_tokens"]
            assert spend["cap_reached"] is None
            views = [await ok(session, "aether_get_sir", {"qualified_name": name})
                     for name in ("Session", "Session.__init__", "Session.send", "load_token")]
            assert all(v["prompt_version"] == "sir-prompt-1" and v["verification"] is not None
                       for v in views)
            flagged = [v for v in views if v["verification"]["unsupported"]]
            assert len(flagged) == 1
            assert flagged[0]["verification"]["unsupported"] == [
                "side effect: queries the database for cookies"]
            if flagged[0]["qualified_name"] in ("Session", "Session.send"):  # they post
                assert any(m.startswith("side effect: network I/O")
                           for m in flagged[0]["verification"]["missed"])


async def test_lsp_cap_zero_one_warning_banner_and_status(workspace: Path) -> None:
    rel = "pkg/session.py"
    with FakeProvider() as fake:
        _fake_config(workspace, fake.endpoint("openai"))
        config = workspace / ".aether/config.toml"
        config.write_text(config.read_text() + "max_tokens_per_run = 0\n")
        trust(config)
        async with lsp(workspace) as s:
            await s.idle()
            await eventually(lambda: s.statuses[-1].get("spend_cap"))
            assert "max_tokens_per_run" in s.statuses[-1]["spend_cap"]
            warnings = [m for m in s.client.messages if m.type == types.MessageType.Warning]
            assert len(warnings) == 1 and "max_tokens_per_run" in warnings[0].message
            uri = s.open(rel)
            hover = await s.hover(uri, _line_of(workspace, rel, "def load_token"))
            assert hover is not None
            first = hover.splitlines()[0]
            assert first.startswith("⚠ AETHER: no summary yet")
            assert "max\\_tokens\\_per\\_run" in first
        assert fake.count == 0
