"""Rebuilding the search rows of a store made by an older aether (migration v7 marks it):
their terms are computed in Python (stemming, identifier splitting), so SQL alone cannot.
Runs once, in the same step that migrates the file."""

from __future__ import annotations

import sqlite3
from contextlib import suppress

from aether.store import queries as q
from aether.store.records import PreparedSir, search_row


def rebuild_search_rows(conn: sqlite3.Connection) -> None:
    row = conn.execute(q.GET_META, ("search_rows",)).fetchone()
    if not row or row[0] != "rebuild":
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(q.GET_META, ("search_rows",)).fetchone()
        if row and row[0] == "rebuild":  # another process may have rebuilt meanwhile
            rows = []
            for seq, name, qname, path, sir_json in conn.execute(q.ALL_FOR_SEARCH_ROWS):
                prepared = None
                if sir_json:
                    with suppress(ValueError):
                        intent, other = PreparedSir.terms_of_json(sir_json)
                        prepared = PreparedSir("", "", intent, other)
                rows.append(search_row(seq, name, qname, path, prepared))
            conn.execute(q.CLEAR_FTS)
            conn.executemany(q.INSERT_FTS, rows)
            conn.execute(q.SET_META, ("search_rows", "v7"))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
