"""The cold index's shortcuts give exactly what the long way gives: static SIRs canonicalised
without the pydantic model, results sent back from the workers as plain tuples, each file
parsed once."""

from __future__ import annotations

import pickle
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

import aether
import aether.symbols.extract as extract
from aether.config import load_settings
from aether.engine.engine import Engine
from aether.engine.indexer import _change
from aether.engine.parse_worker import parse_file
from aether.sir.model import Sir, canonical_dict
from aether.sir.static import analyze_with_sirs
from aether.store import edges
from aether.store.records import PreparedSir, unpack_sites
from aether.symbols.model import CallSite
from aether.workspace import iter_source_files
from tests.helpers import write

PACKAGE = Path(aether.__file__).parent
FIXTURES = Path(__file__).parent / "fixtures"


def _real_sirs() -> list[tuple[dict[str, object], str]]:
    """Every static SIR (and doc) of this package's own code and of the test fixtures
    (every language the analyser knows)."""
    out: list[tuple[dict[str, object], str]] = []
    for root in (PACKAGE, FIXTURES):
        for src in iter_source_files(root):
            docs: dict[str, str] = {}
            _, sirs = analyze_with_sirs(src.rel_path, src.language,
                                        (root / src.rel_path).read_bytes(), docs=docs)
            out.extend((d, docs.get(sid, "")) for sid, d in sirs.items())
    return out


def test_static_sirs_prepared_directly_equal_the_validated_path() -> None:
    sirs = _real_sirs()
    assert len(sirs) > 1000
    assert len({type(d["confidence"]) for d, _ in sirs}) == 1
    same = sum(PreparedSir.of_static(d, doc=doc) == PreparedSir.of(Sir.model_validate(d), doc=doc)
               for d, doc in sirs)
    assert same == len(sirs)
    assert sum(canonical_dict(d) is None for d, _ in sirs) == 0  # all took the direct path


@pytest.mark.parametrize("data", [
    # a credential in a field: masked by the model's path, which this must take
    {"intent": "Connect.", "inputs": ['password = "hunter2hunter2"'], "confidence": 0.5},
    # not what the analyser makes: the model coerces or rejects it, as before
    {"intent": "Do it.", "inputs": [3, "x"], "confidence": 0.5},
    {"intent": "Do it.", "confidence": 1},
    {"intent": "  Two\n  lines  ", "outputs": None, "side_effects": ["b", "a", "b"],
     "confidence": 0.35},
    {"intent": "x" * 700, "dependencies": ["y" * 300], "error_modes": ["z"] * 30,
     "confidence": 0.7},
    # items whose words are cached one by one: empty, blank, split identifiers, repeats
    {"intent": "Run.", "inputs": ["", "  ", "a_b  c", "HTTPAdapter.send"],
     "dependencies": ["os.path.join", "os.path.join(x)", "__init__"], "confidence": 0.3},
])
def test_unusual_sirs_give_the_same_bytes(data: dict[str, object]) -> None:
    assert PreparedSir.of_static(data, doc="Doc.") == PreparedSir.of(Sir.model_validate(data),
                                                                      doc="Doc.")


def test_invalid_sir_fails_as_the_model_does() -> None:
    with pytest.raises(ValueError):
        PreparedSir.of_static({"intent": "   ", "confidence": 0.5})
    with pytest.raises(ValueError):
        PreparedSir.of_static({"intent": "x", "confidence": 1.5})


def test_parse_outcomes_cross_processes_unchanged() -> None:
    files = [f for f in iter_source_files(PACKAGE) if f.rel_path.startswith("engine/")]
    outcomes = [parse_file(str(PACKAGE), f, 10**7, 30.0, True) for f in files]
    back = pickle.loads(pickle.dumps(outcomes))
    # call sites travel packed (the writer holds them so until a cold pass resolves them)
    assert all(o.packed_calls for o in back if o.analysis)
    assert all(not o.analysis.calls for o in back if o.analysis)
    unpacked = [replace(o, packed_calls=None, analysis=replace(
        o.analysis, calls=[CallSite(*c) for c in unpack_sites(o.packed_calls)]))
        if o.analysis and o.packed_calls else o for o in back]
    assert unpacked == outcomes
    assert sum(len(_change(o).call_sites()) for o in back) == sum(
        len(o.analysis.calls) for o in outcomes if o.analysis) > 100
    assert sum(len(o.static_sirs) for o in back) > 100


async def test_a_cold_index_parses_each_file_once(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "ws"
    for i in range(6):
        write(root, f"pkg/m{i}.py", f'''
            """Module {i}."""
            import os


            class Store{i}:
                def load(self, path):
                    return os.path.exists(path) and helper{i}(path)


            def helper{i}(path):
                """Read a file."""
                return open(path).read()
            ''')
    parses: list[str] = []
    real = extract.parse_tree

    def counted(language: str, source: bytes, timeout_s: float) -> object:
        parses.append(language)
        return real(language, source, timeout_s)

    monkeypatch.setattr(extract, "parse_tree", counted)
    engine = await Engine.open(load_settings(root, {"index": {"workers": 1}}))
    try:
        cold = await engine.index()
        assert (cold.index.files_parsed, len(parses)) == (6, 6)
        assert cold.index.needs_sir == [] and cold.sirs.attempted == 0  # SIRs came with it
        counts = await engine.store.counts()
        assert (counts.symbol_count, counts.ok_count) == (18, 18)
        warm = await engine.index()
        assert (warm.index.files_parsed, len(parses)) == (0, 6)
    finally:
        await engine.close()



GRAPH_FILES = {
    "pkg/__init__.py": "",
    "pkg/base.py": """
        import json


        class Base:
            def close(self):
                return json.dumps(self.close)

            def run(self):
                return self.close() and self.missing()
        """,
    "pkg/app.py": """
        from pkg.base import Base
        from pkg import util as u


        class App(Base):
            def start(self):
                self.run()
                self.close()
                return u.helper(u.helper(1))

            def stop(self):
                return self.start() or len(u.helper(2))


        def make():
            app = App()
            app.start()
            return app.stop()
        """,
    "pkg/util.py": """
        def helper(x):
            return helper(x - 1) if x else print(x)


        def run():
            return helper(3)
        """,
    "other/run.py": """
        from pkg.app import make


        def main():
            make().start()
            return main()
        """,
}
# every edge with its texts (their numbers depend on the order they were first written)
EDGES = """
SELECT e.id, e.line, e.col, n.text, q.text, e.flags, e.callee,
       CASE WHEN e.flags < 24 THEN e.answer ELSE d.text END
FROM edges e JOIN edge_texts n ON n.id = e.name LEFT JOIN edge_texts q ON q.id = e.qualifier
LEFT JOIN edge_texts d ON d.id = e.answer ORDER BY e.id
"""


async def _cold_edges(root: Path) -> list[tuple[object, ...]]:
    for rel, text in GRAPH_FILES.items():
        write(root, rel, text)
    engine = await Engine.open(load_settings(root, {"index": {"workers": 1}}))
    try:
        await engine.index()
    finally:
        await engine.close()
    with sqlite3.connect(load_settings(root).db_path) as conn:
        return conn.execute(EDGES).fetchall()


async def test_the_final_resolve_answers_alike_in_slices_of_any_size(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each slice's resolver keeps only its own answers (they are keyed by file, and a slice
    takes its files whole): resolved a site at a time, the edges are the same."""
    whole = await _cold_edges(tmp_path / "whole")
    monkeypatch.setattr(edges, "RESOLVE_SLICE", 1)
    sliced = await _cold_edges(tmp_path / "sliced")
    assert len(whole) > 20
    assert {row[5] >> 3 for row in whole} >= {0, 1, 4}  # local, import, external answers
    assert sliced == whole


def test_bulk_passes_hold_off_the_gc_and_give_it_back_when_the_last_ends() -> None:
    import gc

    from aether.engine.indexer import _BulkGC

    before = gc.get_threshold()
    first, second = _BulkGC.during_pass(), _BulkGC.during_pass()
    first.__enter__()
    second.__enter__()
    assert gc.get_threshold()[0] >= 50_000
    first.__exit__(None, None, None)  # overlapping passes may end in any order
    assert gc.get_threshold()[0] >= 50_000
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


async def test_the_final_resolve_runs_without_the_cyclic_gc(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from aether.store.db import Store

    root = tmp_path / "ws"
    for i in range(3):
        write(root, f"m{i}.py", f"def f{i}():\n    return f{(i + 1) % 3}()\n")
    seen: list[tuple[bool, int]] = []
    real = Store.resolve_graph

    async def watched(self: Store, resolver: object, **kw: object) -> int:
        changed = await real(self, resolver, **kw)  # type: ignore[arg-type]
        seen.append((gc.isenabled(), changed))
        return changed

    monkeypatch.setattr(Store, "resolve_graph", watched)
    engine = await Engine.open(load_settings(root, {"index": {"workers": 1}}))
    try:
        await engine.index()
    finally:
        await engine.close()
    assert seen == [(False, 3)]  # one resolve, three edges, no collection meanwhile
    assert gc.isenabled()


MAIN_SCRIPT = '''
import os
import sys

# every import of this script, by any process, leaves one line
with open(os.environ["MAIN_LOG"], "a", encoding="utf-8") as log:
    log.write(f"{os.getpid()} {__name__}\\n")

if __name__ == "__main__":
    from pathlib import Path

    from aether.engine.indexer import _pool
    from aether.engine.parse_worker import parse_many
    from aether.workspace import iter_source_files

    root = sys.argv[1]
    files = [(f, None) for f in iter_source_files(Path(root))]
    pool = _pool(2)
    try:
        done = [pool.submit(parse_many, root, [f], 10**6, 30.0, True) for f in files]
        outcomes = [o for d in done for o in d.result(timeout=120)]
        workers = {pid for pid in pool._processes}  # the pool's own record of its workers
    finally:
        pool.shutdown()
    print(len(workers), sum(len(o.analysis.symbols) for o in outcomes))
'''


def test_parse_workers_do_not_import_the_parents_main(tmp_path: Path) -> None:
    """The parent's __main__ (for `aether`, the whole CLI) is imported by the parent alone:
    not by the forkserver, not by any worker."""
    import os
    import subprocess
    import sys

    root = tmp_path / "ws"
    for i in range(4):
        write(root, f"m{i}.py",
              f"def f{i}():\n    return {i}\n\n\ndef g{i}():\n    return f{i}()\n")
    script = write(tmp_path, "main.py", MAIN_SCRIPT)
    log = tmp_path / "imports.log"
    done = subprocess.run([sys.executable, str(script), str(root)], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "MAIN_LOG": str(log)},
                          check=True)
    workers, symbols = map(int, done.stdout.split())
    assert (workers, symbols) == (2, 8)
    lines = log.read_text(encoding="utf-8").splitlines()
    assert [line.split()[1] for line in lines] == ["__main__"]
