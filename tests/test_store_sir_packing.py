"""Schema v23: a SIR's search words leave out the stop words, and SIRs are deflated with a
trained dictionary (format 2). A store as an older aether left it (format 1, words with stop
words, search rows made from them; made here from an indexed one) upgrades on open: every
record reads back equal through the Store API, every SIR is packed again, and the search
table holds exactly the rows a fresh build would."""

from __future__ import annotations

import sqlite3
import zlib
from pathlib import Path

from aether.store import queries as q
from aether.store.packing import _DICT_V1, pack_sir, sir_json_of, terms_of
from aether.store.records import search_row
from aether.store.schema import SCHEMA_VERSION
from aether.store.search_rows import row_of
from aether.symbols.terms import STOP_WORDS, parse_query, prose_column, stem, words_column
from tests.helpers import write
from tests.test_graph_edges import PY_FILES, make_repo
from tests.test_name_facts import before_name_facts
from tests.test_store_search_rows import postings
from tests.test_store_symbol_rows import every_record, indexed_with_a_model_sir

V23 = 23  # this migration (v24 moved type facts out of files.bindings: before_name_facts)


def pack_v1(sir_json: str, intent: str, other: str) -> bytes:
    """A SIR value as aether wrote it up to v23 (format 1: the 1.3 KB dictionary)."""
    co = zlib.compressobj(6, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, _DICT_V1)
    return b"\x01" + co.compress(f"{sir_json}\0{intent}\n{other}".encode()) + co.flush()


def to_v23(db: Path) -> int:
    """Turn a store back into what v23 held: format-1 SIR values whose words keep stop words
    (`the`, `of`, `is` added to each SIR's), search rows made from them, search rows of terms
    version 1 (and, as v22, type facts inside `files.bindings`). Returns the bytes of the SIR
    values."""
    before_name_facts(db)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN")
        old = []
        for seq, value in conn.execute("SELECT seq, sir_json FROM sir").fetchall():
            intent, other = terms_of(value) or ("", "")
            old.append((pack_v1(sir_json_of(value) or "", f"the {intent} of".strip(),
                                f"is {other}".strip()), seq))
        conn.executemany("UPDATE sir SET sir_json = ? WHERE seq = ?", old)
        conn.execute(q.CLEAR_FTS)
        conn.executemany(q.INSERT_FTS, [row_of(*r) for r in conn.execute(q.ALL_FOR_SEARCH_ROWS)])
        conn.execute("UPDATE meta SET value = 'contentless-1' WHERE key = 'search_rows'")
        conn.execute(f"PRAGMA user_version = {V23 - 1}")
        conn.execute("COMMIT")
        return sum(len(v) for v, _ in old)
    finally:
        conn.close()


async def test_an_older_store_packs_again_and_every_record_reads_back_equal(
        tmp_path: Path) -> None:
    root = tmp_path / "py"
    make_repo(root, PY_FILES)
    write(root, "pkg/docs.py", 'def fetch(url):\n    """Fetch the page that is at the url.\n\n'
          '    It is what the crawler does for each of the links."""\n    return url\n')
    db, _ = await indexed_with_a_model_sir(root, "pkg/models.py", "Saves the model of a page.")
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA page_size").fetchone() == (8192,)  # a new store's
        (sirs,) = conn.execute("SELECT COUNT(*) FROM sir").fetchone()
        (intent, other), = [terms_of(v) for (v,) in conn.execute(
            "SELECT r.sir_json FROM sir r JOIN symbols s ON s.seq = r.seq "
            "WHERE s.name = 'fetch'")]
    finally:
        conn.close()
    assert intent == "fetch page url" and other == "url return url fetch page url crawler link"
    before = await every_record(db)
    old_bytes = to_v23(db)
    conn = sqlite3.connect(db)
    try:  # the older store: stop words in its search rows
        assert conn.execute("SELECT COUNT(*) FROM symbol_fts WHERE symbol_fts MATCH "
                            "'intent : \"the\"'").fetchone()[0] == sirs > 5
    finally:
        conn.close()
    assert await every_record(db) == before  # upgraded on open, read back equal
    held, want = postings(db)
    assert held == want and held
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        values = [v for (v,) in conn.execute("SELECT sir_json FROM sir")]
        assert {v[0] for v in values} == {2} and len(values) == sirs
        assert sum(map(len, values)) < old_bytes
        assert conn.execute("SELECT COUNT(*) FROM symbol_fts WHERE symbol_fts MATCH "
                            "'\"the\" OR \"of\" OR \"is\"'").fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM symbol_fts WHERE symbol_fts MATCH "
                            "'intent : \"page\"'").fetchone() == (2,)  # fetch, the model SIR
    finally:
        conn.close()


def test_sir_words_leave_out_what_no_question_searches_for() -> None:
    text = "Returns the values of this thing, doing it only once; finds methods."
    assert words_column(text) == ("return the valu of this thing do it onli onc find "
                                  "method")
    assert prose_column(text) == "return valu"
    # what a question searches for is what the SIR words keep of the same text
    stops = set(STOP_WORDS) | {stem(w) for w in STOP_WORDS}
    query = parse_query("how do I return the values of this list only once")
    assert query.words == ["return", "valu", "list"]
    assert prose_column(query.text).split() == query.words and not stops & set(query.words)
    # a packed SIR keeps the words it was given, in format 2
    value = pack_sir('{"intent":"x"}', "x", "y")
    assert value[0] == 2 and terms_of(value) == ("x", "y")


def test_a_search_row_keeps_each_path_word_once_and_no_extension() -> None:
    row = search_row(7, "test_index_view", "AdminViewTests.test_index_view",
                     "tests/admin_views/tests.py", ("admin index page", "render page"))
    # enclosing names as words only, and not again in the intent; the path without `py` and
    # without the words the name, the enclosing names or the SIR have
    assert row == (7, "test_index_view", "test index view", "admin view test", "index page",
                   "render page", "")
    row = search_row(8, "render", "render", "src/.hidden/admin.tar.gz", None)
    assert row == (8, "render", "render", "", "", "", "src hidden admin tar")
