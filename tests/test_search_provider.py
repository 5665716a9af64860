"""Semantic vectors from the provider's OpenAI-compatible `/v1/embeddings` endpoint, through
the real CLI and MCP server against the fault-injecting fake provider: its vectors are used,
only changed texts are sent again, and a failing provider leaves the local vectors in charge,
saying so."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aether.config import load_settings
from aether.engine.engine import Engine
from aether.engine.search.embedder import LOCAL_MODEL
from aether.providers.embeddings import parse_embeddings
from tests.fakeprovider import FakeProvider
from tests.helpers import trusted_config
from tests.test_mcp import connect, ok, wait_idle

FIXTURE = Path(__file__).parent / "fixtures" / "searchrepo"
MODEL = "nomic-embed-text"
# The embeddings guard takes its limits from [inference]: no rate bucket wait, quick retries.
FAST = {"AETHER_INFERENCE_REQUESTS_PER_MINUTE": "100000", "AETHER_INFERENCE_MAX_ATTEMPTS": "2",
        "AETHER_INFERENCE_BACKOFF_BASE_S": "0.01", "AETHER_INFERENCE_BACKOFF_CAP_S": "0.05",
        "AETHER_INFERENCE_TIMEOUT_S": "5", "AETHER_INFERENCE_DEADLINE_S": "10"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURE, root)
    return root


@pytest.fixture(autouse=True)
def fast_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FAST.items():
        monkeypatch.setenv(key, value)


def configure(root: Path, fake: FakeProvider) -> None:
    trusted_config(root, "search", {"embedding_endpoint": fake.endpoint("openai"),
                                    "embedding_model": MODEL})


def aether(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aether", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ})


def index_json(ws: str) -> dict:
    res = aether("index", "--workspace", ws, "--json")
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout)


def embedded_texts(fake: FakeProvider) -> list[str]:
    return [t for r in fake.requests() for t in r.body["input"]]


def test_provider_vectors_used_and_sent_again_only_on_text_change(repo: Path) -> None:
    ws = str(repo)
    with FakeProvider() as fake:
        configure(repo, fake)
        first = index_json(ws)
        assert first["vector_model"] == f"provider:{MODEL}"
        assert first["vector_fallback_reason"] is None
        reqs = fake.requests()
        assert reqs and all(r.path == "/v1/embeddings" for r in reqs)
        assert all(r.body["model"] == MODEL for r in reqs)
        # every symbol's text, batched (64 a request), each sent once
        assert len(embedded_texts(fake)) == first["symbol_count"] == first["vectors_embedded"]
        assert len(reqs) == -(-first["symbol_count"] // 64)

        res = aether("search", "guess the filename of a file", "-w", ws, "--json")
        data = json.loads(res.stdout)
        assert data["mode_used"] == "hybrid" and data["fallback_reason"] is None
        assert data["matches"][0]["qualified_name"] == "guess_filename"
        assert any("similar meaning" in m["why"] for m in data["matches"])
        assert fake.count == len(reqs) + 1  # the query itself
        assert fake.requests()[-1].body["input"] == ["guess filename file"]  # stop words out

        # every request is in the usage ledger, with the tokens the server reported
        usage = json.loads(aether("usage", "-w", ws, "--json").stdout)
        rows = [r for r in usage["rows"] if r["provider"] == "embeddings"]
        assert len(rows) == 1 and rows[0]["model"] == MODEL
        assert rows[0]["requests"] == rows[0]["ok"] == fake.count
        assert rows[0]["input_tokens"] == fake.reported_tokens() and rows[0]["all_reported"]

        fake.clear()
        assert index_json(ws)["vectors_embedded"] == 0 and fake.count == 0
        path = repo / "shop" / "files.py"
        path.write_text(path.read_text().replace("Iterate over slices of a string.",
                                                 "Cut a string into pieces of equal size."))
        again = index_json(ws)
        assert again["vectors_embedded"] == 1
        assert fake.count == 1 and embedded_texts(fake) == [
            "iter slices. Cut a string into pieces of equal size."]


def test_a_500_storm_falls_back_to_local_vectors_with_the_reason(repo: Path) -> None:
    ws = str(repo)
    with FakeProvider(default="500") as fake:
        configure(repo, fake)
        summary = index_json(ws)
        assert summary["vector_model"] == LOCAL_MODEL
        reason = summary["vector_fallback_reason"]
        assert reason.startswith("provider embeddings failed (transient") and "500" in reason
        assert "local vectors used" in reason
        sent = fake.count
        assert sent == 2  # max_attempts, then the local model: no storm of retries
        res = aether("search", "cut a string into pieces", "-w", ws, "--json")
        data = json.loads(res.stdout)
        # still hybrid: the local vectors stand in, and the answer says why
        assert data["mode_used"] == "hybrid" and data["fallback_reason"] == reason
        assert data["matches"][0]["qualified_name"] == "iter_slices"
        assert fake.count == sent  # local vectors: the query is embedded locally

        # the provider is back: its vectors replace the local ones, the reason goes
        fake.set_default("ok")
        back = index_json(ws)
        assert back["vector_model"] == f"provider:{MODEL}"
        assert back["vector_fallback_reason"] is None
        assert back["vectors_embedded"] == back["symbol_count"]
        data = json.loads(aether("search", "cut a string into pieces", "-w", ws,
                                 "--json").stdout)
        assert data["mode_used"] == "hybrid" and data["fallback_reason"] is None


@pytest.mark.parametrize("fault", ["garbage", "badschema", "401"])
async def test_bad_answers_and_auth_fall_back_to_local(repo: Path, fault: str) -> None:
    with FakeProvider(default=fault) as fake:
        configure(repo, fake)
        e = await Engine.open(load_settings(repo))
        try:
            summary = await e.index()
            assert summary.vectors is not None and summary.vectors.model == LOCAL_MODEL
            kind = "permanent" if fault == "401" else "invalid_output"
            assert f"provider embeddings failed ({kind}" in (summary.vectors.fallback_reason
                                                             or "")
            assert fake.count == 1  # neither is retried
            out = await e.search("guess the filename", 3)
            assert out.mode_used == "hybrid" and out.fallback_reason
        finally:
            await e.close()


async def test_query_embedding_failure_is_lexical_with_the_reason(repo: Path) -> None:
    with FakeProvider() as fake:
        configure(repo, fake)
        e = await Engine.open(load_settings(repo))
        try:
            await e.index()
            fake.set_default("400")
            out = await e.search("guess the filename", 3)
            assert out.mode_used == "lexical"
            assert (out.fallback_reason or "").startswith(
                "provider embeddings failed for the query (permanent")
            assert out.records[0].qualified_name == "guess_filename"
        finally:
            await e.close()


async def test_mcp_search_uses_provider_vectors(repo: Path) -> None:
    with FakeProvider() as fake:
        configure(repo, fake)
        async with connect(repo) as session:
            await wait_idle(session)
            indexed = fake.count
            assert indexed >= 1
            data = await ok(session, "aether_search",
                            {"query": "cut a string into pieces", "limit": 3})
            assert data["mode_used"] == "hybrid" and data["fallback_reason"] is None
            assert fake.count == indexed + 1
            last = fake.requests()[-1].body["input"]
            assert len(last) == 1 and "pieces" in last[0]
            # the same question again: its vector is remembered, nothing is sent
            again = await ok(session, "aether_search",
                             {"query": "cut a string into pieces", "limit": 3})
            assert again["matches"] == data["matches"] and fake.count == indexed + 1


def test_parse_embeddings_rejects_what_cannot_be_used() -> None:
    good = {"data": [{"index": 1, "embedding": [0, 1]}, {"index": 0, "embedding": [1, 0]}]}
    assert parse_embeddings(good, 2) == [[1.0, 0.0], [0.0, 1.0]]
    for bad in ({"data": [{"index": 0, "embedding": [1.0]}]},
                {"data": [{"index": 0, "embedding": []}, {"index": 1, "embedding": []}]},
                {"data": [{"index": 0, "embedding": [1.0]},
                          {"index": 1, "embedding": [1.0, 2.0]}]},
                {"data": [{"index": 0, "embedding": [float("nan")]},
                          {"index": 1, "embedding": [1.0]}]}):
        with pytest.raises(ValueError):
            parse_embeddings(bad, 2)
