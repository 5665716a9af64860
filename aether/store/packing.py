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

Format 2 (schema v23, issue 17): the same layout deflated with `sir_words_v2.dict`, 32 KB of
what SIRs share, trained (`bench/sir_dictionary.py`) on the SIRs of a cold index of this
interpreter's standard library and of seven small open-source packages in other languages:
on Django, which it never saw, SIRs take 13% less than with `_DICT_V1` (5.87 -> 5.12 MB).
Writing copies one compressor made with the dictionary (hashing 32 KB per row would cost
~60 us); reading loads it into the window, as before. Never change that file either.

The words stay stored even where the JSON could give them again: keeping only the
docstring's words saved 2.3 MB on the standard library, but a lexical search then rebuilt
the words of each of its ~300 candidates (p50 13.6 -> 18.1 ms).
"""

from __future__ import annotations

import zlib
from functools import cache
from importlib.resources import files

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
_WBITS, _MEM = -15, 8
# Level 5 writes format 2 in the time format 1 took (best of 25 runs of 3,000 standard
# library SIRs: 10.9 us a SIR, format 1 13.1 us, level 6 14.0 us: longer hash chains through
# the 32 KB dictionary), for 1.4% more bytes than level 6.
_LEVEL = 5


@cache
def _dictionary(form: int) -> bytes:
    if form == _FORMAT_V1:
        return _DICT_V1
    return files("aether.store").joinpath("sir_words_v2.dict").read_bytes()


@cache
def _compressor() -> zlib._Compress:
    """A compressor that has read the current dictionary: each SIR copies it."""
    return zlib.compressobj(_LEVEL, zlib.DEFLATED, _WBITS, _MEM, zlib.Z_DEFAULT_STRATEGY,
                            _dictionary(_FORMAT_V2))


def pack_sir(sir_json: str, intent_terms: str, other_terms: str) -> bytes:
    """A SIR with its search words, as stored in `sir.sir_json`."""
    co = _compressor().copy()
    body = co.compress(f"{sir_json}\0{intent_terms}\n{other_terms}".encode()) + co.flush()
    return bytes((_FORMAT_V2,)) + body


def _text(value: str | bytes) -> str:
    """The stored layout, unpacked (ValueError when it cannot be)."""
    if isinstance(value, str):
        return value
    if not value or value[0] not in (_FORMAT_V1, _FORMAT_V2):
        raise ValueError("unknown packed SIR format")
    try:
        do = zlib.decompressobj(_WBITS, _dictionary(value[0]))
        return (do.decompress(value[1:]) + do.flush()).decode()
    except zlib.error as exc:  # a damaged row: callers handle ValueError
        raise ValueError(f"packed SIR cannot be read: {exc}") from exc


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
    text = _text(value)
    cut = text.find("\0")
    if cut < 0:
        return None
    intent, _, other = text[cut + 1:].partition("\n")
    return intent, other


def is_packed(value: object) -> bool:
    return isinstance(value, bytes)


def is_current(value: object) -> bool:
    """Packed in the format `pack_sir` writes today."""
    return isinstance(value, bytes) and value[:1] == bytes((_FORMAT_V2,))


# Files' import lists and bindings (schema v25, issue 17): JSON deflated (raw, no dictionary)
# when that is shorter. A file's bindings repeat their module paths (`django.db.models.X`
# for every X): 0.76 -> 0.30 MB on Django. A value stored as TEXT is the JSON itself (rows
# written before v25 until converted on open, and short ones such as '{}', which
# aether.store.graph_view compares against).
_JSON_LEVEL = 6


def pack_json(text: str) -> str | bytes:
    """A JSON value as `files.bindings` and `files.imports` keep it."""
    raw = text.encode()
    co = zlib.compressobj(_JSON_LEVEL, zlib.DEFLATED, _WBITS)
    packed = co.compress(raw) + co.flush()
    return packed if len(packed) < len(raw) else text


def json_text(value: str | bytes) -> str:
    """The JSON of a value `pack_json` made (ValueError for a damaged one)."""
    if isinstance(value, str):
        return value
    try:
        return zlib.decompress(value, _WBITS).decode()
    except (zlib.error, UnicodeDecodeError) as exc:
        raise ValueError(f"packed JSON cannot be read: {exc}") from exc
