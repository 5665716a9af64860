"""SQL text and row builders for the store."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aether.store.packing import pack_json
from aether.store.records import (
    VECTOR_HASH_BYTES,
    FileRecord,
    pack_hash,
    stored_qualified,
    stored_signature,
)
from aether.symbols.model import Symbol

FILE_STATES = "SELECT path, size, mtime_ns, content_hash, status FROM files"
ANY_FILE = "SELECT 1 FROM files LIMIT 1"


def file_states_of(n: int) -> str:
    return FILE_STATES + f" WHERE path IN ({','.join('?' * n)})"


FILE_IMPORTS = "SELECT imports FROM files WHERE path = ?"
FILE_STATUS = "SELECT status, skip_reason FROM files WHERE path = ?"

UPSERT_FILE = """
INSERT INTO files (path, language, size, mtime_ns, content_hash, status, skip_reason,
                   has_syntax_errors, imports, indexed_at, bindings, star_imports)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(path) DO UPDATE SET
    language = excluded.language, size = excluded.size, mtime_ns = excluded.mtime_ns,
    content_hash = excluded.content_hash, status = excluded.status,
    skip_reason = excluded.skip_reason, has_syntax_errors = excluded.has_syntax_errors,
    imports = excluded.imports, indexed_at = excluded.indexed_at,
    bindings = excluded.bindings, star_imports = excluded.star_imports
"""
DELETE_FILE = "DELETE FROM files WHERE path = ?"
# schema v25 (aether.store.compact_rows): rows whose JSON is still text
ALL_FILE_JSON = ("SELECT id, imports, bindings FROM files "
                 "WHERE typeof(imports) = 'text' OR typeof(bindings) = 'text'")
SET_FILE_JSON = "UPDATE files SET imports = ?, bindings = ? WHERE id = ?"
TOUCH_FILE = "UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?"


_COMPACT = (",", ":")  # JSON without spaces


def file_row(r: FileRecord, now: str, bindings: str | bytes) -> tuple[Any, ...]:
    """`bindings`: the file's imports as stored (its type facts are rows of their own:
    aether.store.name_facts)."""
    return (r.path, r.language, r.size, r.mtime_ns, r.content_hash, r.status, r.skip_reason,
            int(r.has_syntax_errors), pack_json(json.dumps(r.imports, separators=_COMPACT)),
            now, bindings, json.dumps(r.star_imports, separators=_COMPACT))


def hex_of(column: str) -> str:
    """A hash or symbol id as text, however it is stored: 16 bytes (`sir` since v20,
    `symbols.id` since v22, vector rows since v16) or text (aether.store.records.pack_hash)."""
    return f"(CASE WHEN typeof({column}) = 'blob' THEN lower(hex({column})) ELSE {column} END)"


# A symbol row (v22) names its file by number and its language and kind by number, and keeps
# its id in 16 bytes: statements read them back as text with these, and take an id as stored
# (`key`, which is aether.store.records.pack_hash).
def sid(alias: str) -> str:
    """The symbol id of symbols row `alias`, as text."""
    return hex_of(f"{alias}.id")


def label(column: str) -> str:
    """A language or kind (symbol_labels) as text."""
    return f"(SELECT text FROM symbol_labels WHERE symbol_labels.id = {column})"


def qname(alias: str) -> str:
    """The qualified name of symbols row `alias` (stored with its name as a mark:
    aether.store.records.stored_qualified)."""
    q = f"{alias}.qualified"
    return (f"(CASE WHEN substr({q}, 1, 1) = char(2) THEN substr({q}, 2) "
            f"WHEN substr({q}, -1) = char(1) THEN substr({q}, 1, length({q}) - 1) || {alias}.name "
            f"ELSE {q} END)")


def path_of(alias: str) -> str:
    """The file path of symbols row `alias` (NULL for a NULL row of a LEFT JOIN)."""
    return f"(SELECT path FROM files WHERE files.id = {alias}.file)"


def key(symbol_id: str) -> bytes | str | None:
    """A symbol id as `symbols.id` holds it: what `WHERE id = ?` is given."""
    return pack_hash(symbol_id)


def keys(symbol_ids: Sequence[str]) -> list[bytes | str | None]:
    return [pack_hash(i) for i in symbol_ids]


_FILE_ID = "(SELECT id FROM files WHERE path = {})"


def _in_files(n: int, alias: str = "s") -> str:
    return f"{alias}.file IN (SELECT id FROM files WHERE path IN ({','.join('?' * n)}))"


def symbols_for_files(n: int) -> str:
    return (f"SELECT s.seq, {sid('s')}, s.content_hash, s.name FROM symbols s "
            f"WHERE {_in_files(n)}")


def names_in_files(n: int) -> str:
    return f"SELECT s.name, s.seq FROM symbols s WHERE {_in_files(n)}"


ADD_LABEL = "INSERT OR IGNORE INTO symbol_labels (text) VALUES (?)"
_LABEL_ID = "(SELECT id FROM symbol_labels WHERE text = {})"
INSERT_SYMBOL = f"""
INSERT INTO symbols (seq, id, language, file, kind, name, qualified, signature, start_line,
                     start_col, end_line, end_col, start_byte, end_byte, content_hash)
VALUES (?1, ?2, {_LABEL_ID.format('?3')}, {_FILE_ID.format('?4')}, {_LABEL_ID.format('?5')},
        ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
"""
# Seqs are never reused (edges, search rows and vectors point at them): the next one is past
# both the largest in use and the largest ever given (meta `seq_high`).
SEQ_HIGH = "seq_high"
NEXT_SEQ = f"""
SELECT MAX(COALESCE((SELECT MAX(seq) FROM symbols), 0),
           COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '{SEQ_HIGH}'), 0))
"""
UPDATE_SYMBOL = """
UPDATE symbols SET start_line = ?, start_col = ?, end_line = ?, end_col = ?,
                   start_byte = ?, end_byte = ?, content_hash = ?
WHERE id = ?
"""
DELETE_SYMBOL_BY_SEQ = "DELETE FROM symbols WHERE seq = ?"


def symbol_row(seq: int, s: Symbol) -> tuple[Any, ...]:
    """The content hash in 16 bytes and the signature with its name as a mark (v20,
    `pack_hash`, `stored_signature`); read back as they were by `SymbolRecord`."""
    return (seq, pack_hash(s.id), s.language, s.file_path, s.kind, s.name,
            stored_qualified(s.qualified_name, s.name),
            stored_signature(s.signature, s.name),
            s.start_line, s.start_col, s.end_line, s.end_col, s.start_byte, s.end_byte,
            pack_hash(s.content_hash))


def symbol_update_row(s: Symbol) -> tuple[Any, ...]:
    return (s.start_line, s.start_col, s.end_line, s.end_col, s.start_byte, s.end_byte,
            pack_hash(s.content_hash), pack_hash(s.id))


# The rowid is the symbol's seq, given explicitly: a per-row subselect doubled insert time.
# Rows come from aether.store.records.search_row. The table is contentless (v15): a row is
# deleted by repeating it (aether.store.search_rows), never updated.
_FTS_COLS = "name, name_words, qual_words, intent, sir_words, path_words"
INSERT_FTS = f"INSERT INTO symbol_fts (rowid, {_FTS_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
DELETE_FTS_ROW = (f"INSERT INTO symbol_fts (symbol_fts, rowid, {_FTS_COLS}) "
                  "VALUES ('delete', ?, ?, ?, ?, ?, ?, ?)")
CLEAR_FTS = "INSERT INTO symbol_fts (symbol_fts) VALUES ('delete-all')"
# Merge the search index's segments into one (a cold pass leaves dozens, partly filled).
OPTIMIZE_FTS = "INSERT INTO symbol_fts (symbol_fts) VALUES ('optimize')"
# What a search row is made of: (seq, name, qualified_name, file_path, stored SIR value).
_SEARCH_SOURCES = f"""
SELECT s.seq, s.name, {qname('s')}, f.path, r.sir_json
FROM symbols s JOIN files f ON f.id = s.file LEFT JOIN sir r ON r.seq = s.seq
"""
ALL_FOR_SEARCH_ROWS = _SEARCH_SOURCES
SEARCH_SOURCES_BY_FILE = _SEARCH_SOURCES + "WHERE f.path = ?"


def search_sources_by_seqs(n: int) -> str:
    return _SEARCH_SOURCES + f"WHERE s.seq IN ({','.join('?' * n)})"


def search_sources_by_ids(n: int) -> str:
    """(id, *search sources) of these symbol ids (as stored: `keys`)."""
    return (f"SELECT {sid('s')}," + _SEARCH_SOURCES.replace("SELECT", "", 1)
            + f"WHERE s.id IN ({','.join('?' * n)})")


SET_SIR_VALUE = "UPDATE sir SET sir_json = ? WHERE seq = ?"
ALL_SIR_HASHES = "SELECT seq, sir_hash, source_hash FROM sir"
SET_SIR_HASHES = "UPDATE sir SET sir_hash = ?, source_hash = ? WHERE seq = ?"
ALL_SYMBOL_FORMS = "SELECT seq, content_hash, name, signature FROM symbols"
SET_SYMBOL_FORMS = "UPDATE symbols SET content_hash = ?, signature = ? WHERE seq = ?"
ALL_SYMBOL_IDS = "SELECT seq, id FROM symbols"
SET_SYMBOL_ID = "UPDATE symbols SET id = ? WHERE seq = ?"


# sir and sir_meta are keyed by the symbol's seq (schema v13); statements that take a symbol id
# (as stored: `key`) find its seq through the unique index on symbols.id.
_SEQ = "(SELECT seq FROM symbols WHERE id = {})"


def _ms(param: str) -> str:
    """An ISO-8601 UTC time (aether.store.records.utc_now) as sir_meta (v17) and the SIR
    tables (v19) store it: milliseconds since 1970 (exact: julianday keeps whole
    milliseconds)."""
    return f"CAST(ROUND((julianday({param}) - 2440587.5) * 86400000) AS INTEGER)"


# A symbol with a SIR and no sir_meta row (v22) is plain 'ok': no error, no failed attempt,
# attempted and updated when its SIR was made. Readers fill that in (`_COLUMNS`); writers
# insert the row when they change it (each MARK_* is an upsert whose insert starts from
# those values) and the triggers `sir_meta_plain*` delete it again when it is plain.
# Only symbols without a SIR get a row when they are new (`pending`).
INSERT_META = ("INSERT INTO sir_meta (seq, sir_status, last_attempt_at, updated_at) "
               f"VALUES (?1, ?2, {_ms('?3')}, {_ms('?4')})")
_IMPLIED = ("SELECT s.seq, {status}, {error}, {attempt}, {attempts}, {updated} "
            "FROM symbols s LEFT JOIN sir r ON r.seq = s.seq WHERE s.id = {id}")
_META_UPSERT = ("INSERT INTO sir_meta (seq, sir_status, last_error, last_attempt_at, "
                "attempts, updated_at) ")
_PLAIN_STATUS = "CASE WHEN r.seq IS NULL THEN 'pending' ELSE 'ok' END"
# Code changed under an existing SIR: keep it, but it now describes an earlier version.
MARK_OUTDATED = _META_UPSERT + _IMPLIED.format(
    status="CASE WHEN r.seq IS NULL THEN 'pending' ELSE 'stale' END", error="NULL",
    attempt="r.created_at", attempts="0", updated=_ms("?1"), id="?2") + """
ON CONFLICT(seq) DO UPDATE SET updated_at = excluded.updated_at,
    sir_status = CASE WHEN EXISTS (SELECT 1 FROM sir WHERE sir.seq = sir_meta.seq)
                      THEN 'stale' ELSE 'pending' END
"""
MARK_OK = _META_UPSERT + _IMPLIED.format(
    status="CASE WHEN r.seq IS NOT NULL AND COALESCE(r.source_hash, s.content_hash) "
           "= s.content_hash THEN 'ok' ELSE 'stale' END",  # both as stored
    error="NULL", attempt=_ms("?1"), attempts="0", updated=_ms("?2"), id="?3") + """
ON CONFLICT(seq) DO UPDATE SET last_error = NULL, last_attempt_at = excluded.last_attempt_at,
    attempts = 0, updated_at = excluded.updated_at, sir_status = excluded.sir_status
"""
# A SIR made from the very code now stored (a static SIR in the same transaction, made at
# that time): plain 'ok', no row.
MARK_OK_CURRENT = "DELETE FROM sir_meta WHERE seq = " + _SEQ.format("?1")
MARK_FAILED = _META_UPSERT + _IMPLIED.format(
    status="'stale'", error="?1", attempt=_ms("?2"), attempts="1", updated=_ms("?3"),
    id="?4") + """
ON CONFLICT(seq) DO UPDATE SET sir_status = 'stale', last_error = excluded.last_error,
    last_attempt_at = excluded.last_attempt_at, attempts = attempts + 1,
    updated_at = excluded.updated_at
"""
MARK_DEFERRED = _META_UPSERT + _IMPLIED.format(
    status=_PLAIN_STATUS, error="?1", attempt="r.created_at", attempts="0",
    updated=_ms("?2"), id="?3") + """
ON CONFLICT(seq) DO UPDATE SET last_error = excluded.last_error,
    updated_at = excluded.updated_at
"""
SYMBOL_HASH = "SELECT content_hash FROM symbols WHERE id = ?"

# Who made a SIR (provider, model, prompt version) is a row of `sir_makers` (v20), added
# before the SIRs that name it; the id (?1, `key`) and hashes are given as stored
# (aether.store.records.pack_hash). The source hash is not kept when it is the symbol's
# content hash (v22).
ADD_SIR_MAKER = ("INSERT OR IGNORE INTO sir_makers (provider, model, prompt_version) "
                 "VALUES (?, ?, ?)")
_MAKER = "(SELECT id FROM sir_makers WHERE provider = {} AND model = {} AND prompt_version = {})"
# ?10: the id again, for salvage, or NULL for a static SIR, whose row keeps no source hash
# either when it is the symbol's content hash (v22: salvage reads both from `symbols`, and a
# static SIR costs nothing to make again when it cannot).
UPSERT_SIR = f"""
INSERT INTO sir (seq, symbol_id, sir_json, sir_hash, source_hash, maker, created_at,
                 verification)
SELECT seq, ?10, ?2, ?3, CASE WHEN ?10 IS NULL AND ?4 = content_hash THEN NULL ELSE ?4 END,
       {_MAKER.format('?5', '?6', '?8')}, {_ms('?7')}, ?9
FROM symbols WHERE id = ?1
ON CONFLICT(seq) DO UPDATE SET
    symbol_id = excluded.symbol_id, sir_json = excluded.sir_json, sir_hash = excluded.sir_hash,
    source_hash = excluded.source_hash, maker = excluded.maker,
    created_at = excluded.created_at, verification = excluded.verification
"""
# A SIR row as history and salvage keep it: every column as text (hashes in hex), the maker
# by name. `r` is the row of `sir`.
_SOURCE = "COALESCE(r.source_hash, (SELECT content_hash FROM symbols WHERE seq = r.seq))"
_SIR_TEXT = f"""{hex_of('r.sir_hash')}, r.created_at, k.provider, k.model, k.prompt_version,
       {hex_of(_SOURCE)}, r.sir_json
FROM sir r JOIN sir_makers k ON k.id = r.maker"""
# History holds superseded versions only (the current one is the `sir` row): before a SIR is
# replaced by a different one, the old row moves here. Params: (symbol_id, new sir_hash as
# stored, symbol id as stored).
ARCHIVE_SIR = f"""
INSERT OR IGNORE INTO sir_history
    (symbol_id, sir_hash, created_at, provider, model, prompt_version, source_hash, sir_json)
SELECT ?1, {_SIR_TEXT}
WHERE r.seq = {_SEQ.format("?3")} AND r.sir_hash != ?2
"""
# Params: (symbol id, symbol id as stored).
HISTORY_VERSIONS = f"""
SELECT {_SIR_TEXT}
WHERE r.seq = {_SEQ.format("?2")}
UNION ALL
SELECT sir_hash, created_at, provider, model, prompt_version, source_hash, sir_json
FROM sir_history WHERE symbol_id = ?1
    AND sir_hash NOT IN (SELECT {hex_of('sir_hash')} FROM sir
                         WHERE seq = {_SEQ.format("?2")})
ORDER BY created_at DESC
"""
# A SIR made by another provider, model or prompt version than the configured one: kept and
# served, but stale until the configured model has described the code.
MARK_MODEL_CHANGED = _META_UPSERT + f"""
SELECT r.seq, 'stale', NULL, r.created_at, 0, {_ms('?1')}
FROM sir r LEFT JOIN sir_meta m ON m.seq = r.seq
WHERE COALESCE(m.sir_status, 'ok') = 'ok' AND r.maker IS NOT {_MAKER.format('?2', '?3', '?4')}
ON CONFLICT(seq) DO UPDATE SET sir_status = 'stale', updated_at = excluded.updated_at
"""
UNVERIFIED_COUNT = (
    "SELECT COUNT(*) FROM sir WHERE verification IS NOT NULL "
    "AND json_array_length(verification, '$.unsupported') > 0"
)
MODEL_CHANGED_QUEUE = f"""
SELECT {sid('s')}, f.path, {qname('s')}
FROM sir r JOIN symbols s ON s.seq = r.seq JOIN files f ON f.id = s.file
LEFT JOIN sir_meta m ON m.seq = s.seq
WHERE COALESCE(m.sir_status, 'ok') = 'ok' AND r.maker IS NOT {_MAKER.format('?1', '?2', '?3')}
ORDER BY f.path, s.start_line
"""
INSERT_USAGE = """
INSERT INTO usage (at, day, provider, model, status, input_tokens, output_tokens, reported,
                   prompt_chars, output_chars, cost, priced)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
USAGE_ON_DAY = (
    "SELECT COALESCE(SUM(input_tokens + output_tokens), 0), COALESCE(SUM(cost), 0) "
    "FROM usage WHERE day = ? AND provider = ? AND model = ?"
)
# Reported usage of successful requests: the chars-per-token ratio and the answer length.
USAGE_CALIBRATION = """
SELECT COALESCE(SUM(prompt_chars), 0), COALESCE(SUM(input_tokens), 0),
       COALESCE(AVG(output_tokens), 0), COUNT(*)
FROM usage WHERE provider = ? AND model = ? AND status = 'ok' AND reported = 1
"""
USAGE_BY_DAY_MODEL = """
SELECT day, provider, model, COUNT(*), SUM(status = 'ok'), SUM(input_tokens),
       SUM(output_tokens), SUM(cost), MIN(priced), MIN(reported)
FROM usage WHERE day >= ? GROUP BY day, provider, model ORDER BY day, provider, model
"""
# Params: (symbol id, symbol id as stored).
HISTORY = f"""
SELECT {hex_of('sir_hash')}, created_at, sir_json FROM sir
WHERE seq = {_SEQ.format("?2")}
UNION ALL
SELECT sir_hash, created_at, sir_json FROM sir_history WHERE symbol_id = ?1
    AND sir_hash NOT IN (SELECT {hex_of('sir_hash')} FROM sir
                         WHERE seq = {_SEQ.format("?2")})
ORDER BY created_at DESC
"""

UPSERT_REDACTIONS = """
INSERT INTO redactions (symbol_id, count, updated_at) VALUES (?, ?, ?)
ON CONFLICT(symbol_id) DO UPDATE SET count = excluded.count, updated_at = excluded.updated_at
"""
DELETE_REDACTIONS = "DELETE FROM redactions WHERE symbol_id = ?"
ANY_REDACTIONS = "SELECT EXISTS (SELECT 1 FROM redactions)"

INSERT_ERROR = """
INSERT INTO errors (at, operation, error_type, message, path, symbol_id)
VALUES (?, ?, ?, ?, ?, ?)
"""
ERRORS_SINCE = """
SELECT error_type, COUNT(*), MAX(at) FROM errors WHERE at >= ?
GROUP BY error_type ORDER BY COUNT(*) DESC LIMIT ?
"""

SET_META = (
    "INSERT INTO meta (key, value) VALUES (?, ?) "
    "ON CONFLICT(key) DO UPDATE SET value = excluded.value"
)
GET_META = "SELECT value FROM meta WHERE key = ?"

# One shape for every read, matching aether.store.records.SymbolRecord field order (which
# turns stored hashes and times back into text).
# No sir_meta row: a plain 'ok' SIR (v22, see INSERT_META).
_COLUMNS = f"""
SELECT {sid('s')}, {label('s.language')}, f.path, {label('s.kind')}, s.name, {qname('s')},
       s.signature, s.start_line, s.start_col, s.end_line, s.end_col, s.start_byte, s.end_byte,
       s.content_hash,
       COALESCE(m.sir_status, {_PLAIN_STATUS}), m.last_error,
       CASE WHEN m.seq IS NULL THEN r.created_at ELSE m.last_attempt_at END,
       COALESCE(m.attempts, 0), COALESCE(m.updated_at, r.created_at),
       r.sir_json, r.sir_hash, COALESCE(r.source_hash, s.content_hash), k.provider, k.model,
       r.created_at, k.prompt_version, r.verification
"""
_JOINS = """
JOIN files f ON f.id = s.file
LEFT JOIN sir_meta m ON m.seq = s.seq
LEFT JOIN sir r ON r.seq = s.seq
LEFT JOIN sir_makers k ON k.id = r.maker
"""
_RECORD = _COLUMNS + "FROM symbols s" + _JOINS
RECORD_BY_ID = _RECORD + "WHERE s.id = ?"


def records_by_qname(n: int) -> str:
    """Symbols of one qualified name (?1), found through the name index (v20 dropped the one
    on qualified names): its name is among the `n` ends of it given as ?2.. (`qname_ends`)."""
    marks = ",".join(f"?{i}" for i in range(2, n + 2))
    return (_RECORD + f"WHERE s.name IN ({marks}) AND {qname('s')} = ?1 "
            "ORDER BY f.path, s.start_line")


def qname_ends(qualified_name: str) -> list[str]:
    """Every end of a qualified name that may be its symbol's name: the whole, and each part
    that starts after or at a character that is not a word character (`pkg.Cls.run` ->
    `run`, `Cls.run`; `A::operator+` -> `operator+`, `+`; `Foo#==` -> `==`, `=`)."""
    out = [qualified_name]
    for i in range(1, len(qualified_name)):
        if not (qualified_name[i - 1].isalnum() or qualified_name[i - 1] == "_") or not (
                qualified_name[i].isalnum() or qualified_name[i] == "_"):
            out.append(qualified_name[i:])
    # a statement takes at most 32,766 parameters: a (hostile) name of thousands of parts
    # keeps its whole and its shortest ends
    return list(dict.fromkeys(out if len(out) <= MAX_ENDS else [out[0], *out[1 - MAX_ENDS:]]))


MAX_ENDS = 1000


RECORDS_BY_NAME = _RECORD + "WHERE s.name = ? ORDER BY f.path, s.start_line LIMIT ?"
def records_by_ids(n: int) -> str:
    return _RECORD + f"WHERE s.id IN ({','.join('?' * n)})"


RECORDS_IN_FILE = _RECORD + "WHERE f.path = ? ORDER BY s.start_line"
RECORD_AT_LINE = _RECORD + """
WHERE f.path = ? AND s.start_line <= ? AND s.end_line >= ?
ORDER BY s.end_line - s.start_line ASC, s.start_line DESC LIMIT 1
"""
# bm25 weights, in column order: name (whole identifier), name_words, qual_words (enclosing
# names), intent, sir_words (other SIR fields), path_words. Ranked in FTS alone (cheap): the
# rows' texts and the records are read afterwards for the few candidates that survive.
SEARCH_FTS = """
SELECT rowid, bm25(symbol_fts, 10.0, 6.0, 3.0, 2.5, 1.0, 0.5) AS score
FROM symbol_fts WHERE symbol_fts MATCH ?1 ORDER BY score LIMIT ?2
"""
COUNT_NAMED = "SELECT COUNT(*) FROM symbols WHERE name = ?"
ALL_NAMES = "SELECT DISTINCT name FROM symbols"


def paths_by_seqs(n: int) -> str:
    return (f"SELECT s.seq, f.path, {qname('s')}, s.name FROM symbols s "
            f"JOIN files f ON f.id = s.file WHERE s.seq IN ({','.join('?' * n)})")


def records_by_seqs(n: int) -> str:
    """(seq, *record columns) for these seqs."""
    return ("SELECT s.seq," + _COLUMNS.replace("SELECT", "", 1) + "FROM symbols s" + _JOINS
            + f"WHERE s.seq IN ({','.join('?' * n)})")


# Vectors: one embedding per symbol (aether.store.vectors), with the hash of its text.
# Symbols whose vector may be out of date: none yet, another model, or a different SIR
# than the one it was made from (the caller compares the text itself before embedding).
# Vector rows (v16) name their model by number (vector_models) and keep both hashes as 16
# bytes: a hash that is not 32 hex characters (never written by aether) stays text.
_MODEL_ID = "(SELECT id FROM vector_models WHERE name = {})"
# A SIR's hash as its vector row keeps it (v20: aether.store.vectors.pack_vector_hash).
_VECTOR_HASH = (f"(CASE WHEN typeof({{0}}) = 'blob' THEN substr({{0}}, 1, {VECTOR_HASH_BYTES}) "
                "ELSE {0} END)")
_VECTOR_SOURCE = f"""
SELECT {sid('s')}, s.name, {qname('s')}, r.sir_json, r.sir_hash,  -- the stored SIR: packed,
                                                                 -- its hash as stored
       CASE WHEN v.model = {_MODEL_ID.format('?1')} THEN v.text_hash END  -- another model's
                                                                          -- vector: re-embed
"""
_VECTOR_STALE = f"""
LEFT JOIN sir r ON r.seq = s.seq LEFT JOIN symbol_vectors v ON v.seq = s.seq
WHERE (v.seq IS NULL OR v.model IS NOT {_MODEL_ID.format('?1')}
       OR v.sir_hash IS NOT {_VECTOR_HASH.format('r.sir_hash')})
"""
VECTOR_SOURCES = _VECTOR_SOURCE + "FROM symbols s" + _VECTOR_STALE
# The same, among the symbols marked dirty up to a mark (schema v14's triggers).
VECTOR_SOURCES_DIRTY = (_VECTOR_SOURCE + "FROM vector_dirty d JOIN symbols s ON s.seq = d.seq"
                        + _VECTOR_STALE + "AND d.rowid <= ?2")
VECTOR_DIRTY_MARK = "SELECT COALESCE(MAX(rowid), 0) FROM vector_dirty"
CLEAR_VECTOR_DIRTY = "DELETE FROM vector_dirty WHERE rowid <= ?"
ADD_VECTOR_MODEL = "INSERT OR IGNORE INTO vector_models (name) VALUES (?)"
# Only for a symbol still there (it may have been removed while its vector was made).
UPSERT_VECTOR_LIVE = f"""
INSERT INTO symbol_vectors (seq, text_hash, sir_hash, model, vec)
SELECT seq, ?2, ?3, {_MODEL_ID.format('?4')}, ?5 FROM symbols WHERE id = ?1
ON CONFLICT(seq) DO UPDATE SET
    text_hash = excluded.text_hash, sir_hash = excluded.sir_hash, model = excluded.model,
    vec = excluded.vec
"""
# Same text from a new SIR: the vector stands, only the SIR it answers for moves on.
MARK_VECTOR_CURRENT = (
    "UPDATE symbol_vectors SET sir_hash = ? WHERE seq = (SELECT seq FROM symbols WHERE id = ?)")
ALL_VECTORS = f"SELECT seq, vec FROM symbol_vectors WHERE model = {_MODEL_ID.format('?')}"
ALL_VECTOR_ROWS = "SELECT seq, vec, text_hash, sir_hash FROM symbol_vectors"
SET_VECTOR_ROW = "UPDATE symbol_vectors SET vec = ?, text_hash = ?, sir_hash = ? WHERE seq = ?"
VECTOR_COUNTS = """
SELECT (SELECT COUNT(*) FROM symbols),
       (SELECT COUNT(*) FROM symbol_vectors WHERE model = (
            SELECT id FROM vector_models WHERE name = ?))
"""
SEARCH_LIKE = _RECORD + f"""
WHERE {qname('s')} LIKE ?1 ESCAPE '\\' OR f.path LIKE ?2 ESCAPE '\\'
ORDER BY length({qname('s')}) LIMIT ?3
"""
NEEDING_SIR = f"""
SELECT {sid('s')}, f.path, {qname('s')}
FROM sir_meta m JOIN symbols s ON s.seq = m.seq JOIN files f ON f.id = s.file
WHERE m.sir_status != 'ok' AND (?1 OR m.last_error IS NULL)
ORDER BY m.sir_status = 'stale', m.attempts, f.path, s.start_line LIMIT ?2
"""
ADD_WORK = "INSERT INTO work_requests (kind, payload, requested_at) VALUES (?, ?, ?)"
TAKE_WORK = "DELETE FROM work_requests RETURNING kind, payload"
COUNTS = """
SELECT
  (SELECT COUNT(*) FROM files WHERE status = 'indexed'),
  (SELECT COUNT(*) FROM files WHERE status = 'skipped'),
  (SELECT COUNT(*) FROM symbols),
  (SELECT COUNT(*) FROM sir),
  -- a symbol without a sir_meta row is 'ok' (v22)
  (SELECT COUNT(*) FROM symbols)
      - (SELECT COUNT(*) FROM sir_meta WHERE sir_status != 'ok'),
  -- the status index holds only symbols not 'ok' (v20): say so, for the planner
  (SELECT COUNT(*) FROM sir_meta WHERE sir_status != 'ok' AND sir_status = 'stale'),
  (SELECT COUNT(*) FROM sir_meta WHERE sir_status != 'ok' AND sir_status = 'pending'),
  (SELECT COUNT(*) FROM errors),
  (SELECT COUNT(*) FROM redactions),
  (SELECT COALESCE(SUM(count), 0) FROM redactions)
"""


# ---------------------------------------------------------------------------- salvage

# Each reads (symbol_id, source_hash, sir_json, provider, model, created_at, prompt_version,
# verification) from `sir` (a filter on `rowid` may follow), subqueries for the rest:
# schema v20 keeps the symbol id and hashes in 16 bytes and names its maker by number; v22
# keeps a static SIR's id only in `symbols`, and the source hash there too when it is the
# symbol's. The first that a store's schema answers is used.
_MAKER_OF = "(SELECT {} FROM sir_makers k WHERE k.id = sir.maker)"
_OF_SYMBOL = "(SELECT {} FROM symbols s WHERE s.seq = sir.seq)"
SALVAGE_READS = (
    # schema v20 to v22
    f"""
SELECT COALESCE({hex_of('symbol_id')}, {_OF_SYMBOL.format(sid('s'))}),
    {hex_of('COALESCE(source_hash, ' + _OF_SYMBOL.format('s.content_hash') + ')')}, sir_json,
    {_MAKER_OF.format('provider')}, {_MAKER_OF.format('model')}, created_at,
    {_MAKER_OF.format('prompt_version')}, verification FROM sir
""",
    # schema v4 to v19
    """
SELECT symbol_id, source_hash, sir_json, provider, model, created_at, prompt_version,
    verification FROM sir
""",
    # schema v3 and older: no prompt version or verification yet
    """
SELECT symbol_id, source_hash, sir_json, provider, model, created_at, '', NULL FROM sir
""",
)
ROWID_FILTER = " WHERE rowid = ?"
SALVAGE_MAX_ROWID = "SELECT max(rowid) FROM sir"
SALVAGE_NEXT_ROWID = "SELECT rowid FROM sir WHERE rowid > ? ORDER BY rowid LIMIT 1"

INSERT_SALVAGE = """
INSERT OR REPLACE INTO sir_salvage (symbol_id, source_hash, sir_json, provider, model,
    created_at, prompt_version, verification)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
"""

# Salvaged SIRs that describe exactly the code now indexed, for symbols without a good SIR.
# (Symbols without a good SIR are few and have a sir_meta row: each one's salvage is found
# by its key.)
SALVAGE_MATCHES = f"""
SELECT v.symbol_id, v.source_hash, v.sir_json, v.provider, v.model, v.prompt_version,
    v.verification
FROM sir_meta m CROSS JOIN symbols s ON s.seq = m.seq
CROSS JOIN sir_salvage v ON v.symbol_id = {sid('s')}
                        AND v.source_hash = {hex_of('s.content_hash')}
WHERE m.sir_status != 'ok'
"""
DELETE_SALVAGE = "DELETE FROM sir_salvage WHERE symbol_id = ? AND source_hash = ?"
CLEAR_SALVAGE = "DELETE FROM sir_salvage"
COUNT_SALVAGE = "SELECT count(*) FROM sir_salvage"


def attempted_since(n: int) -> str:
    """Params: the time, then `n` ids as stored (`keys`). A plain 'ok' symbol (no sir_meta
    row, v22) was attempted when its SIR was made."""
    return ("SELECT count(*) FROM symbols s LEFT JOIN sir_meta m ON m.seq = s.seq "
            "LEFT JOIN sir r ON r.seq = s.seq "
            f"WHERE s.id IN ({','.join(f'?{i}' for i in range(2, n + 2))}) AND "
            f"CASE WHEN m.seq IS NULL THEN r.created_at ELSE m.last_attempt_at END >= {_ms('?1')}")
