"""The memory ceiling: the daemon sheds, uses fewer workers and says so; warm passes read
no unchanged file. Counts only, never time."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aether.config import load_settings
from aether.engine.daemon import Daemon
from aether.engine.engine import Engine
from aether.engine.memory import MemoryGuard, tree_rss_mb
from aether.engine.search.embedder import DIM, LocalEmbedder
from aether.engine.search.wordvec import WordVectors, package_folder
from tests.helpers import write

FILES = 60  # above the indexer's pool threshold, so a full pass may use worker processes


def _many_files(root: Path) -> None:
    for i in range(FILES):
        write(root, f"pkg/mod{i}.py", f'def f{i}(x):\n    """Add {i}."""\n    return x + {i}\n')


def test_guard_lowers_workers_while_over_and_regrows_below() -> None:
    guard = MemoryGuard(limit_mb=100, max_workers=4)
    assert guard.observe(150) is True
    guard.settle(140)
    s = guard.state
    assert (s.sheds, s.worker_cap, s.over) == (1, 3, True)
    assert s.reason is not None and "max_memory_mb" in s.reason
    for _ in range(5):  # bounded: the cap floors at one worker
        if guard.observe(150):
            guard.settle(150)
    assert (s.sheds, s.worker_cap) == (6, 1)
    assert guard.observe(90) is False  # under the ceiling, above the regrow line
    assert (s.worker_cap, s.over, s.reason) == (1, False, None)
    for _ in range(5):
        guard.observe(50)
    assert s.worker_cap == 4  # back to the configured count, never above it
    guard.observe(150)
    guard.settle(60)  # shedding helped: not over, nothing to report
    assert (s.sheds, s.worker_cap, s.over, s.reason) == (7, 3, False, None)


def test_no_ceiling_never_sheds() -> None:
    guard = MemoryGuard(limit_mb=0, max_workers=2)
    assert guard.observe(10_000) is False
    assert (guard.state.sheds, guard.state.worker_cap) == (0, 2)


def test_tree_rss_counts_children() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    try:
        alone = tree_rss_mb(child.pid)
        assert alone > 0
        assert tree_rss_mb() >= alone  # this process and its child, at least the child
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(10)


async def test_pool_uses_the_workers_the_ceiling_allows(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    _many_files(root)
    engine = await Engine.open(load_settings(root, {"index": {"workers": 2}}))
    try:
        capped = await engine.index(max_workers=1)  # shrunk: parsed in this process
        assert (capped.index.files_parsed, capped.index.workers) == (FILES, 0)
        for i in range(FILES):  # every file changes, so the next pass is large again
            write(root, f"pkg/mod{i}.py", f"def g{i}():\n    return {i}\n")
        grown = await engine.index(max_workers=2)
        assert (grown.index.files_parsed, grown.index.workers) == (FILES, 2)
    finally:
        await engine.close()


async def test_a_pass_leaves_no_cached_search_terms_behind(tmp_path: Path) -> None:
    """A pass parsed in this process fills the term caches; the daemon's after-pass release
    empties them, so an idle daemon does not keep one pass's words."""
    from aether.symbols import terms

    root = tmp_path / "ws"
    _many_files(root)
    engine = await Engine.open(load_settings(root))
    try:
        await engine.index(max_workers=1)  # parsed in this process: the caches fill here
        assert terms.stem.cache_info().currsize > 0
        await engine.release_memory()
        assert terms.stem.cache_info().currsize == 0
        assert terms.name_columns.cache_info().currsize == 0
        # and no second cache behind `stem`: PyStemmer's own would keep 10,000 words
        assert terms._stemmer.maxCacheSize == 0
    finally:
        await engine.close()


async def test_daemon_over_its_ceiling_sheds_and_reports_everywhere(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    _many_files(root)
    # 1 MB: no Python process fits, so shedding cannot help and the daemon must say so
    settings = load_settings(root, {"daemon": {"max_memory_mb": 1}, "index": {"workers": 2}})
    daemon = Daemon(settings, command="test", watch=False)
    shed_calls: list[int] = []
    daemon.add_shedder(lambda: shed_calls.append(1))
    await daemon.start()
    try:
        assert await daemon.wait_idle(60)
        state = daemon.memory.state
        assert state.sheds >= 1 and len(shed_calls) == state.sheds
        assert state.worker_cap == 1 and state.over
        assert daemon.engine is not None and daemon.engine.vectors is not None
        # the pass embedded its symbols; shedding dropped the model and the vectors
        embedder = daemon.engine.vectors.embedder
        assert isinstance(embedder, LocalEmbedder)
        assert embedder.loads >= 1 and not embedder.loaded
        assert daemon.engine.vectors.releases >= 1
        assert daemon.status.memory_over and daemon.status.memory_limit_mb == 1
        assert daemon.engine is not None
        view = await daemon.engine.status()
        assert view.health.status in ("degraded", "unhealthy")
        assert any("max_memory_mb" in r for r in view.health.reasons)
        assert view.memory is not None and view.memory.over and view.memory.sheds >= 1

        # another process (the CLI) reads what this writer recorded
        cli = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "aether", "status", "--json", "-w", str(root)],
            capture_output=True, text=True, timeout=60, env={**os.environ})
        assert cli.returncode == 0, cli.stderr
        shown = json.loads(cli.stdout)
        assert shown["memory"]["over"] is True and shown["memory"]["limit_mb"] == 1
        assert any("max_memory_mb" in r for r in shown["health"]["reasons"])
    finally:
        await daemon.stop()


async def test_daemon_under_its_ceiling_sheds_nothing(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    _many_files(root)
    settings = load_settings(root, {"daemon": {"max_memory_mb": 64_000}})
    daemon = Daemon(settings, command="test", watch=False)
    await daemon.start()
    try:
        assert await daemon.wait_idle(60)
        assert (daemon.memory.state.sheds, daemon.memory.state.over) == (0, False)
        assert daemon.engine is not None
        view = await daemon.engine.status()
        assert not any("max_memory_mb" in r for r in view.health.reasons)
    finally:
        await daemon.stop()


async def test_warm_pass_reads_no_unchanged_file(tmp_path: Path) -> None:
    """Same size and mtime: the file is not opened. Proven by changing its bytes behind the
    indexer's back (same size, mtime restored): a pass that read it would see the change."""
    root = tmp_path / "ws"
    _many_files(root)
    engine = await Engine.open(load_settings(root))
    try:
        await engine.index()
        before = (await engine.store.counts()).symbol_count
        for i in range(FILES):
            path = root / f"pkg/mod{i}.py"
            st = path.stat()
            data = path.read_bytes()
            path.write_bytes(data.replace(b"def f", b"def h"))  # same length
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        warm = await engine.index()
        assert (warm.index.files_parsed, warm.index.files_unchanged) == (0, FILES)
        assert await engine.store.symbols_by_name("h0") == []
        assert (await engine.store.counts()).symbol_count == before
    finally:
        await engine.close()


async def test_search_model_loads_on_demand_and_again_after_an_idle_release(
        tmp_path: Path) -> None:
    root = tmp_path / "ws"
    _many_files(root)
    first = await Engine.open(load_settings(root))
    try:
        await first.index()  # makes the vectors (and loads the model to do so)
    finally:
        await first.close()
    engine = await Engine.open(load_settings(root))  # a daemon starting on an indexed repo
    try:
        assert engine.vectors is not None
        embedder = engine.vectors.embedder
        assert isinstance(embedder, LocalEmbedder)
        assert (embedder.loads, embedder.loaded) == (0, False)  # opening loads nothing
        before = await engine.search("add seven", mode="semantic")
        assert before.mode_used == "semantic" and before.hits
        assert (embedder.loads, embedder.loaded) == (1, True)
        assert await engine.release_idle(3600) is False  # used a moment ago: kept
        assert embedder.loaded
        from aether.store import records
        from aether.symbols import terms

        assert terms.stem.cache_info().currsize > 0  # the query's words
        assert records._qual_column.cache_info().currsize > 0  # its candidates' search rows
        assert await engine.release_idle(0) is True
        assert (embedder.loaded, engine.vectors.releases) == (False, 1)
        # the term caches go too: what fills them while active is freed, not kept idle
        assert terms.stem.cache_info().currsize == 0
        assert records._qual_column.cache_info().currsize == 0
        assert await engine.release_idle(0) is False  # nothing left to drop
        after = await engine.search("add seven", mode="semantic")
        assert embedder.loads == 2  # loaded again on demand
        assert [h.record.id for h in after.hits] == [h.record.id for h in before.hits]
    finally:
        await engine.close()


def test_lean_model_makes_the_vectors_of_the_wheels_own_loader() -> None:
    """Stored vectors stay valid: the memory-mapped table and our pooling give what
    WordLlama's loader gives, number for number."""
    import numpy as np
    from wordllama import WordLlama

    texts = ["parse the date string", "send request. in http client",
             "MAX_RETRIES", "réessayer la connexion", "a b c " * 50]
    # more than one batch, lengths out of order: batches are formed by length
    texts += [f"handler_{i} " + "reads the config file " * (i * 7 % 11) for i in range(150)]
    ours = WordVectors(DIM).embed(texts)
    wheel = WordLlama.load(dim=DIM, cache_dir=str(package_folder()), disable_download=True)
    theirs = np.asarray(wheel.embed(texts, norm=True), dtype=np.float32)
    assert ours.shape == (len(texts), DIM)
    assert np.array_equal(ours, theirs)


async def test_idle_daemon_releases_search_memory_and_serves_after(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    _many_files(root)
    daemon = Daemon(load_settings(root), command="test", watch=False)
    await daemon.start()
    try:
        assert await daemon.wait_idle(60)
        assert daemon.engine is not None and daemon.engine.vectors is not None
        embedder = daemon.engine.vectors.embedder
        assert isinstance(embedder, LocalEmbedder)
        assert (await daemon.engine.search("add three")).hits
        assert await daemon.release_idle() is False  # used just now: kept for a while
        daemon.release_idle_s = 0
        assert await daemon.release_idle() is True
        assert not embedder.loaded and daemon.engine.vectors.releases == 1
        loads = embedder.loads
        assert (await daemon.engine.search("add three", mode="semantic")).hits
        assert embedder.loads == loads + 1
    finally:
        await daemon.stop()


async def test_a_large_full_pass_is_made_by_a_child_process(tmp_path: Path) -> None:
    """The daemon's heap never holds a cold pass: a child parses and writes it, the daemon
    relays its progress and then finds every file current (counts, not RSS)."""
    root = tmp_path / "ws"
    _many_files(root)
    daemon = Daemon(load_settings(root), command="test", watch=False)
    daemon.bulk_child_files = FILES // 2
    progress: list[tuple[int, int]] = []
    daemon.subscribe(lambda ev: progress.append((ev.status.files_done, ev.status.files_total))
                     if ev.kind == "progress" else None)
    await daemon.start()
    try:
        assert await daemon.wait_idle(120)
        assert daemon.bulk_children == 1 and daemon.last_pass is not None
        mine = daemon.last_pass.index
        assert (mine.files_parsed, mine.files_unchanged) == (0, FILES)
        # the child's progress, relayed (this process's own pass had no file to read)
        assert any(total == FILES for _, total in progress)
        assert daemon.engine is not None
        counts = await daemon.engine.store.counts()
        assert (counts.file_count, counts.symbol_count, counts.ok_count) == (FILES,) * 3
        assert daemon.engine.vectors is not None
        assert await daemon.engine.store.vector_counts(daemon.engine.vectors.model) == (FILES,) * 2
        assert (await daemon.engine.search("add three")).hits
    finally:
        await daemon.stop()


async def test_a_small_pass_stays_in_process_and_a_stopping_daemon_ends_its_child(
        tmp_path: Path) -> None:
    from aether.engine.memory import _children

    root = tmp_path / "ws"
    _many_files(root)
    small = Daemon(load_settings(root), command="test", watch=False)  # 60 files: below
    await small.start()
    try:
        assert await small.wait_idle(120)
        assert small.bulk_children == 0 and small.last_pass is not None
        assert small.last_pass.index.files_parsed == FILES
    finally:
        await small.stop()
    for i in range(FILES):  # every file changed: the next full pass is large again
        write(root, f"pkg/mod{i}.py", f"def g{i}(x):\n    return x * {i}\n")
    daemon = Daemon(load_settings(root), command="test", watch=False)
    daemon.bulk_child_files = FILES // 2
    before = set(_children(os.getpid()))
    await daemon.start()
    child = None
    for _ in range(400):  # bounded: the child appears while the daemon starts its pass
        child = next(iter(set(_children(os.getpid())) - before), None)
        if child is not None:
            break
        await asyncio.sleep(0.01)
    await daemon.stop(grace_s=0)
    assert child is not None
    assert child not in _children(os.getpid())  # terminated and reaped, not left behind
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


_EMBED_FAULTS = """
import resource, sys
from aether.engine.memory import fix_mmap_threshold
from aether.engine.search.wordvec import WordVectors
if not fix_mmap_threshold():
    print("unsupported"); sys.exit()
model = WordVectors(256)
texts = [f"handler {i} in request router. " + "reads the config file " * (i % 9)
         for i in range(1500)]
model.embed(texts[:64])  # the table's pages and the tokenizer's first allocations
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
model.embed(texts)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def test_embedding_reuses_its_buffers_under_the_fixed_mmap_threshold() -> None:
    """With glibc's mmap threshold fixed at 128 KiB (as the engine keeps it), every
    batch-sized temporary was a new mapping faulted in page by page: ~19,000 minor faults
    for these texts, against ~1,000 with one set of buffers per call."""
    out = subprocess.run([sys.executable, "-c", _EMBED_FAULTS], capture_output=True,
                         text=True, check=True, timeout=120).stdout.strip()
    if out == "unsupported":
        pytest.skip("glibc's mallopt is not available here")
    assert int(out) < 4000


_WORKER_GIVES_BACK = """
import os, sys
from pathlib import Path
import aether.engine.memory as memory
calls = {"fix": 0, "trim": 0}
memory.fix_mmap_threshold = lambda: calls.__setitem__("fix", calls["fix"] + 1) or True
memory.trim_heap = lambda: calls.__setitem__("trim", calls["trim"] + 1) or True
from aether.engine.parse_worker import init_worker, parse_many
from aether.workspace import iter_source_files
root = sys.argv[1]
files = [(f, None) for f in iter_source_files(Path(root))]
parse_many(root, files[:1], 10**6, 30.0, True)  # the writer's thread (a save): no trim
before = calls["trim"]
init_worker(os.getpid())
parsed = [len(parse_many(root, files[i:i + 2], 10**6, 30.0, True)) for i in (0, 2)]
print(before, calls["fix"], calls["trim"], sum(parsed))
"""


def test_a_parse_worker_gives_back_what_each_batch_freed(tmp_path: Path) -> None:
    """Parse workers count in a cold index's peak: each fixes glibc's mmap threshold once
    and trims its heap after every batch (348 against 365 MB at 113k symbols); a batch
    parsed in the writer's own thread (a save) does not."""
    for i in range(4):
        write(tmp_path, f"m{i}.py", f"def f{i}(x):\n    return x + {i}\n")
    out = subprocess.run([sys.executable, "-c", _WORKER_GIVES_BACK, str(tmp_path)],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    assert out.split() == ["0", "1", "2", "4"]
