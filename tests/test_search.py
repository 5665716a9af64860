"""Search that answers questions: terms, ranking, vectors, fallbacks, and the CLI's answers
to bad queries. A small real project (tests/fixtures/searchrepo) indexed into a real store."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aether.config import load_settings
from aether.engine.engine import Engine
from aether.engine.indexer import Indexer
from aether.engine.search import QueryError, SearchOutcome
from aether.engine.search.lexical import NON_PRODUCT_FACTOR
from aether.store import search_rows
from aether.symbols.file_roles import file_role
from aether.symbols.terms import enclosing, parse_query, stem, words_column

FIXTURE = Path(__file__).parent / "fixtures" / "searchrepo"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURE, root)
    return root


@pytest.fixture
async def engine(repo: Path) -> AsyncIterator[Engine]:
    e = await Engine.open(load_settings(repo))
    await e.index()
    try:
        yield e
    finally:
        await e.close()


def names(outcome: SearchOutcome) -> list[str]:
    return [r.qualified_name for r in outcome.records]


# ---------------------------------------------------------------------------- terms (pure)


def test_identifiers_split_and_stemmed_on_both_sides() -> None:
    assert words_column("iter_content") == "iter content"
    assert words_column("HTTPAdapter") == "http adapt"
    assert words_column("parseConfigFile") == "pars config file"
    assert stem("retries") == stem("retry") == stem("retrying")
    q = parse_query("HTTPAdapter")
    assert q.whole == ["httpadapter"] and q.words == ["http", "adapt"] and q.identifier_query
    q = parse_query("requests::adapters::HTTPAdapter.send")
    assert q.path == "requests.adapters.HTTPAdapter.send" and "send" in q.whole
    # every language's separators: Ruby `#`, PHP `\`, C++/Rust `::`
    assert parse_query("Rack::Cache#call").path == "Rack.Cache.call"
    assert enclosing("GuzzleHttp\\Psr7\\Stream::read") == "GuzzleHttp.Psr7.Stream"


def test_stop_words_only_leave_prose() -> None:
    q = parse_query("guess the filename of a file object")
    assert q.words == ["guess", "filenam", "file", "object"]
    assert set(q.dropped_stop_words) == {"the", "of", "a"} and not q.whole
    # a name is never a stop word, even a name made of one
    assert parse_query("the").words == ["the"]
    assert parse_query("is_a").whole == ["is_a"]


@pytest.mark.parametrize(("query", "message"), [
    ("the of and", "only common words"),
    ("?!... ---", "no letters or digits"),
    ("🙂🙂", "no letters or digits"),
    ("x" * 100_000, "limit is 1,024"),
])
def test_unsearchable_queries_say_why(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse_query(query)


def test_file_roles() -> None:
    assert file_role("shop/http.py") == "product"
    assert file_role("tests/test_http.py") == "test"
    assert file_role("pkg/http_test.go") == "test"
    assert file_role("src/app.spec.ts") == "test"
    assert file_role("examples/demo.py") == "example"
    assert file_role("third_party/zlib/x.c") == "vendored"
    assert file_role("static/app.min.js") == "generated"
    assert file_role("lib/index.umd.js") == "generated"
    assert file_role("dist2/vue.esm.js") == "generated"
    assert file_role("cjs/react.development.js") == "generated"
    assert file_role("lib/esm.js") == "product"


# ---------------------------------------------------------------------------- ranking


async def test_questions_find_the_symbol_that_answers(engine: Engine) -> None:
    # Every word had to match before: these found nothing.
    for mode in ("lexical", "hybrid"):
        out = await engine.search("guess the filename of a file object", 5, mode)
        assert out.mode_used == mode
        assert names(out)[0] == "guess_filename", (mode, names(out))
        assert "filename" in out.hits[0].why
        out = await engine.search("iterate over the response body in chunks", 5, mode)
        assert names(out)[0] == "Response.iter_content", (mode, names(out))
    # Stemming: "retrying" meets "attempted again"? no: it meets the name RetryPolicy.
    out = await engine.search("retrying failed connections", 5, "lexical")
    assert names(out)[0] == "RetryPolicy"
    # Documentation past the first sentence (the SIR keeps one) is searched too.
    out = await engine.search("exponential delay schedule", 5, "lexical")
    assert names(out)[0] == "RetryPolicy" and "exponential" in out.hits[0].why
    # Identifier splitting: a camelCase name from its words, a snake_case one from camelCase.
    out = await engine.search("parse config", 5, "lexical")
    assert set(names(out)[:2]) == {"parse_config", "parseConfig"}
    out = await engine.search("parseConfig", 5, "lexical")
    assert names(out)[0] == "parseConfig" and out.hits[0].why.startswith("exact name match")
    assert names(out)[1] == "parse_config"


async def test_exact_names_first_and_shared_names_counted(engine: Engine) -> None:
    out = await engine.search("HTTPAdapter.send", 5)
    assert names(out)[0] == "HTTPAdapter.send"
    out = await engine.search("get", 5)
    top = out.hits[:2]
    # both share the name; the one the code calls (HTTPAdapter.fetch_all calls self.get)
    # comes first
    assert [h.record.qualified_name for h in top] == ["HTTPAdapter.get", "Response.get"]
    assert all(h.same_name_count == 1 and "1 other symbol" in h.why for h in top)
    # as-you-type: a short query is a name prefix
    out = await engine.search("ite", 5)
    assert names(out)[0] in ("iter_slices", "Response.iter_content")


async def test_an_exact_name_spelled_as_typed_comes_before_its_other_case(
        tmp_path: Path) -> None:
    # Go: `Execute` and `execute` are two methods, and the unexported one is called more
    # (and its name words weigh the same): typed `Execute`, the exported one comes first.
    root = tmp_path / "cobra"
    root.mkdir()
    (root / "command.go").write_text(
        "package cobra\n\ntype Command struct{}\n\n"
        "// Execute runs the command.\n"
        "func (c *Command) Execute() error { return c.ExecuteC() }\n\n"
        "// ExecuteC runs the command and returns it.\n"
        "func (c *Command) ExecuteC() error { c.execute(); return c.execute() }\n\n"
        "// execute runs the command's hooks and its Run function.\n"
        "func (c *Command) execute() error { return nil }\n")
    engine = await Engine.open(load_settings(root))
    try:
        await engine.index()
        for mode in ("hybrid", "lexical"):
            for query, first in (("Command.Execute", "Execute"), ("Execute", "Execute"),
                                 ("Command.execute", "execute"), ("execute", "execute")):
                out = await engine.search(query, 5, mode)
                assert [h.record.name for h in out.hits[:2]] == [
                    first, "execute" if first == "Execute" else "Execute"], (mode, query)
            # the name as Go developers write it: a method expression, a call, the package
            for query in ("(*Command).Execute", "Command.Execute()", "cobra.Command.Execute",
                          "(*cobra.Command).Execute"):
                out = await engine.search(query, 5, mode)
                top = out.hits[0]
                assert (top.record.qualified_name, top.why.startswith("exact name match")) \
                    == ("Command.Execute", True), (mode, query)
            # a type in front is not a package: no exact match
            out = await engine.search("Nope.Execute", 5, mode)
            assert not any(h.why.startswith("exact") for h in out.hits), mode
    finally:
        await engine.close()


async def test_names_that_spell_the_question_come_first(tmp_path: Path) -> None:
    # "render a template" is `Template.render`: not the class whose summary says both
    # words, nor a namesake whose names say more (`NativeTemplate.render_async`), nor a test
    root = tmp_path / "tpl"
    (root / "tpl").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "tpl" / "environment.py").write_text(
        "class Environment:\n"
        '    """Renders templates: the template environment, its loaders and filters."""\n\n'
        "    def render_templates(self, names):\n"
        '        """Render every template named, as the environment renders."""\n'
        "        return [self.get(n).render() for n in names]\n\n\n"
        "class Template:\n"
        '    """A compiled template."""\n\n'
        "    def render(self, *args, **kwargs):\n"
        '        """This method accepts the same arguments as the dict constructor."""\n'
        "        return self.root(dict(*args, **kwargs))\n\n"
        "    def render_async(self, *args):\n"
        '        """Render the template asynchronously, rendering it in a loop."""\n'
        "        return self.render(*args)\n\n\n"
        "class NativeTemplate(Template):\n"
        '    """A template that renders native Python types."""\n\n'
        "    def render_async(self, *args):\n"
        '        """Render the native template, for a template rendered asynchronously."""\n'
        "        return self.render(*args)\n")
    (root / "tests" / "test_render.py").write_text(
        "class Template:\n"
        '    """A template double."""\n\n'
        "    def render(self):\n"
        '        """Render a template for the test."""\n'
        "        return ''\n")
    engine = await Engine.open(load_settings(root))
    try:
        await engine.index()
        for mode in ("hybrid", "lexical"):
            for query in ("render a template", "template render", "how do I render templates"):
                out = await engine.search(query, 5, mode)
                top = out.hits[0]
                assert (top.record.file_path, top.record.qualified_name) == (
                    "tpl/environment.py", "Template.render"), (mode, query, names(out))
        out = await engine.search("render a template", 5, "hybrid", include_tests=True)
        assert {h.record.file_path for h in out.hits[:2]} == {
            "tpl/environment.py", "tests/test_render.py"}
    finally:
        await engine.close()


async def test_tests_and_examples_rank_below_product_code(engine: Engine) -> None:
    out = await engine.search("guess_filename", 5, "lexical")
    assert [(h.record.file_path, h.is_test) for h in out.hits[:2]] == [
        ("shop/files.py", False), ("tests/test_files.py", True)]
    out = await engine.search("send a request", 5, "lexical")
    assert names(out)[0] == "HTTPAdapter.send"
    demo = next(h for h in out.hits if h.record.file_path == "examples/demo.py")
    assert demo.is_test and demo.role == "example"
    # include_tests: no demotion; the test double scores as product code would.
    plain = await engine.search("guess filename", 5, "lexical")
    both = await engine.search("guess filename", 5, "lexical", include_tests=True)

    def double(out: SearchOutcome) -> tuple[int, float]:
        return next((i, h.score) for i, h in enumerate(out.hits)
                    if h.record.file_path == "tests/test_files.py"
                    and h.record.name == "guess_filename")

    (rank_plain, score_plain), (rank_both, score_both) = double(plain), double(both)
    assert score_both == pytest.approx(score_plain / NON_PRODUCT_FACTOR, rel=1e-3)
    assert rank_both <= rank_plain and both.hits[rank_both].is_test


async def test_a_test_that_names_the_question_still_ranks_below_product_code(
        tmp_path: Path) -> None:
    root = tmp_path / "cli"
    (root / "cli").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "cli" / "options.py").write_text(
        'def parse_switches(argv):\n'
        '    """Parse --name and --no-name switches into True or False."""\n'
        '    return {a.lstrip("-"): not a.startswith("--no-") for a in argv}\n')
    (root / "tests" / "test_options.py").write_text(
        "def test_boolean_flags_are_parsed():\n"
        "    assert parse_switches(['--x']) == {'x': True}\n")
    engine = await Engine.open(load_settings(root))
    try:
        await engine.index()
        # The test's name holds every word of the question and tops both retrievers; the
        # function that does it matches less. By default product code comes first...
        out = await engine.search("how are boolean flags parsed", 5, "hybrid")
        assert [h.record.name for h in out.hits] == [
            "parse_switches", "test_boolean_flags_are_parsed"]
        # ... and include_tests ranks them as they match.
        out = await engine.search("how are boolean flags parsed", 5, "hybrid",
                                  include_tests=True)
        assert out.hits[0].record.name == "test_boolean_flags_are_parsed"
    finally:
        await engine.close()


async def test_a_reopened_ruby_module_is_shown_once_before_its_repeats(
        tmp_path: Path) -> None:
    root = tmp_path / "shop"
    (root / "lib" / "shop").mkdir(parents=True)
    (root / "lib" / "shop.rb").write_text(
        "# Order parsing for the shop.\nmodule Shop\n"
        "  # Parse an order form into line items.\n"
        "  def self.parse_order(form)\n    form.split(',')\n  end\nend\n")
    for part in ("cart", "invoice", "stock"):
        (root / "lib" / "shop" / f"{part}.rb").write_text(
            f"module Shop\n  class {part.title()}\n    def total\n      0\n"
            "    end\n  end\nend\n")
    engine = await Engine.open(load_settings(root))
    try:
        await engine.index()
        out = await engine.search("parse the shop order form", 10, "hybrid")
        shown = [(h.record.kind, h.record.qualified_name, h.record.file_path)
                 for h in out.hits]
        modules = [i for i, (kind, qname, _) in enumerate(shown)
                   if (kind, qname) == ("module", "Shop")]
        order = next(i for i, (_, qname, _) in enumerate(shown)
                     if qname.endswith("parse_order"))
        assert len(modules) == 4, shown  # each file's `module Shop` is still found...
        assert order < modules[1], shown  # ... but the repeats come after the method
        assert modules[1:] == list(range(len(shown) - 3, len(shown))), shown
    finally:
        await engine.close()


async def test_nothing_matches_offers_nearest_names(engine: Engine) -> None:
    out = await engine.search("gues_filenmae", 5, "hybrid")
    assert out.hits == [] or out.suggestions
    assert "guess_filename" in out.suggestions
    lexical = await engine.search("zzyzx", 5, "lexical")
    assert lexical.hits == [] and lexical.note and lexical.note.startswith("nothing matches")


async def test_fts_syntax_is_inert(engine: Engine) -> None:
    for query in ('"send" AND (NEAR(a b) OR x*', "name:send", "send^ -retry", "{col}: *"):
        out = await engine.search(query, 5, "lexical")
        assert out.mode_used == "lexical"


# ---------------------------------------------------------------------------- vectors


async def test_vectors_are_recomputed_only_when_the_text_changes(repo: Path) -> None:
    e = await Engine.open(load_settings(repo))
    try:
        summary = await e.index()
        assert e.vectors is not None and summary.vectors is not None
        total = (await e.store.counts()).symbol_count
        assert summary.vectors.embedded == total == e.vectors.embedder.texts
        # Nothing changed: nothing embedded.
        again = await e.index()
        assert again.vectors is not None and again.vectors.embedded == 0
        # A body edit that keeps the docstring keeps the text: no embedding.
        path = repo / "shop" / "files.py"
        text = path.read_text()
        path.write_text(text.replace("pos += slice_length", "pos = pos + slice_length"))
        body = await e.index()
        assert body.index.symbols_changed == 1
        assert body.vectors is not None and body.vectors.embedded == 0
        # A new docstring changes the text: that symbol alone is embedded again.
        path.write_text(path.read_text().replace("Iterate over slices of a string.",
                                                 "Cut a string into pieces of equal size."))
        doc = await e.index()
        assert doc.vectors is not None and doc.vectors.embedded == 1
        assert e.vectors.embedder.texts == total + 1
        out = await e.search("cut text into equal pieces", 3, "semantic")
        assert out.mode_used == "semantic" and names(out)[0] == "iter_slices"
        assert "similar meaning" in out.hits[0].why
    finally:
        await e.close()


async def test_a_sync_reads_only_the_symbols_marked_since_the_last(repo: Path) -> None:
    e = await Engine.open(load_settings(repo))
    try:
        await e.index()
        db = sqlite3.connect(e.store.path)
        assert db.execute("SELECT COUNT(*) FROM vector_dirty").fetchone() == (0,)
        # A vector lost behind the store's back, its symbol unchanged: not marked, so this
        # process's syncs do not read it...
        db.execute("DELETE FROM symbol_vectors WHERE seq = (SELECT MIN(seq) FROM symbols)")
        db.commit()
        again = await e.index()
        assert again.vectors is not None
        assert (again.vectors.symbols, again.vectors.embedded) == (0, 0)
        # ...a new docstring reads and embeds its one symbol (a full scan: two)...
        path = repo / "shop" / "files.py"
        path.write_text(path.read_text().replace("Iterate over slices of a string.",
                                                 "Cut a string into pieces of equal size."))
        doc = await e.index()
        assert doc.vectors is not None and (doc.vectors.symbols, doc.vectors.embedded) == (1, 1)
        # ...and a symbol changed while a sync runs stays marked past the sync's mark.
        mark = await e.store.vector_dirty_mark()
        path.write_text(path.read_text().replace("pieces of equal size", "equal pieces"))
        await Indexer(e.settings, e.store, static=True).run()
        await e.store.clear_vector_dirty(mark)
        late = await e.sync_vectors()
        assert late is not None and (late.symbols, late.embedded) == (1, 1)
    finally:
        await e.close()
    # A new process's first sync reads every symbol: the lost vector is made again.
    fresh = await Engine.open(load_settings(repo))
    try:
        report = await fresh.sync_vectors()
        assert report is not None and (report.symbols, report.embedded) == (1, 1)
        symbols, with_vector = await fresh.store.vector_counts(report.model)
        assert symbols == with_vector
    finally:
        await fresh.close()
        db.close()


async def test_semantic_unavailable_falls_back_to_lexical(repo: Path) -> None:
    e = await Engine.open(load_settings(repo))
    try:
        # The lexical index is usable before any vector exists.
        await Indexer(e.settings, e.store, static=True).run()
        out = await e.search("guess the filename", 3)
        assert (out.mode_requested, out.mode_used) == ("hybrid", "lexical")
        assert out.fallback_reason and "not computed yet" in out.fallback_reason
        assert names(out)[0] == "guess_filename"
        await e.sync_vectors()
        assert (await e.search("guess the filename", 3)).mode_used == "hybrid"
    finally:
        await e.close()
    off = await Engine.open(load_settings(repo, {"search": {"vectors": False}}))
    try:
        out = await off.search("guess the filename", 3, "semantic")
        assert out.mode_used == "lexical" and "turned off" in (out.fallback_reason or "")
    finally:
        await off.close()


async def test_old_search_rows_are_rebuilt_on_open(repo: Path) -> None:
    """A store whose search rows were made by other search terms (another
    aether.symbols.terms.VERSION, or a migration that asks for it) is rebuilt from its
    symbols and SIRs when opened, and searches as before."""
    e = await Engine.open(load_settings(repo))
    await e.index()
    await e.close()
    db = repo / ".aether" / "aether.db"
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO symbol_fts (symbol_fts) VALUES ('delete-all')")
    conn.execute("UPDATE meta SET value = 'contentless-0' WHERE key = 'search_rows'")
    conn.commit()
    conn.close()
    e = await Engine.open(load_settings(repo))
    try:
        out = await e.search("guess the filename of a file object", 3, "lexical")
        assert names(out)[0] == "guess_filename"
        assert await e.store.get_meta("search_rows") == search_rows.CURRENT
    finally:
        await e.close()


# ---------------------------------------------------------------------------- CLI


def aether(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aether", *args], capture_output=True,
                          text=True, timeout=120)


def test_cli_answers_and_errors(repo: Path) -> None:
    ws = str(repo)
    assert aether("index", "--workspace", ws).returncode == 0
    res = aether("search", "iterate over the response body in chunks", "-w", ws, "--json")
    data = json.loads(res.stdout)
    assert data["mode_requested"] == data["mode_used"] == "hybrid"
    top = data["matches"][0]
    assert top["qualified_name"] == "Response.iter_content" and top["why"]
    assert top["is_test"] is False and data["suggestions"] == []
    res = aether("search", "guess_filename", "-w", ws, "--include-tests", "--limit", "3")
    assert res.returncode == 0 and "why: exact name match" in res.stdout
    assert "[test]" in res.stdout
    res = aether("search", "gues_filenmae", "-w", ws, "--mode", "lexical")
    assert res.returncode == 0 and "did you mean: guess_filename" in res.stdout
    for bad in ("the of", "!!!", "🙂", "q" * 100_000):
        res = aether("search", bad, "-w", ws)
        assert res.returncode == 2, bad[:20]
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("aether: error: "), res.stderr[:300]
        assert "Traceback" not in res.stderr


async def test_vector_sync_embeds_every_slice_while_another_writer_holds_the_store(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The end of a cold pass holds the writer for seconds (its final resolve): the model
    does not wait for it; the slices' rows wait, in order, and all land once it is free."""
    import asyncio

    from aether.engine.search import semantic
    from aether.engine.search.embedder import LocalEmbedder

    root = tmp_path / "ws"
    for i in range(6):
        (root / f"m{i}.py").parent.mkdir(parents=True, exist_ok=True)
        (root / f"m{i}.py").write_text(f"def add_{i}(x):\n    return x + {i}\n")
    lexical = await Engine.open(load_settings(root, {"search": {"vectors": False}}))
    try:
        await lexical.index()
    finally:
        await lexical.close()
    monkeypatch.setattr(semantic, "SYNC_BATCH", 2)
    engine = await Engine.open(load_settings(root))
    other = sqlite3.connect(engine.settings.db_path, isolation_level=None)
    try:
        assert engine.vectors is not None
        embedder = engine.vectors.embedder
        assert isinstance(embedder, LocalEmbedder)
        model = engine.vectors.model
        other.execute("BEGIN IMMEDIATE")  # another writer holds the store
        sync = asyncio.create_task(engine.sync_vectors())
        for _ in range(500):  # bounded: 5 s, within the store's 10 s busy timeout
            if embedder.texts >= 6:
                break
            await asyncio.sleep(0.01)
        assert (embedder.calls, embedder.texts) == (3, 6)  # every slice embedded meanwhile
        assert not sync.done()
        assert await engine.store.vector_counts(model) == (6, 0)  # none written yet
        other.execute("COMMIT")
        report = await sync
        assert report is not None and report.embedded == 6
        assert await engine.store.vector_counts(model) == (6, 6)
    finally:
        other.close()
        await engine.close()
