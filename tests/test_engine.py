"""The engine end to end in-process: indexing, incrementality, the stale contract."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from aether.config import load_settings
from aether.engine.engine import AmbiguousTarget, Engine, UnknownTarget
from aether.providers.base import SirRequest
from aether.providers.errors import PermanentError
from aether.sir.model import Sir
from aether.workspace import IgnoreRules
from tests.helpers import ScriptedProvider, write


async def open_engine(root: Path, provider: object | None = None) -> Engine:
    return await Engine.open(load_settings(root), provider)  # type: ignore[arg-type]


async def test_index_then_lookup(workspace: Path) -> None:
    engine = await open_engine(workspace)
    try:
        summary = await engine.index()
        assert summary.index.files_parsed == 1
        rec = await engine.resolve("Session.send")
        assert rec.kind == "method"
        assert rec.sir_status == "ok"
        assert rec.sir is not None and "Send a request" in rec.sir.intent
        assert (await engine.resolve("pkg/session.py:16")).qualified_name == "Session.send"
        assert (await engine.resolve(rec.id)).id == rec.id
        with pytest.raises(UnknownTarget):
            await engine.resolve("Nope.nothing")
    finally:
        await engine.close()


async def test_sir_survives_restart_and_history_keeps_versions(workspace: Path) -> None:
    provider = ScriptedProvider()
    engine = await open_engine(workspace, provider)
    await engine.index()
    first = await engine.resolve("load_token")
    await engine.close()

    # edit the body: same id, new content hash, new SIR version in history
    path = workspace / "pkg/session.py"
    path.write_text(path.read_text().replace("raise KeyError(name)", "return ''"))
    provider.version = 2
    engine = await open_engine(workspace, provider)
    try:
        await engine.index()
        second = await engine.resolve("load_token")
        assert second.id == first.id
        assert second.sir is not None and second.sir.intent.endswith("v2.")
        history = await engine.store.sir_history(second.id)
        assert len(history) == 2
    finally:
        await engine.close()


async def test_incremental_counts_provider_calls(workspace: Path) -> None:
    provider = ScriptedProvider()
    engine = await open_engine(workspace, provider)
    try:
        await engine.index()
        assert set(provider.calls) == {"Session", "Session.__init__", "Session.send",
                                       "load_token"}
        assert all(n == 1 for n in provider.calls.values())

        provider.calls.clear()
        again = await engine.index()
        assert again.index.files_unchanged == 1 and again.index.files_parsed == 0
        assert not provider.calls

        # touch without change: re-hashed, not re-parsed, no calls
        path = workspace / "pkg/session.py"
        path.write_text(path.read_text())
        touched = await engine.index()
        assert touched.index.files_parsed == 0 and not provider.calls

        # insert lines above and edit one body: only that symbol (and its class) are new work
        text = path.read_text()
        text = "# a comment\n# another\n" + text.replace("self.timeout = timeout",
                                                          "self.timeout = timeout or 30.0")
        path.write_text(text)
        await engine.index()
        assert set(provider.calls) == {"Session", "Session.__init__"}
    finally:
        await engine.close()


async def test_stale_contract(workspace: Path) -> None:
    provider = ScriptedProvider()
    engine = await open_engine(workspace, provider)
    try:
        await engine.index()
        good = await engine.resolve("load_token")
        assert good.sir_status == "ok" and good.last_error is None

        # change the code, then fail with a secret in the message
        path = workspace / "pkg/session.py"
        path.write_text(path.read_text().replace("raise KeyError(name)", "return 'x'"))
        provider.fail("upstream timed out")
        await engine.index()
        stale = await engine.resolve("load_token")
        assert stale.sir_status == "stale"
        assert stale.sir_json == good.sir_json  # the last good SIR is kept
        assert stale.last_error and "upstream timed out" in stale.last_error
        assert "\n" not in stale.last_error
        assert stale.last_attempt_at is not None
        assert stale.is_outdated

        # a symbol whose very first attempt fails is stale with no SIR
        write(workspace, "pkg/extra.py", "def brand_new():\n    return 1\n")
        await engine.index()
        fresh = await engine.resolve("brand_new")
        assert fresh.sir_status == "stale" and fresh.sir_json is None and fresh.last_error

        # errors are recorded
        errs = dict((k, n) for k, n, _ in await engine.store.recent_errors("2000-01-01"))
        assert errs.get("transient", 0) >= 2

        # recovery clears it
        provider.fail_with = None
        await engine.index()
        healed = await engine.resolve("load_token")
        assert healed.sir_status == "ok" and healed.last_error is None
        assert healed.sir_json != good.sir_json or not healed.is_outdated
        assert (await engine.resolve("brand_new")).sir_status == "ok"
    finally:
        await engine.close()


async def test_rename_and_removal_drop_symbol_and_sir(workspace: Path) -> None:
    engine = await open_engine(workspace)
    try:
        await engine.index()
        old = await engine.resolve("load_token")
        path = workspace / "pkg/session.py"
        path.write_text(path.read_text().replace("def load_token", "def read_token"))
        await engine.index()
        with pytest.raises(UnknownTarget):
            await engine.resolve("load_token")
        assert await engine.store.symbol(old.id) is None
        assert not [r for r in (await engine.search("load_token")).records
                    if r.name == "load_token"]
        assert (await engine.search("read_token")).records[0].name == "read_token"

        path.unlink()
        report = (await engine.index()).index
        assert report.files_deleted == 1
        assert (await engine.store.counts()).symbol_count == 0
        conn = sqlite3.connect(engine.settings.db_path)
        assert conn.execute("SELECT COUNT(*) FROM sir").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM symbol_fts").fetchone()[0] == 0
    finally:
        await engine.close()


async def test_permanent_failure_for_unbuilt_provider_is_stale_not_fatal(workspace: Path) -> None:
    provider = ScriptedProvider()
    provider.fail_with = PermanentError("provider 'x' is not available")
    engine = await open_engine(workspace, provider)
    try:
        await engine.index()
        counts = await engine.store.counts()
        assert counts.stale_count == counts.symbol_count > 0
        status = await engine.status()
        assert status.health.status == "degraded"
    finally:
        await engine.close()


async def test_bad_files_are_skipped_with_reasons(workspace: Path) -> None:
    (workspace / "bin.py").write_bytes(b"\x00\x01\x02 not text")
    (workspace / "latin.py").write_bytes(b"def f():\n    return '\xe9'\n")
    (workspace / "big.py").write_text("x = 1\n" * 300_000)
    write(workspace, "broken.py", "def ok():\n    return 1\n\ndef broken(:\n    pass\n")
    write(workspace, ".env", "API_KEY=sekrit\n")
    write(workspace, "secrets.key", "-----BEGIN KEY-----\n")
    write(workspace, "node_modules/dep/index.js", "function hidden() {}\n")
    write(workspace, ".gitignore", "generated/\n")
    write(workspace, "generated/gen.py", "def generated(): pass\n")
    write(workspace, ".aetherignore", "scratch_*.py\n")
    write(workspace, "scratch_1.py", "def scratch(): pass\n")
    engine = await open_engine(workspace)
    try:
        report = (await engine.index()).index
        assert report.skip_reasons == {"binary_file": 1, "invalid_utf8": 1, "file_too_large": 1}
        names = {r.name for r in (await engine.search("ok")).records}
        assert "ok" in names  # the valid part of a file with a syntax error is indexed
        for hidden in ("hidden", "generated", "scratch"):
            with pytest.raises(UnknownTarget):
                await engine.resolve(hidden)
        conn = sqlite3.connect(engine.settings.db_path)
        paths = {p for (p,) in conn.execute("SELECT path FROM files")}
        assert not any(p.startswith((".env", "secrets", "node_modules", "generated"))
                       for p in paths)
    finally:
        await engine.close()


async def test_build_output_is_skipped_but_packages_named_like_it_are_indexed(
        workspace: Path) -> None:
    write(workspace, "dist/index.js", "export function bundled() {}\n")
    write(workspace, "web/dist/app.js", "export function bundled() {}\n")
    write(workspace, "build/lib/pkg/__init__.py", "def built(): pass\n")
    write(workspace, "target/debug/build/out.rs", "fn built() {}\n")
    write(workspace, "web/coverage/lcov-report/sorter.js", "function built() {}\n")
    # the same names as packages: Go's go/build, a Java package, coverage.py, a tools folder
    write(workspace, "src/go/build/build.go", "package build\n\nfunc Import() {}\n")
    write(workspace, "src/main/java/com/acme/build/lib/Rule.java",
          "package com.acme.build.lib;\nclass Rule { void apply() {} }\n")
    write(workspace, "coverage/__init__.py", "def report(): pass\n")
    write(workspace, "tools/build/freeze.py", "def freeze(): pass\n")
    engine = await open_engine(workspace)
    try:
        await engine.index()
        conn = sqlite3.connect(engine.settings.db_path)
        paths = {p for (p,) in conn.execute("SELECT path FROM files")}
        assert {"src/go/build/build.go", "src/main/java/com/acme/build/lib/Rule.java",
                "coverage/__init__.py", "tools/build/freeze.py"} <= paths
        assert not any(p.startswith(("dist/", "web/dist/", "build/", "target/",
                                     "web/coverage/")) for p in paths)
        # what a watched save asks of the same rules, one file at a time
        rules = IgnoreRules(workspace)
        assert rules.ignored("web/dist/app.js") and not rules.ignored("src/go/build/build.go")
    finally:
        await engine.close()
    # a `!/dist/` in .aetherignore keeps a build folder the defaults would skip
    write(workspace, ".aetherignore", "!/dist/\n")
    assert not IgnoreRules(workspace).ignored("dist/index.js")
    assert IgnoreRules(workspace).ignored("web/dist/app.js")


async def test_a_workspace_inside_a_repository_keeps_the_repository_s_ignores(
        tmp_path: Path) -> None:
    repo = tmp_path / "monorepo"
    (repo / ".git" / "info").mkdir(parents=True)
    write(repo, ".git/info/exclude", "scratch.py\n")
    write(repo, ".gitignore", "*_local.py\n/packages/app/generated/\n")
    write(repo, "packages/.gitignore", "app/cache/\n")
    root = repo / "packages" / "app"
    write(root, "app.py", "def run(): pass\n")
    for hidden in ("settings_local.py", "generated/api.py", "cache/x.py", "scratch.py"):
        write(root, hidden, "def hidden(): pass\n")
    engine = await open_engine(root)
    try:
        await engine.index()
        conn = sqlite3.connect(engine.settings.db_path)
        assert {p for (p,) in conn.execute("SELECT path FROM files")} == {"app.py"}
    finally:
        await engine.close()
    # a workspace that is a repository of its own (a submodule, a nested clone) owns its rules
    write(root, ".git/info/exclude", "notes.py\n")
    assert not IgnoreRules(root).ignored("settings_local.py")
    assert IgnoreRules(root).ignored("notes.py")


async def test_ambiguous_names(workspace: Path) -> None:
    write(workspace, "a.py", "def helper():\n    pass\n")
    write(workspace, "b.py", "def helper():\n    pass\n")
    engine = await open_engine(workspace)
    try:
        await engine.index()
        with pytest.raises(AmbiguousTarget):
            await engine.resolve("helper")
        assert (await engine.resolve("b.py:1")).file_path == "b.py"
    finally:
        await engine.close()


class GatedProvider:
    """Answers only once the test opens the gate; records the order it was asked in."""

    name = "gated"
    model = "gated-1"

    def __init__(self) -> None:
        self.order: list[str] = []
        self.gate = asyncio.Event()

    async def generate(self, request: SirRequest) -> Sir:
        self.order.append(request.qualified_name)
        await self.gate.wait()
        return Sir(intent=f"Does {request.qualified_name}.", confidence=0.5)

    async def aclose(self) -> None:
        pass


async def test_an_asked_for_symbol_jumps_the_bulk_queue(workspace: Path) -> None:
    write(workspace, "many.py", "".join(f"def f{i:02d}(x):\n    return x\n\n" for i in range(10)))
    provider = GatedProvider()
    settings = load_settings(workspace, {"inference": {"max_concurrency": 1}})
    engine = await Engine.open(settings, provider)  # type: ignore[arg-type]
    try:
        bulk = asyncio.create_task(engine.index())
        for _ in range(500):  # bounded: both bulk workers are waiting on the gate
            if len(provider.order) == 2:
                break
            await asyncio.sleep(0.01)
        assert len(provider.order) == 2
        target = (await engine.resolve("f09")).id
        asked = asyncio.create_task(engine.refresh([target]))
        for _ in range(500):
            if "f09" in provider.order:
                break
            await asyncio.sleep(0.01)
        provider.gate.set()
        await asyncio.gather(bulk, asked)
        assert provider.order[2] == "f09"  # before the 10 other symbols still queued
        assert provider.order.count("f09") == 1  # the bulk pass does not ask again
        assert len(provider.order) == 14  # 4 sample symbols + 10, each once
    finally:
        await engine.close()
