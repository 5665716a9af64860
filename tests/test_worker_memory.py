"""What a parse worker holds: its imports, what a parse leaves behind, its caches. Counts
only (references, modules, cache bounds), never MB."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from aether.symbols import read_callback, terms
from aether.symbols.extract import ParseTimeout, analyze_source, parse_tree
from aether.symbols.languages import parser_for

SOURCE = (b'def add(a, b):\n    """Add."""\n    return a + b\n\n\n'
          b"class Box:\n    def get(self):\n        return 1\n")


def test_a_parse_keeps_no_reference_to_the_source() -> None:
    """py-tree-sitter keeps a reference to every object a read callback returns; each file a
    worker or a daemon parsed stayed in memory for good. After any number of parses, the
    source is referenced exactly as before."""
    source = bytes(bytearray(SOURCE * 50))  # a fresh object, not shared with the test module
    before = sys.getrefcount(source)
    for _ in range(20):
        tree = parse_tree("python", source, 5.0)
        assert tree.root_node.child_count > 0
        del tree
    for _ in range(5):
        assert [s.name for s in analyze_source("m.py", "python", source).symbols][:2] == [
            "add", "Box"]
    gc.collect()
    assert sys.getrefcount(source) == before
    # a parse cancelled by its deadline gives back exactly as much, never more
    big = source * 40
    before = sys.getrefcount(big)
    for _ in range(5):
        with pytest.raises(ParseTimeout):
            parse_tree("python", big, 0.0)
    gc.collect()
    assert sys.getrefcount(big) == before


def test_the_probe_measures_what_the_binding_keeps() -> None:
    """The compensation is measured, not assumed: a probe parse counts the references the
    binding keeps per returned object (one in py-tree-sitter 0.25-0.26, none once fixed), and
    exactly that many are given back."""
    kept = read_callback.kept_per_return(parser_for("python"))
    assert kept in (0, 1)
    chunk = bytes(bytearray(b"x = 1\n"))
    returned = read_callback.Returned()
    before = sys.getrefcount(chunk)

    def read(offset: int, _point: object) -> bytes:
        return returned.add(chunk) if offset == 0 else b""

    tree = parser_for("python").parse(read)
    del tree
    returned.release(kept)
    gc.collect()
    assert sys.getrefcount(chunk) == before
    assert returned.objects == []


def test_a_parse_worker_imports_no_pydantic() -> None:
    """Workers and the forkserver import what a parse needs; the SIR model (pydantic, built at
    import) is not part of it: a static SIR is canonicalised without it."""
    code = ("import sys, aether.engine.parse_worker as w\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('pydantic', 'pydantic_core', 'numpy', 'httpx', 'aiosqlite')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "[]"


def test_term_caches_are_bounded_to_what_repeats() -> None:
    """The word caches of the writing process and of each worker: bounded to thousands of
    entries, not 200,000."""
    for cached in (terms.stem, terms._token_terms, terms.name_columns):
        maxsize = cached.cache_info().maxsize
        assert maxsize is not None and maxsize <= 16_384


def test_surfaces_import_no_http_client_until_a_provider_needs_it() -> None:
    """`aether mcp`, `aether watch` and the CLI on the static provider: httpx (and the rich
    and pygments it pulls in) stay out of the process; numpy's BLAS threads stay at one."""
    code = ("import sys, aether.mcp.server, aether.watch, aether.cli\n"
            "import aether.providers.factory, aether.engine.search.remote, numpy, os\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'httpx', 'rich', 'pygments'}),"
            " os.environ['OPENBLAS_NUM_THREADS'])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.split() == ["[]", "1"]
