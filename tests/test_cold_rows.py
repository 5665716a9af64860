"""A cold index's cheaper row building gives exactly what the plain one gives: hashes packed
for the store, and a parse outcome sent back from a worker (pickled and rebuilt)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from aether.engine.parse_worker import parse_file
from aether.store.records import pack_hash
from aether.workspace import iter_source_files
from tests.helpers import write

SOURCE = '''"""A module."""
import os


class Store:
    """Keeps things."""

    def save(self, path: str) -> None:
        """Write it out."""
        with open(path, "w") as f:
            f.write(os.environ["HOME"])

    def load(self, path):
        return Store()


def main():
    Store().save("x")
'''


def _reference_pack_hash(value: str | None) -> bytes | str | None:
    """pack_hash as it was written first: a set test per character."""
    if value is not None and len(value) == 32 and frozenset("0123456789abcdef").issuperset(
            value):
        return bytes.fromhex(value)
    return value


@pytest.mark.parametrize("value", [
    None, "", "abc", "0123456789abcdef" * 2, "0123456789ABCDEF" * 2, "0123456789abcdeF" * 2,
    "0123456789abcdef 123456789abcdef", " 0123456789abcdef0123456789abcde",
    "0123456789abcdef0123456789abcde\n", "g" * 32, "é" * 32, "0" * 31, "0" * 33, " " * 32,
    "0123456789abcdef" * 4,
])
def test_pack_hash_takes_exactly_lowercase_hex_of_32(value: str | None) -> None:
    assert pack_hash(value) == _reference_pack_hash(value)


def test_an_outcome_sent_back_from_a_worker_is_the_one_it_made(tmp_path: Path) -> None:
    write(tmp_path, "pkg/m.py", SOURCE)
    [src] = list(iter_source_files(tmp_path))
    made = parse_file(str(tmp_path), src, 1 << 20, 5.0, True, texts=True)
    back = pickle.loads(pickle.dumps(made))
    assert made.analysis is not None and back.analysis is not None
    assert len(made.analysis.symbols) == 4
    assert back.analysis.symbols == made.analysis.symbols
    assert [hash(s) for s in back.analysis.symbols] == [hash(s) for s in made.analysis.symbols]
    assert back.static_sirs == made.static_sirs and len(back.static_sirs) == 4
    assert back.record == made.record and back.vector_texts == made.vector_texts
    assert back.analysis.bindings == made.analysis.bindings
