"""Call-graph benchmark: accuracy of AETHER's resolved incoming calls against jedi, and what
edge extraction adds to a cold index.

    pip install -e '.[bench]'   # jedi: a reference for the benchmark, never a runtime need
    python bench/graph.py [--sample 250] [--packages requests==2.32.3 flask==3.1.3]
                          [--no-cost] [--show 20] [--references-only]

`--show N` prints up to N wrong resolved edges per provenance class and N missed calls (for
finding what to fix); `--no-cost` skips the cold-index timing.

For each package (an sdist from PyPI, cached in ~/.cache/aether-bench/) it indexes a private
copy, samples functions and methods, and asks jedi (`Script.get_references`) for the call
sites of each: a reference followed by `(` inside a function, method or class. AETHER's
answer is its resolved incoming call edges (local, import, unique_name). Printed: precision
per provenance class and overall, recall overall, and how many of jedi's calls AETHER listed
as ambiguous or unresolved ("could not tell" rather than wrong). Reference edges (the name
used without a call) are checked apart: right when jedi lists a reference on that line.

jedi's references miss calls that jedi's own `goto` resolves (on a function's result,
`s = requests.session(); s.get()`, or a pytest fixture): a resolved call edge that the
references do not list is right when `goto` at the call site lands on the symbol's
definition (printed apart; `--references-only` counts references alone, as before). Recall
counts the references alone.

Cost: each package is indexed cold twice more in this process (one worker), with edge
extraction and resolution switched off and on; the ratio is on / off (goal <= 1.30).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from aether.config import load_settings
from aether.engine.engine import Engine
from aether.store.graph_records import RESOLVED
from aether.store.records import SymbolRecord

CACHE = Path.home() / ".cache" / "aether-bench"
DEFAULT_PACKAGES = ("requests==2.32.3", "flask==3.1.3")


def fetch(spec: str) -> Path:
    """The unpacked sdist of `spec` (downloaded once into the cache)."""
    name = spec.split("==")[0]
    sdists = CACHE / "sdists"
    sdists.mkdir(parents=True, exist_ok=True)
    version = spec.split("==")[1] if "==" in spec else ""
    found = [p for p in sdists.glob(f"{name}-{version}*.tar.gz")]
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--no-binary", ":all:", "-d", str(sdists), spec], check=True)
        found = [p for p in sdists.glob(f"{name}-{version}*.tar.gz")]
    archive = sorted(found)[-1]
    unpacked = CACHE / "src" / archive.name.removesuffix(".tar.gz")
    if not unpacked.exists():
        unpacked.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked.parent, filter="data")
    return unpacked


# ---------------------------------------------------------------------------- cost


def _edges_off() -> None:
    """Switch edge extraction off in this process: no call captures, no call sites."""
    from aether.symbols import extract, languages

    extract.collect_calls = lambda *a, **k: []  # type: ignore[assignment]
    extract.collect_references = lambda *a, **k: []  # type: ignore[assignment]
    extract.type_facts = lambda *a, **k: {}  # type: ignore[assignment]
    extract.graph_query = lambda lang: languages.grammar(lang).definitions  # type: ignore[assignment]


async def _cold_index(root: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and its parse workers): the CPU figure
    does not move when other processes load the machine."""
    from aether.symbols.extract import analyze_source

    # compile the grammars and queries before the clock starts, in both variants
    analyze_source("warm.py", "python", b"def f():\n    g()\n")
    shutil.rmtree(root / ".aether", ignore_errors=True)
    (root / ".aether").mkdir()
    (root / ".aether" / "config.toml").write_text("[index]\nworkers = 1\n")
    engine = await Engine.open(load_settings(root))
    cpu = _cpu()
    try:
        started = time.perf_counter()
        await engine.index()
        wall = time.perf_counter() - started
    finally:
        await engine.close()  # the workers exit: their CPU time is counted
    return wall, _cpu() - cpu


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def cost(root: Path, runs: int = 5) -> tuple[float, float, float, float]:
    """(wall off, wall on, CPU off, CPU on) of a cold index without and with edges: best of
    `runs` each, interleaved, in separate processes so the switch does not leak."""
    off: list[tuple[float, float]] = []
    on: list[tuple[float, float]] = []
    for _ in range(runs):
        for flag, out in (("off", off), ("on", on)):
            res = subprocess.run([sys.executable, __file__, "--cold-index", str(root), flag],
                                 capture_output=True, text=True, check=True)
            wall, cpu = res.stdout.strip().splitlines()[-1].split()
            out.append((float(wall), float(cpu)))
    return (min(w for w, _ in off), min(w for w, _ in on), min(c for _, c in off),
            min(c for _, c in on))


# ---------------------------------------------------------------------------- accuracy


def _name_position(root: Path, rec: SymbolRecord) -> tuple[int, int] | None:
    lines = (root / rec.file_path).read_text(encoding="utf-8", errors="replace").splitlines()
    pattern = re.compile(rf"\b(?:def|class)\s+({re.escape(rec.name)})\b")
    for i in range(rec.start_line - 1, min(rec.end_line, len(lines))):
        m = pattern.search(lines[i])
        if m:
            return i + 1, m.start(1)
    return None


def _is_call(lines: list[str], line: int, column: int, name: str) -> bool:
    if line - 1 >= len(lines):
        return False
    rest = lines[line - 1][column + len(name):]
    return rest.lstrip().startswith("(")


def _goto_lands(project: Any, root: Path, rel: str, line: int, column: int,
                rec: SymbolRecord, def_line: int) -> bool:
    """jedi's goto at a call site (`column` 1-based) lands on `rec`'s definition."""
    import jedi

    try:
        names = jedi.Script(path=str(root / rel), project=project).goto(
            line, column - 1, follow_imports=True)
    except Exception:  # jedi cannot answer: not confirmed
        return False
    target = str(root / rec.file_path)
    return any(n.module_path is not None and str(n.module_path) == target
               and n.line == def_line for n in names)


async def accuracy(root: Path, sample: int, seed: int, goto_check: bool = True
                   ) -> dict[str, Any]:
    import jedi

    engine = await Engine.open(load_settings(root))
    try:
        records: list[SymbolRecord] = []
        for f in sorted(await engine.store.file_states()):
            records.extend(r for r in await engine.store.symbols_in_file(f)
                           if r.kind in ("function", "method", "class")
                           and r.language == "python")
        rng = random.Random(seed)
        picked = rng.sample(records, min(sample, len(records)))
        # Only the copy on jedi's path: a package of the same name installed in this venv
        # (requests comes with some of AETHER's own dependencies) must not stand in for it.
        project = jedi.Project(str(root), sys_path=[str(root / "src"), str(root)],
                               smart_sys_path=False)
        base = str(root) + "/"  # resolved by the caller
        texts: dict[str, list[str]] = {}
        per_class: Counter[str] = Counter()
        per_class_ok: Counter[str] = Counter()
        reference_calls = found_calls = 0
        could_not_tell = 0
        sampled = 0
        wrong: dict[str, list[str]] = {}  # provenance -> "file:line callee -> target"
        missed: list[str] = []
        recall_by: Counter[str] = Counter()  # jedi's calls by how AETHER answered them
        by_goto: Counter[str] = Counter()  # right by jedi's goto, not in its references
        for rec in picked:
            where = _name_position(root, rec)
            if where is None:
                continue
            sampled += 1
            script = jedi.Script(path=str(root / rec.file_path), project=project)
            truth: set[tuple[str, int]] = set()
            used: set[tuple[str, int]] = set()  # every jedi reference, call or not
            try:
                refs = script.get_references(*where, scope="project")
            except Exception:  # jedi cannot answer: leave the symbol out
                sampled -= 1
                continue
            for ref in refs:
                if ref.is_definition() or ref.module_path is None:
                    continue
                module = str(ref.module_path)
                if not module.startswith(base):
                    continue
                rel = module[len(base):]
                if rel not in texts:
                    texts[rel] = (root / rel).read_text(encoding="utf-8",
                                                        errors="replace").splitlines()
                used.add((rel, ref.line))
                if not _is_call(texts[rel], ref.line, ref.column, rec.name):
                    continue
                if await engine.store.symbol_at(rel, ref.line) is None:
                    continue  # a module-level call: not inside a symbol, not an edge
                truth.add((rel, ref.line))
            edges = await engine.store.edges_into(rec.id, 10_000)
            ours = {(e.file_path, e.line): e.provenance for e in edges
                    if e.provenance in RESOLVED and e.kind == "call"}
            for e in edges:
                if e.provenance in RESOLVED and e.kind == "reference":
                    per_class["reference"] += 1
                    per_class_ok["reference"] += (e.file_path, e.line) in used
            # jedi's references miss calls its own goto resolves (a function's result, a
            # pytest fixture): a site it does not list is checked by goto at the site
            confirmed: set[tuple[str, int]] = set()
            for e in edges:
                if (e.provenance in RESOLVED and e.kind == "call"
                        and (e.file_path, e.line) not in truth):
                    if goto_check and _goto_lands(project, root, e.file_path, e.line,
                                                  e.column, rec, where[0]):
                        confirmed.add((e.file_path, e.line))
                        by_goto[e.provenance] += 1
                    else:
                        wrong.setdefault(e.provenance, []).append(
                            f"{e.file_path}:{e.line} {e.callee} -> {rec.qualified_name}")
            for site, provenance in ours.items():
                per_class[provenance] += 1
                per_class_ok[provenance] += site in truth or site in confirmed
            missed.extend(f"{rel}:{line} -> {rec.qualified_name}"
                          for rel, line in sorted(truth - set(ours)))
            reference_calls += len(truth)
            found_calls += len(truth & set(ours))
            for site in truth & set(ours):
                recall_by[ours[site]] += 1
            for rel, line in truth - set(ours):
                how = "no site"
                for e in await engine.store.edges_from(
                        (await engine.store.symbol_at(rel, line)).id):  # type: ignore[union-attr]
                    if e.line == line and e.name == rec.name:
                        how = e.provenance if e.provenance not in RESOLVED else "elsewhere"
                        if e.provenance in ("ambiguous", "unresolved"):
                            could_not_tell += 1
                        break
                recall_by[how] += 1
        return {"sampled": sampled, "per_class": per_class, "per_class_ok": per_class_ok,
                "reference_calls": reference_calls, "found_calls": found_calls,
                "could_not_tell": could_not_tell, "wrong": wrong, "missed": missed,
                "recall_by": recall_by, "by_goto": by_goto,
                "provenance": await engine.store.provenance_counts()}
    finally:
        await engine.close()


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "n/a"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--packages", nargs="+", default=list(DEFAULT_PACKAGES))
    ap.add_argument("--sample", type=int, default=250, help="functions/methods per package")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-cost", action="store_true", help="skip the cold-index timing")
    ap.add_argument("--references-only", action="store_true",
                    help="right only when jedi's references list the site (no goto check)")
    ap.add_argument("--show", type=int, default=0,
                    help="print up to N wrong edges per provenance and N missed calls")
    ap.add_argument("--cold-index", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cold_index:  # a child of `cost`
        path, flag = args.cold_index
        if flag == "off":
            _edges_off()
        wall, cpu = asyncio.run(_cold_index(Path(path)))
        print(f"{wall} {cpu}")
        return

    totals: Counter[str] = Counter()
    totals_ok: Counter[str] = Counter()
    ref_total = found_total = tell_total = sampled_total = 0
    recall_total: Counter[str] = Counter()
    goto_total: Counter[str] = Counter()
    for spec in args.packages:
        src = fetch(spec)
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp).resolve() / "repo"
            shutil.copytree(src, root)
            if args.no_cost:  # one cold index with edges, untimed
                off = on = cpu_off = cpu_on = 0.0
                subprocess.run([sys.executable, __file__, "--cold-index", str(root), "on"],
                               capture_output=True, check=True)
            else:
                off, on, cpu_off, cpu_on = cost(root)
            result = asyncio.run(accuracy(root, args.sample, args.seed,
                                          goto_check=not args.references_only))
        print(f"== {spec}: {result['sampled']} functions/methods/classes sampled")
        print(f"   edges by provenance: {dict(sorted(result['provenance'].items()))}")
        for p in sorted(result["per_class"]):
            n, ok = result["per_class"][p], result["per_class_ok"][p]
            print(f"   precision {p:<12} {_ratio(ok, n)}  ({ok}/{n})")
        n = sum(result["per_class"].values())
        ok = sum(result["per_class_ok"].values())
        print(f"   precision resolved     {_ratio(ok, n)}  ({ok}/{n})")
        found, reference = result["found_calls"], result["reference_calls"]
        print(f"   recall                 {_ratio(found, reference)}"
              f"  ({found}/{reference} jedi calls; "
              f"{result['could_not_tell']} more listed as ambiguous/unresolved)")
        print(f"   jedi's calls as answered: {dict(result['recall_by'].most_common())}")
        if result["by_goto"]:
            print(f"   right by jedi's goto at the site (not in its references): "
                  f"{dict(result['by_goto'].most_common())}")
        if not args.no_cost:
            print(f"   cold index: edges off {off:.3f} s, on {on:.3f} s, ratio {on / off:.3f}"
                  f"; CPU off {cpu_off:.3f} s, on {cpu_on:.3f} s, ratio "
                  f"{cpu_on / cpu_off:.3f} (goal <= 1.30)")
        if args.show:
            for p, lines in sorted(result["wrong"].items()):
                print(f"   wrong {p} ({len(lines)}):")
                for line in lines[:args.show]:
                    print(f"      {line}")
            print(f"   missed ({len(result['missed'])}):")
            for line in result["missed"][:args.show]:
                print(f"      {line}")
        totals.update(result["per_class"])
        totals_ok.update(result["per_class_ok"])
        ref_total += result["reference_calls"]
        found_total += result["found_calls"]
        tell_total += result["could_not_tell"]
        recall_total.update(result["recall_by"])
        goto_total.update(result["by_goto"])
        sampled_total += result["sampled"]
    print(f"== all: {sampled_total} functions/methods/classes sampled")
    for p in sorted(totals):
        print(f"   precision {p:<12} {_ratio(totals_ok[p], totals[p])}  "
              f"({totals_ok[p]}/{totals[p]})")
    n, ok = sum(totals.values()), sum(totals_ok.values())
    calls = n - totals["reference"]
    calls_ok = ok - totals_ok["reference"]
    print(f"   precision calls        {_ratio(calls_ok, calls)}  ({calls_ok}/{calls})")
    print(f"   precision resolved     {_ratio(ok, n)}  ({ok}/{n})   (goal >= 0.85; "
          "local/import >= 0.95)")
    print(f"   recall                 {_ratio(found_total, ref_total)}  "
          f"({found_total}/{ref_total}; {tell_total} more listed as ambiguous/unresolved)")
    print(f"   jedi's calls as answered: {dict(recall_total.most_common())}")
    if goto_total:
        print(f"   right by jedi's goto at the site (not in its references): "
              f"{dict(goto_total.most_common())}")


if __name__ == "__main__":
    main()
