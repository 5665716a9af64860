"""One symbol per new language through the real servers: hover over `aether lsp` (pytest-lsp)
and `aether_get_sir` over `aether mcp` (the mcp SDK's stdio client), on one workspace holding
the Java, C, C++, C#, Ruby, PHP, Kotlin and Swift fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import write
from tests.language_fixtures import FIXTURES
from tests.test_lsp import lsp
from tests.test_mcp import connect, ok, wait_idle
from tests.test_symbols_native import EXPECTED

# language -> (symbol, a text on its line, what its hover/SIR says about it)
PROBES = {
    "java": ("com.example.store.Cache.get", "public V get(K key)", "throws IOException"),
    "c": ("add", "static int add", "Adds two numbers."),
    "cpp": ("store::detail::Cache::get", "T get(int key)", "Get (method of Cache)."),
    "csharp": ("Acme.Store.Cache.Get", "public T Get(string key)", "Get (method of Cache)."),
    "ruby": ("Rack::Cache#call", "def call(env)", "Call (method of Cache)."),
    "php": ("GuzzleHttp\\Psr7\\Stream::read", "public function read", "Reads."),
    "kotlin": ("com.example.store.Cache.get", "fun get(key: String)",
               "Get (method of Cache)."),
    "swift": ("Cache.get", "func get(_ key: String)", "Get (method of Cache)."),
}


@pytest.fixture
def polyglot(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    for path, source in FIXTURES.values():
        write(root, path, source)
    write(root, "README.md", "# Polyglot\n")  # no language: listed, not indexed
    return root


def _line(root: Path, rel: str, needle: str) -> int:
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines) if needle in text)


async def test_hover_on_one_symbol_per_language(polyglot: Path) -> None:
    async with lsp(polyglot) as s:
        await s.idle()
        for language, (name, needle, says) in PROBES.items():
            rel = FIXTURES[language][0]
            uri = s.open(rel, language=language)
            line = _line(polyglot, rel, needle)
            column = (polyglot / rel).read_text().splitlines()[line].index(needle) + 2
            text = await s.hover(uri, line, column)
            assert text is not None, language
            assert name.rsplit(".", 1)[-1].rsplit("::", 1)[-1].rsplit("#", 1)[-1] in text
            assert says in text.replace("\\", ""), (language, text)


async def test_get_sir_on_one_symbol_per_language(polyglot: Path) -> None:
    async with connect(polyglot) as session:
        status = await wait_idle(session)
        # the eight fixtures, every symbol of each
        assert status["symbol_count"] == sum(len(table) for table in EXPECTED.values())
        assert status["unsupported_files"] == {".md": 1}
        for language, (name, needle, says) in PROBES.items():
            # by file and line: Java and Kotlin both have `com.example.store.Cache.get`
            rel = FIXTURES[language][0]
            sir = await ok(session, "aether_get_sir",
                           {"file": rel, "line": _line(polyglot, rel, needle) + 1})
            assert sir["qualified_name"] == name and sir["language"] == language
            assert sir["file_path"] == FIXTURES[language][0]
            assert sir["sir_status"] == "ok" and sir["provider"] == "static"
            rendered = " ".join([sir["sir"]["intent"], *sir["sir"]["error_modes"]])
            assert says in rendered, (language, sir["sir"])
