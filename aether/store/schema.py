"""Schema and migrations, versioned by `PRAGMA user_version`."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# A SIR marks its symbol's search vector due (v18's form). v19 and v20 rebuild `sir` and make
# these again: SQLite drops a table's triggers with it.
_SIR_VECTOR_TRIGGERS = """
    CREATE TRIGGER vector_dirty_sir AFTER INSERT ON sir BEGIN
        UPDATE vector_dirty SET rowid = (SELECT MAX(rowid) FROM vector_dirty) + 1
        WHERE seq = new.seq;
        INSERT INTO vector_dirty (seq) SELECT new.seq
        WHERE NOT EXISTS (SELECT 1 FROM vector_dirty WHERE seq = new.seq);
    END;
    CREATE TRIGGER vector_dirty_sir_changed AFTER UPDATE OF sir_hash ON sir BEGIN
        UPDATE vector_dirty SET rowid = (SELECT MAX(rowid) FROM vector_dirty) + 1
        WHERE seq = new.seq;
        INSERT INTO vector_dirty (seq) SELECT new.seq
        WHERE NOT EXISTS (SELECT 1 FROM vector_dirty WHERE seq = new.seq);
    END;
"""

# A hash or id as text however it is stored (16 bytes since v20/v22, or text before): what
# aether.store.queries.hex_of says, for the triggers of v22.
_HEX_OF = "(CASE WHEN typeof({0}) = 'blob' THEN lower(hex({0})) ELSE {0} END)"
_HEX_OLD_ID = _HEX_OF.format("old.id")
# A plain 'ok' sir_meta row (v22 keeps none): it says no more than its SIR row does.
_PLAIN_META = """new.sir_status = 'ok' AND new.last_error IS NULL AND new.attempts = 0
        AND new.last_attempt_at = new.updated_at
        AND new.updated_at = (SELECT created_at FROM sir WHERE seq = new.seq)"""

# Each entry migrates from version i to i + 1. Append only: never edit a shipped migration.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE files (
        path TEXT PRIMARY KEY,            -- workspace-relative posix path
        language TEXT,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        content_hash TEXT,
        status TEXT NOT NULL CHECK (status IN ('indexed', 'skipped')),
        skip_reason TEXT,
        has_syntax_errors INTEGER NOT NULL DEFAULT 0,
        imports TEXT NOT NULL DEFAULT '[]',   -- JSON list, prompt context
        indexed_at TEXT NOT NULL
    );

    CREATE TABLE symbols (
        seq INTEGER PRIMARY KEY,          -- rowid alias; also the FTS rowid
        id TEXT NOT NULL UNIQUE,          -- stable id (aether.symbols.ids)
        file_path TEXT NOT NULL REFERENCES files(path) ON DELETE CASCADE,
        language TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        qualified_name TEXT NOT NULL,
        signature TEXT NOT NULL,
        start_line INTEGER NOT NULL,
        start_col INTEGER NOT NULL,
        end_line INTEGER NOT NULL,
        end_col INTEGER NOT NULL,
        start_byte INTEGER NOT NULL,
        end_byte INTEGER NOT NULL,
        content_hash TEXT NOT NULL
    );
    CREATE INDEX symbols_by_file ON symbols(file_path, start_line);
    CREATE INDEX symbols_by_qname ON symbols(qualified_name);
    CREATE INDEX symbols_by_name ON symbols(name);

    -- The last good SIR. Only the symbol's removal deletes it (cascade).
    CREATE TABLE sir (
        symbol_id TEXT PRIMARY KEY REFERENCES symbols(id) ON DELETE CASCADE,
        sir_json TEXT NOT NULL,           -- canonical JSON
        sir_hash TEXT NOT NULL,
        source_hash TEXT NOT NULL,        -- content_hash of the code it describes
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        created_at TEXT NOT NULL
    );

    CREATE TABLE sir_meta (
        symbol_id TEXT PRIMARY KEY REFERENCES symbols(id) ON DELETE CASCADE,
        sir_status TEXT NOT NULL CHECK (sir_status IN ('ok', 'stale', 'pending')),
        last_error TEXT,
        last_attempt_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,   -- consecutive failed attempts
        updated_at TEXT NOT NULL
    );
    CREATE INDEX sir_meta_by_status ON sir_meta(sir_status);

    CREATE TABLE sir_history (
        symbol_id TEXT NOT NULL REFERENCES symbols(id) ON DELETE CASCADE,
        sir_hash TEXT NOT NULL,
        sir_json TEXT NOT NULL,
        source_hash TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (symbol_id, sir_hash)
    ) WITHOUT ROWID;

    CREATE TABLE errors (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        operation TEXT NOT NULL,          -- index_file | generate_sir | ...
        error_type TEXT NOT NULL,
        message TEXT NOT NULL,            -- one line, secrets scrubbed
        path TEXT,
        symbol_id TEXT
    );
    CREATE INDEX errors_by_time ON errors(at);

    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    -- '_' is a token character so `send_message` stays one token; name_words holds the
    -- split words (send message, parseConfig -> parse config) so either form finds it.
    CREATE VIRTUAL TABLE symbol_fts USING fts5(
        name, qualified_name, name_words, file_path, sir_text,
        tokenize = "unicode61 remove_diacritics 2 tokenchars '_'",
        prefix = '2 3'
    );
    """,
    # v2: work asked of the writer by other processes on the same workspace (a reader's
    # save or refresh), so only the writer ever calls the provider.
    """
    CREATE TABLE work_requests (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('index', 'refresh')),
        payload TEXT NOT NULL,            -- JSON list of paths or symbol ids
        requested_at TEXT NOT NULL
    );
    """,
    # v3: how many hard-coded credentials were masked in each symbol's SIR and prompt, so
    # `aether status` can say what was kept from leaving the machine.
    """
    CREATE TABLE redactions (
        symbol_id TEXT PRIMARY KEY REFERENCES symbols(id) ON DELETE CASCADE,
        count INTEGER NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
    # v4: the usage ledger (every provider request: tokens as reported, cost) for caps and
    # `aether usage`; which prompt version made a SIR (a new one makes SIRs stale); and the
    # check of a model SIR against the static facts of its code.
    """
    CREATE TABLE usage (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,                 -- ISO 8601 UTC
        day TEXT NOT NULL,                -- UTC date, for the day caps and `aether usage`
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        status TEXT NOT NULL,             -- ok | HTTP status | timeout | transport | invalid
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        reported INTEGER NOT NULL,        -- 1: tokens as the provider reported them
        prompt_chars INTEGER NOT NULL,
        output_chars INTEGER NOT NULL,
        cost REAL NOT NULL,               -- US dollars, from [pricing]
        priced INTEGER NOT NULL
    );
    CREATE INDEX usage_by_day ON usage(day, provider, model);
    ALTER TABLE sir ADD COLUMN prompt_version TEXT NOT NULL DEFAULT '';
    ALTER TABLE sir ADD COLUMN verification TEXT;
    ALTER TABLE sir_history ADD COLUMN prompt_version TEXT NOT NULL DEFAULT '';
    """,
    # v5: the call graph: one row per call site inside a symbol, resolved with provenance;
    # files remember their import bindings so edges into them can be re-resolved later.
    """
    CREATE TABLE edges (
        id INTEGER PRIMARY KEY,
        caller_id TEXT NOT NULL REFERENCES symbols(id) ON DELETE CASCADE,
        file_path TEXT NOT NULL,          -- the caller's file
        line INTEGER NOT NULL,            -- 1-based, of the called name
        col INTEGER NOT NULL,
        callee TEXT NOT NULL,             -- as written, normalised: self.save, os.path.join
        name TEXT NOT NULL,               -- last segment: save, join
        receiver TEXT NOT NULL,           -- bare | self | qualified | expression
        qualifier TEXT NOT NULL,          -- os.path for os.path.join
        provenance TEXT NOT NULL CHECK (provenance IN
            ('local', 'import', 'unique_name', 'ambiguous', 'external', 'unresolved')),
        -- the resolved symbol; no foreign key: removing a target re-resolves its inbound
        -- edges in the same transaction (they become unresolved, never dangling)
        target_id TEXT,
        detail TEXT                       -- ambiguous: JSON candidate ids; external: target
    );
    CREATE INDEX edges_by_caller ON edges(caller_id);
    CREATE INDEX edges_by_target ON edges(target_id) WHERE target_id IS NOT NULL;
    CREATE INDEX edges_by_name ON edges(name);
    ALTER TABLE files ADD COLUMN bindings TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE files ADD COLUMN star_imports TEXT NOT NULL DEFAULT '[]';
    -- files indexed before this version have no edges: the next pass parses them again
    -- (same symbols, same SIRs; only their call sites are new)
    UPDATE files SET mtime_ns = 0, content_hash = NULL;
    """,
    # v6: SIRs read back from a damaged database, keyed by symbol id and the source hash they
    # describe, so the rebuild reuses them instead of paying for inference again.
    """
    CREATE TABLE sir_salvage (
        symbol_id TEXT NOT NULL,
        source_hash TEXT NOT NULL,
        sir_json TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        created_at TEXT NOT NULL,
        prompt_version TEXT NOT NULL DEFAULT '',
        verification TEXT,
        PRIMARY KEY (symbol_id, source_hash)
    ) WITHOUT ROWID;
    """,
    # v7: search answers questions: stemmed, identifier-split FTS columns ranked by field, and
    # one embedding per symbol. Old search rows are rebuilt in Python on open (Store).
    """
    DROP TABLE symbol_fts;
    CREATE VIRTUAL TABLE symbol_fts USING fts5(
        name, name_words, qual_words, intent, sir_words, path_words,
        tokenize = "unicode61 remove_diacritics 2 tokenchars '_'",
        prefix = '2 3'
    );
    CREATE TABLE symbol_vectors (
        symbol_id TEXT PRIMARY KEY REFERENCES symbols(id) ON DELETE CASCADE,
        text_hash TEXT NOT NULL,          -- hash of the embedded text: re-embed only on change
        sir_hash TEXT,                    -- the SIR it was made from: recheck when it changes
        model TEXT NOT NULL,
        vec BLOB NOT NULL                 -- int8, unit vector scaled by 127
    );
    INSERT INTO meta (key, value) VALUES ('search_rows', 'rebuild')
        ON CONFLICT(key) DO UPDATE SET value = 'rebuild';
    """,
    # v8: reference sites (a name used as a value or a type, not called) are edges too
    """
    ALTER TABLE edges ADD COLUMN kind TEXT NOT NULL DEFAULT 'call'
        CHECK (kind IN ('call', 'reference'));
    -- files indexed before this version have no reference edges: parse them again
    UPDATE files SET mtime_ns = 0, content_hash = NULL;
    """,
    # v9: history holds superseded SIRs only; the current one is the `sir` row (it was stored
    # twice: ~15% of a store).
    """
    DELETE FROM sir_history WHERE EXISTS (
        SELECT 1 FROM sir WHERE sir.symbol_id = sir_history.symbol_id
                            AND sir.sir_hash = sir_history.sir_hash);
    """,
    # v10: compact edges (they were 38% of a store, ~250 bytes each): caller and target as
    # symbol seqs, provenance/receiver/kind as small codes (their index in
    # aether.store.graph_records), no file path (the caller's), the callee only when it is
    # not `qualifier.name`, ambiguous candidates as "count,seq,seq,...,". Converted in place.
    """
    CREATE TABLE edges_v10 (
        id INTEGER PRIMARY KEY,
        caller INTEGER NOT NULL REFERENCES symbols(seq) ON DELETE CASCADE,
        line INTEGER NOT NULL,            -- 1-based, of the called name
        col INTEGER NOT NULL,
        name TEXT NOT NULL,               -- last segment: save, join
        callee TEXT,                      -- as written when not qualifier.name (or name)
        qualifier TEXT NOT NULL,          -- os.path for os.path.join
        receiver INTEGER NOT NULL CHECK (receiver BETWEEN 0 AND 3),  -- bare self qualified expr.
        kind INTEGER NOT NULL CHECK (kind IN (0, 1)),                 -- call reference
        -- local import unique_name ambiguous external unresolved
        provenance INTEGER NOT NULL CHECK (provenance BETWEEN 0 AND 5),
        target INTEGER,                   -- symbols.seq; no foreign key (re-resolved instead)
        detail TEXT                       -- ambiguous: count,seq,...,  external: the target
    );
    INSERT INTO edges_v10 (id, caller, line, col, name, callee, qualifier, receiver, kind,
                           provenance, target, detail)
    SELECT e.id, c.seq, e.line, e.col, e.name,
           CASE WHEN e.callee = CASE WHEN e.qualifier = '' THEN e.name
                                     ELSE e.qualifier || '.' || e.name END
                THEN NULL ELSE e.callee END,
           e.qualifier,
           CASE e.receiver WHEN 'bare' THEN 0 WHEN 'self' THEN 1 WHEN 'qualified' THEN 2
                           ELSE 3 END,
           CASE e.kind WHEN 'reference' THEN 1 ELSE 0 END,
           CASE e.provenance WHEN 'local' THEN 0 WHEN 'import' THEN 1 WHEN 'unique_name' THEN 2
                             WHEN 'ambiguous' THEN 3 WHEN 'external' THEN 4 ELSE 5 END,
           t.seq,
           CASE WHEN e.provenance != 'ambiguous' THEN e.detail
                WHEN json_valid(e.detail) THEN
                    COALESCE(json_extract(e.detail, '$.count'), 0) || ',' || COALESCE(
                        (SELECT group_concat(s.seq || ',', '')
                         FROM json_each(e.detail, '$.candidates') j
                         JOIN symbols s ON s.id = j.value), '')
           END
    FROM edges e JOIN symbols c ON c.id = e.caller_id
    LEFT JOIN symbols t ON t.id = e.target_id;
    DROP TABLE edges;
    ALTER TABLE edges_v10 RENAME TO edges;
    CREATE INDEX edges_by_caller ON edges(caller);
    CREATE INDEX edges_by_target ON edges(target) WHERE target IS NOT NULL;
    CREATE INDEX edges_by_name ON edges(name);
    -- symbol seqs are never reused from now on (see aether.store.queries.NEXT_SEQ)
    INSERT INTO meta (key, value) SELECT 'seq_high', COALESCE(MAX(seq), 0) FROM symbols
        WHERE true ON CONFLICT(key) DO UPDATE SET value = excluded.value;
    """,
    # v11: no prefix indexes in the search table: `prefix = '2 3'` cost 60% of its index
    # (16 MB on the standard library) for as-you-type name prefixes, which FTS5 answers from
    # the term index alone within a few milliseconds. Rows are copied as they are.
    """
    CREATE VIRTUAL TABLE symbol_fts_v11 USING fts5(
        name, name_words, qual_words, intent, sir_words, path_words,
        tokenize = "unicode61 remove_diacritics 2 tokenchars '_'"
    );
    INSERT INTO symbol_fts_v11 (rowid, name, name_words, qual_words, intent, sir_words,
                                path_words)
    SELECT rowid, name, name_words, qual_words, intent, sir_words, path_words FROM symbol_fts;
    DROP TABLE symbol_fts;
    ALTER TABLE symbol_fts_v11 RENAME TO symbol_fts;
    """,
    # v12: vectors keyed by the symbol's seq (the rowid): no 33-byte id per row and no
    # separate unique index on it (5.6 MB on the standard library); search loads them by seq.
    """
    CREATE TABLE symbol_vectors_v12 (
        seq INTEGER PRIMARY KEY REFERENCES symbols(seq) ON DELETE CASCADE,
        text_hash TEXT NOT NULL,          -- hash of the embedded text: re-embed only on change
        sir_hash TEXT,                    -- the SIR it was made from: recheck when it changes
        model TEXT NOT NULL,
        vec BLOB NOT NULL                 -- int8, unit vector scaled by 127
    );
    INSERT INTO symbol_vectors_v12 (seq, text_hash, sir_hash, model, vec)
    SELECT s.seq, v.text_hash, v.sir_hash, v.model, v.vec
    FROM symbol_vectors v JOIN symbols s ON s.id = v.symbol_id ORDER BY s.seq;
    DROP TABLE symbol_vectors;
    ALTER TABLE symbol_vectors_v12 RENAME TO symbol_vectors;
    """,
    # v13: SIRs and their metadata keyed by the symbol's seq (the rowid): no unique index on a
    # 33-byte id for either, no id at all in sir_meta. `sir` keeps the id, unindexed, so a
    # salvage from a damaged file (aether.store.recovery) needs no other table.
    """
    CREATE TABLE sir_v13 (
        seq INTEGER PRIMARY KEY REFERENCES symbols(seq) ON DELETE CASCADE,
        symbol_id TEXT NOT NULL,          -- for salvage only: queries go by seq
        sir_json TEXT NOT NULL,           -- canonical JSON
        sir_hash TEXT NOT NULL,
        source_hash TEXT NOT NULL,        -- content_hash of the code it describes
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        created_at TEXT NOT NULL,
        prompt_version TEXT NOT NULL DEFAULT '',
        verification TEXT
    );
    INSERT INTO sir_v13 (seq, symbol_id, sir_json, sir_hash, source_hash, provider, model,
                         created_at, prompt_version, verification)
    SELECT s.seq, r.symbol_id, r.sir_json, r.sir_hash, r.source_hash, r.provider, r.model,
           r.created_at, r.prompt_version, r.verification
    FROM sir r JOIN symbols s ON s.id = r.symbol_id ORDER BY s.seq;
    DROP TABLE sir;
    ALTER TABLE sir_v13 RENAME TO sir;
    CREATE TABLE sir_meta_v13 (
        seq INTEGER PRIMARY KEY REFERENCES symbols(seq) ON DELETE CASCADE,
        sir_status TEXT NOT NULL CHECK (sir_status IN ('ok', 'stale', 'pending')),
        last_error TEXT,
        last_attempt_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,   -- consecutive failed attempts
        updated_at TEXT NOT NULL
    );
    INSERT INTO sir_meta_v13 (seq, sir_status, last_error, last_attempt_at, attempts,
                              updated_at)
    SELECT s.seq, m.sir_status, m.last_error, m.last_attempt_at, m.attempts, m.updated_at
    FROM sir_meta m JOIN symbols s ON s.id = m.symbol_id ORDER BY s.seq;
    DROP TABLE sir_meta;
    ALTER TABLE sir_meta_v13 RENAME TO sir_meta;
    CREATE INDEX sir_meta_by_status ON sir_meta(sir_status);
    """,
    # v14: symbols whose search vector may be out of date, kept by triggers, so a save's
    # vector sync reads the few it touched instead of scanning every symbol twice (~60 ms per
    # save at 143,000 symbols). A row is re-added (a larger rowid) when the symbol changes
    # again, so a sync clears only the rows it read. Nothing to backfill: each process's
    # first sync scans everything.
    """
    CREATE TABLE vector_dirty (seq INTEGER NOT NULL UNIQUE);
    CREATE TRIGGER vector_dirty_symbol AFTER INSERT ON symbols BEGIN
        INSERT OR REPLACE INTO vector_dirty (seq) VALUES (new.seq);
    END;
    CREATE TRIGGER vector_dirty_sir AFTER INSERT ON sir BEGIN
        INSERT OR REPLACE INTO vector_dirty (seq) VALUES (new.seq);
    END;
    CREATE TRIGGER vector_dirty_sir_changed AFTER UPDATE OF sir_hash ON sir BEGIN
        INSERT OR REPLACE INTO vector_dirty (seq) VALUES (new.seq);
    END;
    CREATE TRIGGER vector_dirty_gone AFTER DELETE ON symbols BEGIN
        DELETE FROM vector_dirty WHERE seq = old.seq;
    END;
    """,
    # v15: a contentless search table (its copy of every row was 17 of its 28 MB on the
    # standard library). A SIR's search words move into its `sir_json` value, as
    # `json NUL intent_words LF other_words` (aether.store.packing deflates it on first open);
    # the other columns are recomputed from the symbol. Search rows are rebuilt on open.
    """
    UPDATE sir SET sir_json = sir_json || char(0) || (
        SELECT f.intent || char(10) || f.sir_words FROM symbol_fts f WHERE f.rowid = sir.seq)
    WHERE EXISTS (SELECT 1 FROM symbol_fts f WHERE f.rowid = sir.seq);
    DROP TABLE symbol_fts;
    CREATE VIRTUAL TABLE symbol_fts USING fts5(
        name, name_words, qual_words, intent, sir_words, path_words,
        tokenize = "unicode61 remove_diacritics 2 tokenchars '_'", content = ''
    );
    INSERT INTO meta (key, value) VALUES ('search_rows', 'rebuild')
        ON CONFLICT(key) DO UPDATE SET value = 'rebuild';
    """,
    # v16: compact search vectors (aether.store.vectors): 4 bits a dimension instead of int8,
    # both hashes as 16 bytes instead of 32 hex characters, the model as a small number (its
    # name was in every row). Rows are copied as they are; the vectors and hashes are
    # converted on first open (in Python: some vectors cost a provider request).
    """
    CREATE TABLE vector_models (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    INSERT INTO vector_models (name) SELECT DISTINCT model FROM symbol_vectors ORDER BY model;
    CREATE TABLE symbol_vectors_v16 (
        seq INTEGER PRIMARY KEY REFERENCES symbols(seq) ON DELETE CASCADE,
        text_hash BLOB NOT NULL,          -- of the embedded text: re-embed only on change
        sir_hash BLOB,                    -- the SIR it was made from: recheck when it changes
        model INTEGER NOT NULL REFERENCES vector_models(id),
        vec BLOB NOT NULL                 -- aether.store.vectors
    );
    INSERT INTO symbol_vectors_v16 (seq, text_hash, sir_hash, model, vec)
    SELECT v.seq, v.text_hash, v.sir_hash, m.id, v.vec
    FROM symbol_vectors v JOIN vector_models m ON m.name = v.model ORDER BY v.seq;
    DROP TABLE symbol_vectors;
    ALTER TABLE symbol_vectors_v16 RENAME TO symbol_vectors;
    INSERT INTO meta (key, value) VALUES ('vector_format', 'int8')
        ON CONFLICT(key) DO UPDATE SET value = 'int8';
    """,
    # v17: sir_meta's times as integers, milliseconds since 1970 UTC, not 24 characters of
    # text (2.5 of its 4.6 MB on the standard library); read back as the same text
    # (aether.store.records.SymbolRecord). Rebuilt in place.
    """
    CREATE TABLE sir_meta_v17 (
        seq INTEGER PRIMARY KEY REFERENCES symbols(seq) ON DELETE CASCADE,
        sir_status TEXT NOT NULL CHECK (sir_status IN ('ok', 'stale', 'pending')),
        last_error TEXT,
        last_attempt_at INTEGER,              -- ms since 1970 UTC
        attempts INTEGER NOT NULL DEFAULT 0,  -- consecutive failed attempts
        updated_at INTEGER NOT NULL           -- ms since 1970 UTC
    );
    INSERT INTO sir_meta_v17 (seq, sir_status, last_error, last_attempt_at, attempts,
                              updated_at)
    SELECT seq, sir_status, last_error,
           CAST(ROUND((julianday(last_attempt_at) - 2440587.5) * 86400000) AS INTEGER),
           attempts,
           COALESCE(CAST(ROUND((julianday(updated_at) - 2440587.5) * 86400000) AS INTEGER), 0)
    FROM sir_meta ORDER BY seq;
    DROP TABLE sir_meta;
    ALTER TABLE sir_meta_v17 RENAME TO sir_meta;
    CREATE INDEX sir_meta_by_status ON sir_meta(sir_status);
    """,
    # v18: v14's triggers re-mark a symbol without INSERT OR REPLACE: a trigger takes the
    # conflict policy of the statement that fired it, and a SIR's upsert (ON CONFLICT DO
    # UPDATE) made the REPLACE an ABORT, so a new SIR for a symbol still marked failed with
    # "UNIQUE constraint failed: vector_dirty.seq". A re-marked row still moves past every
    # other (its rowid becomes the largest), as REPLACE did.
    """
    DROP TRIGGER vector_dirty_symbol;
    DROP TRIGGER vector_dirty_sir;
    DROP TRIGGER vector_dirty_sir_changed;
    CREATE TRIGGER vector_dirty_symbol AFTER INSERT ON symbols BEGIN
        UPDATE vector_dirty SET rowid = (SELECT MAX(rowid) FROM vector_dirty) + 1
        WHERE seq = new.seq;
        INSERT INTO vector_dirty (seq) SELECT new.seq
        WHERE NOT EXISTS (SELECT 1 FROM vector_dirty WHERE seq = new.seq);
    END;
    """ + _SIR_VECTOR_TRIGGERS + """
    """,
    # v19: a SIR's time, in `sir` and `sir_history`, as milliseconds since 1970 UTC like
    # sir_meta's (v17): 1.3 MB on the standard library. Both rebuilt in place; v18's triggers
    # on `sir` go with the old table and are made again.
    """
    CREATE TABLE sir_v19 (
        seq INTEGER PRIMARY KEY REFERENCES symbols(seq) ON DELETE CASCADE,
        symbol_id TEXT NOT NULL,          -- for salvage only: queries go by seq
        sir_json NOT NULL,                -- aether.store.packing (BLOB); TEXT before v15
        sir_hash TEXT NOT NULL,
        source_hash TEXT NOT NULL,        -- content_hash of the code it describes
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        created_at INTEGER NOT NULL,      -- ms since 1970 UTC
        prompt_version TEXT NOT NULL DEFAULT '',
        verification TEXT
    );
    INSERT INTO sir_v19 (seq, symbol_id, sir_json, sir_hash, source_hash, provider, model,
                         created_at, prompt_version, verification)
    SELECT seq, symbol_id, sir_json, sir_hash, source_hash, provider, model,
           COALESCE(CAST(ROUND((julianday(created_at) - 2440587.5) * 86400000) AS INTEGER), 0),
           prompt_version, verification
    FROM sir ORDER BY seq;
    DROP TABLE sir;
    ALTER TABLE sir_v19 RENAME TO sir;
    """ + _SIR_VECTOR_TRIGGERS + """
    CREATE TABLE sir_history_v19 (
        symbol_id TEXT NOT NULL REFERENCES symbols(id) ON DELETE CASCADE,
        sir_hash TEXT NOT NULL,
        sir_json NOT NULL,                -- as `sir` held it
        source_hash TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        created_at INTEGER NOT NULL,      -- ms since 1970 UTC
        prompt_version TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (symbol_id, sir_hash)
    ) WITHOUT ROWID;
    INSERT INTO sir_history_v19 (symbol_id, sir_hash, sir_json, source_hash, provider, model,
                                 created_at, prompt_version)
    SELECT symbol_id, sir_hash, sir_json, source_hash, provider, model,
           COALESCE(CAST(ROUND((julianday(created_at) - 2440587.5) * 86400000) AS INTEGER), 0),
           prompt_version
    FROM sir_history;
    DROP TABLE sir_history;
    ALTER TABLE sir_history_v19 RENAME TO sir_history;
    """,
    # v20: per-symbol rows without repeats (issue 17, 15 MB on the standard library): a
    # SIR's provider, model and prompt version as one small number (`sir_makers`); a SIR's
    # symbol id and hashes and a symbol's content hash in 16 bytes, a signature without its
    # name (converted on first open: aether.store.compact_rows); a vector row's hashes in 8;
    # no index on qualified names (looked up through the name index: a name is an end of
    # its qualified name); the status index only over symbols not 'ok'. (The search table
    # stays `detail = full`: with `content = ''` and `detail = column`, SQLite 3.40's bm25
    # scores every row 0.)
    """
    CREATE TABLE sir_makers (
        id INTEGER PRIMARY KEY,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        prompt_version TEXT NOT NULL,
        UNIQUE (provider, model, prompt_version)
    );
    INSERT INTO sir_makers (provider, model, prompt_version)
    SELECT DISTINCT provider, model, prompt_version FROM sir ORDER BY 1, 2, 3;
    CREATE TABLE sir_v20 (
        seq INTEGER PRIMARY KEY REFERENCES symbols(seq) ON DELETE CASCADE,
        symbol_id NOT NULL,               -- for salvage only, 16 bytes (vectors.pack_hash)
        sir_json NOT NULL,                -- aether.store.packing
        sir_hash NOT NULL,                -- 16 bytes
        source_hash NOT NULL,             -- the same, of the code it describes
        maker INTEGER NOT NULL,           -- sir_makers.id (no foreign key: never deleted)
        created_at INTEGER NOT NULL,      -- ms since 1970 UTC
        verification TEXT
    );
    INSERT INTO sir_v20 (seq, symbol_id, sir_json, sir_hash, source_hash, maker, created_at,
                         verification)
    SELECT r.seq, r.symbol_id, r.sir_json, r.sir_hash, r.source_hash, k.id, r.created_at,
           r.verification
    FROM sir r JOIN sir_makers k ON k.provider = r.provider AND k.model = r.model
                                AND k.prompt_version = r.prompt_version
    ORDER BY r.seq;
    DROP TABLE sir;
    ALTER TABLE sir_v20 RENAME TO sir;
    """ + _SIR_VECTOR_TRIGGERS + """
    INSERT INTO meta (key, value) VALUES ('compact_rows', 'copied')
        ON CONFLICT(key) DO UPDATE SET value = 'copied';
    UPDATE symbol_vectors SET
        text_hash = CASE WHEN typeof(text_hash) = 'blob' THEN substr(text_hash, 1, 8)
                         ELSE text_hash END,
        sir_hash = CASE WHEN typeof(sir_hash) = 'blob' THEN substr(sir_hash, 1, 8)
                        ELSE sir_hash END;
    DROP INDEX symbols_by_qname;
    DROP INDEX sir_meta_by_status;
    CREATE INDEX sir_meta_not_ok ON sir_meta(sir_status) WHERE sir_status != 'ok';
    """,
    # v21: a compact call graph (30 of 105 MB on the standard library, 12 MB of it indexes).
    # An edge's rowid is its caller's seq << 16 | its ordinal in that caller, so a caller's
    # edges are one range of the table (no caller column, no index by caller; a trigger
    # replaces the cascade); its line counts from the caller's first line. Names, qualifiers
    # and details are numbers in `edge_texts`; receiver, kind and provenance one small
    # integer; target and detail one column (never both). Edges are found by name and by
    # target through `edge_callers` and `edge_targets` (one row per caller and name, or
    # target, kept by triggers) instead of an index entry per edge. Converted in place
    # (aether.store.edges).
    """
    CREATE TABLE edge_texts (
        id INTEGER PRIMARY KEY,
        text TEXT NOT NULL UNIQUE         -- a called name, a qualifier or a detail
    );
    INSERT INTO edge_texts (text)
    SELECT name FROM edges UNION SELECT qualifier FROM edges WHERE qualifier != ''
    UNION SELECT detail FROM edges WHERE detail IS NOT NULL AND provenance IN (3, 4);
    CREATE TABLE edges_v21 (
        id INTEGER PRIMARY KEY,           -- caller's symbols.seq << 16 | ordinal in the caller
        line INTEGER NOT NULL,            -- of the called name, less the caller's start_line
        col INTEGER NOT NULL,
        name INTEGER NOT NULL,            -- edge_texts.id of the last segment: save, join
        qualifier INTEGER NOT NULL,       -- edge_texts.id (os.path for os.path.join); 0: none
        -- receiver (bare self qualified expr.) | kind (call reference) << 2
        -- | provenance (local import unique_name ambiguous external unresolved) << 3
        flags INTEGER NOT NULL CHECK (flags BETWEEN 0 AND 47),
        -- local, import, unique_name (flags < 24): the target's symbols.seq (no foreign key:
        -- re-resolved instead); ambiguous, external: edge_texts.id of the detail
        -- (count,seq,...,  or the external target)
        answer INTEGER,
        callee TEXT                       -- as written when not qualifier.name (or name)
    );
    INSERT INTO edges_v21 (id, line, col, name, qualifier, flags, answer, callee)
    SELECT (e.caller << 16) | e.ordinal, e.line - c.start_line, e.col, n.id, COALESCE(q.id, 0),
           e.receiver | (e.kind << 2) | (e.provenance << 3),
           CASE WHEN e.provenance < 3 THEN e.target ELSE d.id END, e.callee
    FROM (SELECT *, row_number() OVER (PARTITION BY caller ORDER BY id) - 1 AS ordinal
          FROM edges) e
    JOIN symbols c ON c.seq = e.caller
    JOIN edge_texts n ON n.text = e.name
    LEFT JOIN edge_texts q ON q.text = e.qualifier
    LEFT JOIN edge_texts d ON d.text = e.detail
    WHERE e.ordinal < 65536
    ORDER BY 1;
    DROP TABLE edges;
    ALTER TABLE edges_v21 RENAME TO edges;
    CREATE TABLE edge_callers (
        name INTEGER NOT NULL,            -- edge_texts.id
        caller INTEGER NOT NULL,          -- symbols.seq of a caller with an edge of that name
        PRIMARY KEY (name, caller)
    ) WITHOUT ROWID;
    INSERT INTO edge_callers (name, caller)
    SELECT DISTINCT name, id >> 16 FROM edges ORDER BY 1, 2;
    CREATE TABLE edge_targets (
        target INTEGER NOT NULL,          -- symbols.seq
        caller INTEGER NOT NULL,          -- symbols.seq of a caller with an edge resolved to it
        PRIMARY KEY (target, caller)
    ) WITHOUT ROWID;
    INSERT INTO edge_targets (target, caller)
    SELECT DISTINCT answer, id >> 16 FROM edges WHERE flags < 24 AND answer IS NOT NULL
    ORDER BY 1, 2;
    CREATE TRIGGER edges_of_caller_gone AFTER DELETE ON symbols BEGIN
        DELETE FROM edges WHERE id BETWEEN old.seq << 16 AND (old.seq << 16) | 65535;
    END;
    CREATE TRIGGER edge_callers_add AFTER INSERT ON edges BEGIN
        INSERT INTO edge_callers (name, caller) SELECT new.name, new.id >> 16
        WHERE NOT EXISTS (SELECT 1 FROM edge_callers
                          WHERE name = new.name AND caller = new.id >> 16);
    END;
    CREATE TRIGGER edge_callers_gone AFTER DELETE ON edges BEGIN
        DELETE FROM edge_callers WHERE name = old.name AND caller = old.id >> 16
            AND NOT EXISTS (SELECT 1 FROM edges WHERE name = old.name
                            AND id BETWEEN (old.id >> 16) << 16 AND old.id | 65535);
    END;
    CREATE TRIGGER edge_targets_add AFTER INSERT ON edges
    WHEN new.flags < 24 AND new.answer IS NOT NULL BEGIN
        INSERT INTO edge_targets (target, caller) SELECT new.answer, new.id >> 16
        WHERE NOT EXISTS (SELECT 1 FROM edge_targets
                          WHERE target = new.answer AND caller = new.id >> 16);
    END;
    CREATE TRIGGER edge_targets_moved AFTER UPDATE OF flags, answer ON edges BEGIN
        DELETE FROM edge_targets WHERE old.flags < 24 AND target = old.answer
            AND caller = old.id >> 16
            AND NOT EXISTS (SELECT 1 FROM edges WHERE answer = old.answer AND flags < 24
                            AND id BETWEEN (old.id >> 16) << 16 AND old.id | 65535);
        INSERT INTO edge_targets (target, caller) SELECT new.answer, new.id >> 16
        WHERE new.flags < 24 AND new.answer IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM edge_targets WHERE target = new.answer AND caller = new.id >> 16);
    END;
    CREATE TRIGGER edge_targets_gone AFTER DELETE ON edges
    WHEN old.flags < 24 AND old.answer IS NOT NULL BEGIN
        DELETE FROM edge_targets WHERE target = old.answer AND caller = old.id >> 16
            AND NOT EXISTS (SELECT 1 FROM edges WHERE answer = old.answer AND flags < 24
                            AND id BETWEEN (old.id >> 16) << 16 AND old.id | 65535);
    END;
    """,
    # v22: per-symbol rows without repeats (issue 17; on the standard library 77.0 -> 62.4
    # MB, 2.43x -> 1.97x the source). `symbols` (21.9 -> 14.1 MB): a symbol's file as a
    # number (`files` gets an integer id) instead of its path, its language and kind as
    # numbers (`symbol_labels`), its qualified name with its name as a mark (`qualified`, as
    # signatures since v20), its id in 16 bytes (converted on first open,
    # aether.store.compact_rows). `sir` (14.0 -> 11.5 MB): a static SIR's row keeps neither
    # the symbol id nor a source hash equal to the symbol's content hash (trigger
    # sir_source_kept keeps it when the code changes under the SIR): salvage reads both from
    # `symbols`, and a static SIR costs nothing to make again if it cannot; a model SIR's row
    # keeps both, for a salvage of a damaged `symbols`. `sir_meta` (1.9 MB -> none): no row
    # for a plain 'ok' SIR (no error, no failed attempt, attempted and updated when it was
    # made: readers fill it in, triggers sir_meta_plain* delete such a row). `sir_history`
    # and `redactions` keep text ids, without a foreign key (trigger symbol_texts_gone).
    # Rebuilt in place with foreign keys off (`migrate`). Search vectors (11.7 -> 9.3 MB)
    # go from 4 to 3 bits a dimension, converted on first open (aether.store.vectors).
    """
    CREATE TABLE files_v22 (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,        -- workspace-relative posix path
        language TEXT,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        content_hash TEXT,
        status TEXT NOT NULL CHECK (status IN ('indexed', 'skipped')),
        skip_reason TEXT,
        has_syntax_errors INTEGER NOT NULL DEFAULT 0,
        imports TEXT NOT NULL DEFAULT '[]',   -- JSON list, prompt context
        indexed_at TEXT NOT NULL,
        bindings TEXT NOT NULL DEFAULT '{}',
        star_imports TEXT NOT NULL DEFAULT '[]'
    );
    INSERT INTO files_v22 (path, language, size, mtime_ns, content_hash, status, skip_reason,
                           has_syntax_errors, imports, indexed_at, bindings, star_imports)
    SELECT path, language, size, mtime_ns, content_hash, status, skip_reason,
           has_syntax_errors, imports, indexed_at, bindings, star_imports
    FROM files ORDER BY path;
    CREATE TABLE symbol_labels (
        id INTEGER PRIMARY KEY,
        text TEXT NOT NULL UNIQUE         -- a language or a kind of symbol
    );
    INSERT INTO symbol_labels (text)
    SELECT language FROM symbols UNION SELECT kind FROM symbols ORDER BY 1;
    CREATE TABLE symbols_v22 (
        seq INTEGER PRIMARY KEY,          -- rowid alias; also the FTS rowid
        id NOT NULL UNIQUE,               -- stable id (aether.symbols.ids), 16 bytes
        file INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        language INTEGER NOT NULL,        -- symbol_labels.id
        kind INTEGER NOT NULL,            -- symbol_labels.id
        name TEXT NOT NULL,
        qualified TEXT NOT NULL,          -- aether.store.records.stored_qualified
        signature TEXT NOT NULL,          -- aether.store.records.stored_signature
        start_line INTEGER NOT NULL,
        start_col INTEGER NOT NULL,
        end_line INTEGER NOT NULL,
        end_col INTEGER NOT NULL,
        start_byte INTEGER NOT NULL,
        end_byte INTEGER NOT NULL,
        content_hash NOT NULL             -- 16 bytes
    );
    INSERT INTO symbols_v22 (seq, id, file, language, kind, name, qualified, signature,
                             start_line, start_col, end_line, end_col, start_byte, end_byte,
                             content_hash)
    SELECT s.seq, s.id, f.id, l.id, k.id, s.name,
           CASE WHEN instr(s.qualified_name, char(1)) OR instr(s.qualified_name, char(2))
                THEN char(2) || s.qualified_name
                WHEN s.name != '' AND substr(s.qualified_name, -length(s.name)) = s.name
                THEN substr(s.qualified_name, 1, length(s.qualified_name) - length(s.name))
                     || char(1)
                ELSE s.qualified_name END,
           s.signature,
           s.start_line, s.start_col, s.end_line, s.end_col, s.start_byte, s.end_byte,
           s.content_hash
    FROM symbols s JOIN files_v22 f ON f.path = s.file_path
    JOIN symbol_labels l ON l.text = s.language JOIN symbol_labels k ON k.text = s.kind
    ORDER BY s.seq;
    CREATE TABLE sir_v22 (
        seq INTEGER PRIMARY KEY REFERENCES symbols(seq) ON DELETE CASCADE,
        symbol_id,                        -- for salvage only, 16 bytes; NULL: a static SIR
        sir_json NOT NULL,                -- aether.store.packing
        sir_hash NOT NULL,                -- 16 bytes
        source_hash,                      -- of the code it describes; NULL (static SIRs):
                                          -- the symbol's content_hash (sir_source_kept)
        maker INTEGER NOT NULL,           -- sir_makers.id (no foreign key: never deleted)
        created_at INTEGER NOT NULL,      -- ms since 1970 UTC
        verification TEXT
    );
    INSERT INTO sir_v22 (seq, symbol_id, sir_json, sir_hash, source_hash, maker, created_at,
                         verification)
    SELECT r.seq, CASE WHEN k.provider = 'static' THEN NULL ELSE r.symbol_id END,
           r.sir_json, r.sir_hash,
           CASE WHEN k.provider = 'static' AND r.source_hash = s.content_hash THEN NULL
                ELSE r.source_hash END,
           r.maker, r.created_at, r.verification
    FROM sir r JOIN symbols s ON s.seq = r.seq JOIN sir_makers k ON k.id = r.maker
    ORDER BY r.seq;
    -- plain 'ok' rows go: readers take them from the SIR (aether.store.queries)
    DELETE FROM sir_meta WHERE sir_status = 'ok' AND last_error IS NULL AND attempts = 0
        AND last_attempt_at = updated_at
        AND updated_at = (SELECT created_at FROM sir r WHERE r.seq = sir_meta.seq);
    CREATE TABLE sir_history_v22 (
        symbol_id TEXT NOT NULL,          -- no foreign key: trigger symbol_texts_gone
        sir_hash TEXT NOT NULL,
        sir_json NOT NULL,
        source_hash TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        created_at INTEGER NOT NULL,      -- ms since 1970 UTC
        prompt_version TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (symbol_id, sir_hash)
    ) WITHOUT ROWID;
    INSERT INTO sir_history_v22 SELECT symbol_id, sir_hash, sir_json, source_hash, provider,
        model, created_at, prompt_version FROM sir_history;
    CREATE TABLE redactions_v22 (
        symbol_id TEXT PRIMARY KEY,       -- no foreign key: trigger symbol_texts_gone
        count INTEGER NOT NULL,
        updated_at TEXT NOT NULL
    );
    INSERT INTO redactions_v22 SELECT symbol_id, count, updated_at FROM redactions;
    DROP TABLE sir;
    DROP TABLE sir_history;
    DROP TABLE redactions;
    DROP TABLE symbols;
    DROP TABLE files;
    ALTER TABLE files_v22 RENAME TO files;
    ALTER TABLE symbols_v22 RENAME TO symbols;
    ALTER TABLE sir_v22 RENAME TO sir;
    ALTER TABLE sir_history_v22 RENAME TO sir_history;
    ALTER TABLE redactions_v22 RENAME TO redactions;
    CREATE INDEX symbols_by_file ON symbols(file, start_line);
    CREATE INDEX symbols_by_name ON symbols(name);
    """ + _SIR_VECTOR_TRIGGERS + """
    CREATE TRIGGER vector_dirty_symbol AFTER INSERT ON symbols BEGIN
        UPDATE vector_dirty SET rowid = (SELECT MAX(rowid) FROM vector_dirty) + 1
        WHERE seq = new.seq;
        INSERT INTO vector_dirty (seq) SELECT new.seq
        WHERE NOT EXISTS (SELECT 1 FROM vector_dirty WHERE seq = new.seq);
    END;
    CREATE TRIGGER vector_dirty_gone AFTER DELETE ON symbols BEGIN
        DELETE FROM vector_dirty WHERE seq = old.seq;
    END;
    CREATE TRIGGER edges_of_caller_gone AFTER DELETE ON symbols BEGIN
        DELETE FROM edges WHERE id BETWEEN old.seq << 16 AND (old.seq << 16) | 65535;
    END;
    CREATE TRIGGER symbol_texts_gone AFTER DELETE ON symbols BEGIN
        DELETE FROM sir_history WHERE symbol_id = """ + _HEX_OLD_ID + """;
        DELETE FROM redactions WHERE symbol_id = """ + _HEX_OLD_ID + """;
    END;
    -- the code under a SIR that describes it changes: the SIR keeps the hash it describes
    CREATE TRIGGER sir_source_kept AFTER UPDATE OF content_hash ON symbols
    WHEN """ + _HEX_OF.format("old.content_hash") + " IS NOT " + _HEX_OF.format(
        "new.content_hash") + """ BEGIN
        UPDATE sir SET source_hash = old.content_hash
        WHERE seq = old.seq AND source_hash IS NULL;
    END;
    -- a sir_meta row that says no more than its SIR does goes (whoever wrote it)
    CREATE TRIGGER sir_meta_plain AFTER INSERT ON sir_meta WHEN """ + _PLAIN_META + """ BEGIN
        DELETE FROM sir_meta WHERE seq = new.seq;
    END;
    CREATE TRIGGER sir_meta_plain_again AFTER UPDATE ON sir_meta WHEN """ + _PLAIN_META + """
    BEGIN
        DELETE FROM sir_meta WHERE seq = new.seq;
    END;
    INSERT INTO meta (key, value) VALUES ('compact_ids', 'copied')
        ON CONFLICT(key) DO UPDATE SET value = 'copied';
    """,
    # v23: smaller SIR rows and search index (issue 17). A SIR's search words leave out the
    # stop words, which no question searches for (aether.symbols.terms.prose_column; 12% of
    # the search index), and SIRs are deflated with a 32 KB trained dictionary instead of
    # 1.3 KB (aether.store.packing, format 2). Converted on open in Python (the search rows'
    # rebuild packs every SIR again, aether.store.search_rows); this step asks for it, so
    # the store is vacuumed afterwards.
    """
    INSERT INTO meta (key, value) VALUES ('search_rows', 'rebuild')
        ON CONFLICT(key) DO UPDATE SET value = 'rebuild';
    """,
    # v24: type facts and renaming imports out of `files.bindings` into `name_facts`, found by
    # name (issue 17: every save read and scanned every file's bindings for them, ~5 ms and
    # the interpreter's arenas pinned by what it built; aether.store.name_facts). A row's id
    # is its file's id << 16 | its ordinal; kinds 0 returns, 1 bases, 2 a variable's type
    # (keys `Q()`, `Q.__bases__`, `v.__class__` until now), 3 a local name -> the name it
    # imports (found by either). Bindings keep their imports only, a name imported as itself
    # as "" (`import os`), JSON without spaces.
    """
    CREATE TABLE name_facts (
        id INTEGER PRIMARY KEY,           -- files.id << 16 | ordinal
        kind INTEGER NOT NULL,
        name TEXT NOT NULL,               -- what it is looked up by
        scope TEXT NOT NULL DEFAULT '',   -- `App` of `App.make` (a type fact's subject)
        value TEXT NOT NULL               -- a type, bases (comma-separated), the other name
    );
    WITH entries (file, key, value, kind) AS (
        SELECT f.id, j.key, j.value,
               CASE WHEN substr(j.key, -2) = '()' THEN 0
                    WHEN substr(j.key, -10) = '.__bases__' THEN 1
                    WHEN substr(j.key, -10) = '.__class__' THEN 2 END
        FROM files f, json_each(f.bindings) j
        WHERE f.bindings != '{}' AND j.type = 'text'
    ), facts (file, kind, subject, value) AS (
        SELECT file, kind, substr(key, 1, length(key) - CASE kind WHEN 0 THEN 2 ELSE 10 END),
               value
        FROM entries WHERE kind IS NOT NULL
    ), named (file, kind, name, scope, value) AS (
        SELECT file, kind, substr(subject, length(rtrim(subject, replace(subject, '.', ''))) + 1),
               rtrim(rtrim(subject, replace(subject, '.', '')), '.'), value
        FROM facts
    ), renames (file, local, imported) AS (
        SELECT file, key, substr(t, length(rtrim(t, replace(t, '.', ''))) + 1)
        FROM (SELECT file, key, replace(value, '::', '.') AS t FROM entries WHERE kind IS NULL)
    ), found (file, kind, name, scope, value) AS (
        SELECT * FROM named
        UNION ALL SELECT file, 3, local, '', imported FROM renames WHERE local != imported
    )
    INSERT INTO name_facts (id, kind, name, scope, value)
    SELECT (file << 16) | (row_number() OVER (PARTITION BY file ORDER BY kind, scope, name) - 1),
           kind, name, scope, value
    FROM found ORDER BY 1;
    UPDATE files SET bindings = (
        SELECT json_group_object(j.key, CASE WHEN j.value = j.key THEN '' ELSE j.value END)
        FROM json_each(files.bindings) j
        WHERE NOT (substr(j.key, -2) = '()' OR substr(j.key, -10) IN ('.__bases__', '.__class__')))
    WHERE bindings != '{}';
    CREATE INDEX name_facts_by_name ON name_facts(name);
    CREATE INDEX name_facts_renamed ON name_facts(value) WHERE kind = 3;
    CREATE TRIGGER name_facts_of_file_gone AFTER DELETE ON files BEGIN
        DELETE FROM name_facts WHERE id BETWEEN old.id << 16 AND (old.id << 16) | 65535;
    END;
    """,
    # v25 (issue 17): a file's import list and bindings deflated (0.85 MB of Django's 37 MB,
    # its module paths repeated for each name; aether.store.packing.pack_json), converted on
    # open in Python (aether.store.compact_rows; this step asks for it); a search vector's
    # two hashes cut from 8 to 4 bytes (aether.store.records.VECTOR_HASH_BYTES).
    """
    INSERT INTO meta (key, value) VALUES ('packed_json', 'text')
        ON CONFLICT(key) DO UPDATE SET value = 'text';
    UPDATE symbol_vectors SET text_hash = substr(text_hash, 1, 4)
        WHERE typeof(text_hash) = 'blob' AND length(text_hash) > 4;
    UPDATE symbol_vectors SET sir_hash = substr(sir_hash, 1, 4)
        WHERE typeof(sir_hash) = 'blob' AND length(sir_hash) > 4;
    """,
    # v26: an edge's callee that ends with its name is kept without it (issue 17:
    # `Book.objects.all().` for `Book.objects.all().delete`, 0.19 MB of Django's edges;
    # aether.store.edges.stored_callee).
    """
    UPDATE edges SET callee = substr(callee, 1, length(callee) - length(
            (SELECT text FROM edge_texts WHERE id = edges.name)))
    WHERE callee IS NOT NULL
      AND substr(callee, -1 - length((SELECT text FROM edge_texts WHERE id = edges.name)))
          = '.' || (SELECT text FROM edge_texts WHERE id = edges.name);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
# the migration that rewrites the call graph (v21): the store is vacuumed after it
COMPACT_EDGES = 21


class SchemaTooNew(Exception):
    pass


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction on a plain connection (the upgrades made when a store opens),
    its lock taken at once, rolled back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def convert_once(conn: sqlite3.Connection, key: str, done: str,
                 convert: Callable[[sqlite3.Connection], None]) -> bool:
    """Run `convert` once per store, in one write transaction: when meta `key` holds
    something other than `done` (a migration asks for a conversion SQL cannot make by
    setting it), then set it to `done`. True if this call converted."""
    get = "SELECT value FROM meta WHERE key = ?"
    row = conn.execute(get, (key,)).fetchone()
    if row is None or row[0] == done:
        return False
    with immediate(conn):
        row = conn.execute(get, (key,)).fetchone()
        if row is None or row[0] == done:  # another process converted it meanwhile
            return False
        convert(conn)
        conn.execute("UPDATE meta SET value = ? WHERE key = ?", (done, key))
    return True


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to SCHEMA_VERSION; each step is one transaction."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"database schema v{version} is newer than this aether (v{SCHEMA_VERSION})"
        )
    if version == SCHEMA_VERSION:
        return SCHEMA_VERSION
    # Off while tables are rebuilt (v22 rebuilds `symbols`): dropping a parent table with
    # foreign keys on deletes its children's rows first.
    keys = conn.execute("PRAGMA foreign_keys").fetchone()[0]
    conn.execute("PRAGMA foreign_keys=OFF")
    try:
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with immediate(conn):
                # Re-check inside the write lock: another process may have migrated meanwhile.
                if conn.execute("PRAGMA user_version").fetchone()[0] >= target:
                    continue
                for statement in _split(MIGRATIONS[target - 1]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {target}")
    finally:
        conn.execute(f"PRAGMA foreign_keys={'ON' if keys else 'OFF'}")
    return SCHEMA_VERSION


def _split(script: str) -> list[str]:
    """Split a migration into statements (sqlite3.complete_statement knows about quotes)."""
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
