"""The packed form of a stored SIR: its canonical JSON and the search words made from it, in
one value, deflated with a preset dictionary.

A SIR is ~230 bytes of JSON whose keys and phrases repeat in every row; deflate alone finds
little to share inside one short row, so a dictionary of what SIRs have in common (their
keys, the static analyser's phrases, common call names and stemmed words) is shared by all
rows instead: 16.9 MB of SIRs became ~6 MB on the standard library. The search words are
kept beside the JSON because the search table is contentless (schema v15): they are what
deleting a search row must repeat, and what search reads back for ranking. They cannot be
recomputed from the SIR alone (a static SIR's search words include the whole docstring).

Layout before deflating: `json NUL intent_terms LF other_terms`. A packed value starts with
a format byte (1: deflate with `_DICT_V1`); a value stored as TEXT is the same layout
unpacked (written by the v15 migration, packed on first open), or a plain JSON SIR (history
rows from before v15). Never change `_DICT_V1`: add a new format byte and dictionary.

Format 2 (schema v20) stores only the search words the JSON cannot give: `json NUL
doc_terms`, deflated with the same dictionary. The intent's words and the list fields' words
are made again from the JSON when read (`field_terms`), as search already makes the name and
path columns from the symbol: 8.4 MB of SIRs became 6.1 MB on the standard library. A value
whose words are not exactly those (none made by aether today) stays in format 1.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from aether.sir.canonical import LIST_FIELDS
from aether.symbols.terms import words_column

_FORMAT_V1 = 1
_FORMAT_V2 = 2
# Most common strings last: deflate reaches the end of the dictionary with the shortest
# distances.
_DICT_V1 = (
    b"Iterate over Return the next item of Return the default Get an item of Set an item of "
    b"Delete an item of Return the size of Return the string form of Return the debugging "
    b"representation of Program entry point. Construct a new Create a new Enter the Exit the "
    b"context. Implement the protocol for Check whether Return True if Return the "
    b"self.assertTrue self.assertFalse self.assertRaises self.assertIsNone self.assertIn "
    b"self.assertIs self.assertRaisesRegex self.skipTest unittest isinstance ValueError "
    b"TypeError KeyError RuntimeError os.path.join print range append super().__init__ "
    b"returns None returns True returns False returns self. raises "
    b"may raise ValueError may raise TypeError writes file reads file network I/O "
    b"instanc rais valu error type error return none self assert equal self assert true "
    b"self assert rais test case (subclass of Initialise a new Set up (method of Tear down "
    b"Test method of test defin class "
    b'{"confidence":0.55,"dependencies":["self.assertEqual"],"error_modes":[],'
    b'"inputs":["self"],"intent":"Defines class ","outputs":[],"side_effects":[]}'
    b'{"confidence":0.3,"dependencies":[],"error_modes":[],"inputs":[],"intent":"'
    b' (method of ).","outputs":[],"side_effects":[]}\x00'
)
_LEVEL, _WBITS, _MEM = 6, -15, 8


def field_terms(sir: dict[str, Any]) -> tuple[str, str]:
    """(intent terms, terms of the list fields in `LIST_FIELDS` order) of a SIR's JSON."""
    items = " ".join(str(i) for f in LIST_FIELDS for i in sir.get(f) or ())
    return words_column(str(sir.get("intent") or "")), words_column(items)


def join_terms(fields: str, doc: str) -> str:
    """A SIR's `other_terms`: its list fields' words, then its documentation's."""
    return f"{fields} {doc}" if fields and doc else fields or doc


def _deflate(form: int, text: str) -> bytes:
    co = zlib.compressobj(_LEVEL, zlib.DEFLATED, _WBITS, _MEM, zlib.Z_DEFAULT_STRATEGY,
                          _DICT_V1)
    return bytes((form,)) + co.compress(text.encode()) + co.flush()


def pack_sir_doc(sir_json: str, doc_terms: str) -> bytes:
    """A SIR whose search words are `field_terms` of its JSON and `doc_terms` (format 2)."""
    return _deflate(_FORMAT_V2, f"{sir_json}\0{doc_terms}")


def pack_sir(sir_json: str, intent_terms: str, other_terms: str) -> bytes:
    """A SIR with its search words, as stored in `sir.sir_json`: format 2 when the words are
    those its JSON gives (and documentation words after them), else format 1."""
    try:
        sir = json.loads(sir_json)
    except ValueError:
        sir = None
    if isinstance(sir, dict):
        intent, fields = field_terms(sir)
        doc = other_terms[len(fields):].removeprefix(" ") if other_terms.startswith(
            fields) else None
        if intent == intent_terms and doc is not None and join_terms(fields, doc) == other_terms:
            return pack_sir_doc(sir_json, doc)
    return _deflate(_FORMAT_V1, f"{sir_json}\0{intent_terms}\n{other_terms}")


def repacked(value: str | bytes) -> str | bytes:
    """A stored value in format 2 when it is a format 1 value whose words allow it; anything
    else (text, format 2, unreadable) as it is."""
    if isinstance(value, bytes) and value[:1] == bytes((_FORMAT_V1,)):
        try:
            terms = terms_of(value)
            json_text = sir_json_of(value)
        except ValueError:
            return value
        if terms is not None and json_text is not None:
            return pack_sir(json_text, *terms)
    return value


def _unpacked(value: str | bytes) -> tuple[int, str]:
    """(format, the stored layout unpacked); ValueError when it cannot be. Text is format 1's
    layout (or a plain JSON SIR)."""
    if isinstance(value, str):
        return _FORMAT_V1, value
    if not value or value[0] not in (_FORMAT_V1, _FORMAT_V2):
        raise ValueError("unknown packed SIR format")
    try:
        do = zlib.decompressobj(_WBITS, _DICT_V1)
        return value[0], (do.decompress(value[1:]) + do.flush()).decode()
    except zlib.error as exc:  # a damaged row: callers handle ValueError
        raise ValueError(f"packed SIR cannot be read: {exc}") from exc


def _text(value: str | bytes) -> str:
    return _unpacked(value)[1]


def sir_json_of(value: str | bytes | None) -> str | None:
    """The canonical JSON of a stored SIR (packed or not)."""
    if value is None:
        return None
    text = _text(value)
    cut = text.find("\0")
    return text if cut < 0 else text[:cut]


def terms_of(value: str | bytes | None) -> tuple[str, str] | None:
    """(intent_terms, other_terms) stored with a SIR; None when the value has none (a plain
    JSON SIR from before v15: the caller computes them)."""
    if value is None:
        return None
    form, text = _unpacked(value)
    cut = text.find("\0")
    if cut < 0:
        return None
    if form == _FORMAT_V2:
        try:
            sir = json.loads(text[:cut])
        except ValueError as exc:
            raise ValueError(f"packed SIR cannot be read: {exc}") from exc
        if not isinstance(sir, dict):
            raise ValueError("packed SIR is not a JSON object")
        intent, fields = field_terms(sir)
        return intent, join_terms(fields, text[cut + 1:])
    intent, _, other = text[cut + 1:].partition("\n")
    return intent, other


def is_packed(value: object) -> bool:
    return isinstance(value, bytes)
