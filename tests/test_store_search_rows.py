"""The search table keeps no copy of its rows (contentless, schema v15): every delete repeats
the row from the symbol and the words stored with its SIR. These tests edit a store the ways
the writer does and check, term by term and position by position, that the index equals one
built afresh from what the store holds now (a wrong delete would leave postings behind)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from aether.sir.model import Sir
from aether.store import queries as q
from aether.store.db import Store
from aether.store.packing import pack_sir, sir_json_of, terms_of
from aether.store.records import FileChange, FileRecord, NewSir, PreparedSir
from aether.store.search_rows import row_of
from aether.symbols.model import Symbol

_COLS = "name, name_words, qual_words, intent, sir_words, path_words"


def postings(db: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """(what the search table indexes, what a table built now from the store would index):
    every (term, rowid, column, offset)."""
    conn = sqlite3.connect(db)
    try:
        conn.execute(f"CREATE VIRTUAL TABLE temp.fresh USING fts5({_COLS}, tokenize = "
                     "\"unicode61 remove_diacritics 2 tokenchars '_'\", content = '')")
        rows = [row_of(*r) for r in conn.execute(q.ALL_FOR_SEARCH_ROWS)]
        conn.executemany(f"INSERT INTO temp.fresh (rowid, {_COLS}) VALUES (?,?,?,?,?,?,?)", rows)
        conn.execute("CREATE VIRTUAL TABLE temp.held USING fts5vocab(main, symbol_fts, instance)")
        conn.execute("CREATE VIRTUAL TABLE temp.want USING fts5vocab(temp, fresh, instance)")
        held = conn.execute("SELECT * FROM temp.held ORDER BY 1, 2, 3, 4").fetchall()
        want = conn.execute("SELECT * FROM temp.want ORDER BY 1, 2, 3, 4").fetchall()
        assert conn.execute("SELECT COUNT(*) FROM symbol_fts").fetchone()[0] == len(rows)
    finally:
        conn.close()
    return held, want


def symbol(sid: str, path: str, name: str, qname: str, chash: str, line: int = 1) -> Symbol:
    return Symbol(sid, "python", path, "function", name, qname, f"def {name}()", line, 0,
                  line + 1, 0, 0, 10, chash)


def static(intent: str, doc: str = "") -> PreparedSir:
    return PreparedSir.of(Sir(intent=intent, inputs=["path"], confidence=0.3), doc=doc)


A, B, C = "a" * 32, "b" * 32, "c" * 32


async def words(store: Store, word: str) -> list[str]:
    rows = await store.search_terms(f'"{word}"', 10)
    found = await store.symbols_by_seqs([r[0] for r in rows])
    return sorted(found[r[0]].name for r in rows)


async def test_rows_stay_exact_through_every_kind_of_edit(tmp_path: Path) -> None:
    db = tmp_path / "aether.db"
    store = await Store.open(db)
    try:
        load = symbol(A, "cfg.py", "load_config", "load_config", "h1")
        save = symbol(B, "cfg.py", "save_config", "Config.save_config", "h2", 5)
        other = symbol(C, "net.py", "fetch", "fetch", "h3")
        first = static("Load the widget settings.", doc="Reads the gadget file from disk.")
        await store.apply_files([
            FileChange(FileRecord("cfg.py", 10, 1, "python", "f1"), [load, save],
                       static_sirs={A: first}),
            FileChange(FileRecord("net.py", 10, 1, "python", "f2"), [other])])
        held, want = postings(db)
        assert held == want and len(held) >= 20
        # the doc's words are searched, though no stored SIR field holds them
        assert await words(store, "gadget") == ["load_config"]

        # the code changes under a new static SIR; another symbol goes; one is new
        moved = symbol(A, "cfg.py", "load_config", "load_config", "h1b", 2)
        fresh = symbol("d" * 32, "cfg.py", "parse", "parse", "h4")
        await store.apply_files([FileChange(
            FileRecord("cfg.py", 12, 2, "python", "f1b"), [moved, fresh],
            static_sirs={A: static("Load the widget settings.", doc="Opens a sprocket.")})])
        held, want = postings(db)
        assert held == want
        assert await words(store, "gadget") == [] and await words(store, "sprocket") == [
            "load_config"]
        assert await words(store, "save_config") == []

        # a model SIR replaces the static one (twice in one batch: the last one stays)
        # (for `fetch` in net.py, with a word of its path: its row's path words change too)
        model = PreparedSir.of(Sir(intent="Reads the thingamajig.", confidence=0.9))
        final = PreparedSir.of(Sir(intent="Reads the doohickey.", confidence=0.9))
        netted = PreparedSir.of(Sir(intent="Reads the thingamajig off the net.",
                                    confidence=0.9))
        assert (await store.search_terms('"net"', 5))[0][-1] == "net"
        await store.record_sir_success([NewSir(A, model, "h1b", "openai", "gpt-x"),
                                        NewSir(A, final, "h1b", "openai", "gpt-x"),
                                        NewSir(C, netted, "h3", "openai", "gpt-x")])
        assert (await store.search_terms('"net"', 5))[0][-1] == ""
        held, want = postings(db)
        assert held == want
        assert await words(store, "doohickey") == ["load_config"]
        assert await words(store, "thingamajig") == ["fetch"]
        assert await words(store, "sprocket") == []

        await store.delete_files(["net.py"])
        held, want = postings(db)
        assert held == want and await words(store, "thingamajig") == []
    finally:
        await store.close()


def test_packed_sir_round_trips_and_rejects_garbage() -> None:
    prepared = static("Load the widget settings.", doc="Reads the gadget file.")
    value = prepared.stored()
    assert sir_json_of(value) == prepared.sir_json
    assert terms_of(value) == prepared.terms and "gadget" in prepared.other_terms
    assert len(value) < len(prepared.sir_json)
    assert value == pack_sir(prepared.sir_json, *prepared.terms)  # deterministic
    # unpacked layouts: the v15 migration's text, a plain JSON SIR from history
    text = f"{prepared.sir_json}\0{prepared.intent_terms}\n{prepared.other_terms}"
    assert sir_json_of(text) == prepared.sir_json and terms_of(text) == prepared.terms
    assert sir_json_of(prepared.sir_json) == prepared.sir_json
    assert terms_of(prepared.sir_json) is None
    for bad in (b"\x01garbage", b"\x09" + value[1:], b""):
        try:
            sir_json_of(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was read")
