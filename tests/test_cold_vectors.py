"""A static pass's vectors take shortcuts that must give what the long way gives: the parse
workers make each symbol's vector text (the writer reads no SIR back from the store to make
it), vectors are packed a slice at a time, and the local model's tokenizer keeps the words
it has seen."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

import aether.store.db as store_db
from aether.config import load_settings
from aether.engine.engine import Engine
from aether.engine.vector_text import embedded_text, stored_intent, vector_texts
from aether.sir.canonical import canonical_dict, canonical_json
from aether.store.vectors import pack_vector, pack_vectors

FIXTURE = Path(__file__).parent / "fixtures" / "searchrepo"


def test_vectors_packed_together_are_the_same_bytes() -> None:
    rng = np.random.default_rng(3)
    for dim in (256, 255, 8, 1):
        vecs = rng.normal(size=(300, dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        vecs[5] = 0.0  # an empty text's vector
        vecs[6] = 0.35  # all components alike
        vecs[7] *= 1e-30  # tiny
        assert pack_vectors(vecs) == [pack_vector(v) for v in vecs]
    assert pack_vectors(np.zeros((0, 256), np.float32)) == []


@pytest.mark.parametrize("intent", [
    "Return the size.", 'Say "intent": twice "intent":"x",', "Back\\slash \\\" quote",
    "Ünïcode — dash", "  Spaces   inside  ", "x" * 700, "",
])
def test_the_intent_read_without_parsing_is_the_stored_one(intent: str) -> None:
    data = {"intent": intent or "?", "inputs": ['"intent":"no"'], "confidence": 0.5}
    canon = canonical_dict(data)
    assert canon is not None
    sir_json = canonical_json(canon)
    assert stored_intent(sir_json, data["intent"]) == json.loads(sir_json)["intent"]
    assert stored_intent(sir_json, "something else") == json.loads(sir_json)["intent"]
    assert stored_intent(sir_json, None) == json.loads(sir_json)["intent"]


def test_vector_texts_only_for_symbols_with_a_sir() -> None:
    sir_json = canonical_json({"intent": "Load it.", "inputs": [], "outputs": [],
                               "side_effects": [], "dependencies": [], "error_modes": [],
                               "confidence": 0.5})
    texts = vector_texts([("a", "load", "Store.load"), ("b", "save", "Store.save")],
                         {"a": (sir_json, "h", "Load it.")})
    text = embedded_text("load", "Store.load", "Load it.")
    assert texts == [("a", "h", text)]


def test_held_vector_texts_are_bounded() -> None:
    from aether.engine.search.embedder import LocalEmbedder
    from aether.engine.search.semantic import MAX_HINTS, VectorIndex

    index = VectorIndex(LocalEmbedder())
    index.hint([(f"s{i}", "h", "text") for i in range(MAX_HINTS - 3)])
    index.hint([(f"t{i}", "h", "text") for i in range(10)])  # a file past the bound: 3 kept
    index.hint([("u", "h", "text")])
    assert len(index._hints) == MAX_HINTS and "t2" in index._hints and "t3" not in index._hints
    index.drop_hints()
    assert index._hints == {}


async def test_a_static_pass_embeds_the_workers_texts_and_they_are_the_stores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURE, repo)
    for i in range(50):  # enough files for the parse workers' pool
        (repo / f"gen_{i}.py").write_text(
            f'class Queue{i}:\n    """A queue of "jobs" \\ number {i}."""\n\n'
            f'    def push_item(self, item):\n        """Add  an   item."""\n'
            f'        self.items.append(item)\n\n\ndef drain_{i}(q):\n    return list(q)\n',
            encoding="utf-8")
    decoded: list[object] = []
    real = store_db._intent

    def counted(value: object) -> str | None:
        decoded.append(value)
        return real(value)  # type: ignore[arg-type]

    monkeypatch.setattr(store_db, "_intent", counted)
    engine = await Engine.open(load_settings(repo, {"index": {"workers": 2}}))
    try:
        cold = await engine.index()
        assert cold.index.workers == 2
        assert cold.vectors is not None and cold.vectors.embedded == 21 + 50 * 3
        assert decoded == []  # every text came from the parse, no SIR was read back
        assert engine.vectors is not None and engine.vectors._hints == {}
        symbols, with_vector = await engine.store.vector_counts(cold.vectors.model)
        assert symbols == with_vector == cold.vectors.embedded
    finally:
        await engine.close()
    # Every vector's SIR forgotten: a new process re-reads every symbol the long way, makes
    # its text from the stored SIR and finds the text the vector was made from.
    db = sqlite3.connect(repo / ".aether" / "aether.db")
    try:
        db.execute("UPDATE symbol_vectors SET sir_hash = NULL")
        db.commit()
    finally:
        db.close()
    fresh = await Engine.open(load_settings(repo))
    try:
        again = await fresh.sync_vectors()
        assert again is not None and (again.symbols, again.embedded) == (symbols, 0)
        assert len(decoded) == symbols
    finally:
        await fresh.close()


def test_the_tokenizer_pieces_give_the_tokenizers_own_ids() -> None:
    from aether.engine.search.wordvec import WordVectors

    model = WordVectors(256)
    texts = ["", " ", "  two  spaces  ", "tab\tand\nnewline", "日本 ☃ 🎉 réessayer",
             "a </s> b <s>c<unk>", "\u2581 written ▁▁ out", "x" * 700, "trailing  ",
             "send request. in http client. Send the request, raising HTTPError.",
             "MAX_RETRIES", "__init__. in Queue. Initialise a new Queue (subclass of Base)."]
    texts += [f"word{i % 37} " * (i % 9) + "parse the date string" for i in range(200)]
    tokenizer = model.tokenizer
    for text in texts:  # twice: the second time from the cache of pieces
        expected = tokenizer.encode(text, add_special_tokens=False).ids
        assert model.token_ids(text) == expected
        assert model.token_ids(text) == expected
    assert 0 < len(model._pieces) <= 16_384
