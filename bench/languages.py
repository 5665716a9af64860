"""Per-language benchmark: AETHER's symbols against universal-ctags, and throughput vs Python.

    python bench/languages.py [--only LANG ...] [--missed N] [--cache DIR]

For each language, one real open-source project taken from a registry this machine reaches
(PyPI sdists, npm tarballs, Debian packages via `apt-get download`), cached in
~/.cache/aether-bench/languages/. Two figures per language:

- coverage: of universal-ctags' definitions of comparable kinds (functions, methods, classes,
  structs, enums, interfaces, modules, type aliases; anonymous ones left out) in the same
  files, the share AETHER has too: a symbol of the same name, in the same file, whose lines
  include the tag's line (or one starting on that line whose signature shows the name);
- throughput: parse + symbol extraction (one core, no SIRs) in MB/s, and its ratio to Python's
  measured right after it under the same load (the target is at most 2x slower: ratio >= 0.5);
  `parse` is the raw tree-sitter parse alone, which bounds what extraction can reach.

Swift has no ctags parser: its reference (marked *) is a line-start declaration regex (`func`,
`init`, `class`, `struct`, `enum`, `protocol`, `actor`, `typealias`, `subscript`).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aether.symbols.extract import analyze_source
from aether.symbols.languages import language_for_source, parser_for
from aether.symbols.model import Symbol

CACHE = Path.home() / ".cache" / "aether-bench" / "languages"
MIN_SECONDS = 0.5  # repeat the parse loop until it has run at least this long


@dataclass(frozen=True)
class Project:
    language: str
    name: str  # what is downloaded, as the registry spells it
    fetch: str  # "pypi" | "npm" | "deb"
    subdir: str  # folder inside the unpacked project that is measured
    suffixes: tuple[str, ...]
    ctags_language: str | None
    ctags_kinds: str
    skip: tuple[str, ...] = ()  # path fragments left out (tests, vendored, generated)


PROJECTS = (
    Project("python", "requests==2.34.2", "pypi", "src/requests", (".py",), "Python", "cfm"),
    Project("javascript", "express@4.21.2", "npm", "package", (".js",), "JavaScript", "fcmg"),
    Project("typescript", "rxjs@7.8.1", "npm", "package/src", (".ts",), "TypeScript",
            "fcmigaG", skip=(".d.ts",)),
    Project("java", "openjdk-17-source", "deb", "java.base/java/util", (".java",), "Java",
            "cigma"),
    Project("c", "psutil==7.2.2", "pypi", "psutil", (".c", ".h"), "C", "fsugt"),
    Project("cpp", "libfmt-dev", "deb", "usr/include/fmt", (".h",), "C++", "fcsugt"),
    Project("csharp", "pythonnet==3.2.1", "pypi", "src/runtime", (".cs",), "C#", "cigms"),
    Project("ruby", "ruby-rack", "deb", "usr/share/rubygems-integration", (".rb",), "Ruby",
            "cmfS"),
    Project("php", "php-guzzlehttp-psr7", "deb", "usr/share/php", (".php",), "PHP", "citf"),
    Project("kotlin", "expo-modules-core@58.1.0", "npm", "package/android", (".kt",), "Kotlin",
            "ciomT"),
    Project("swift", "expo-modules-core@58.1.0", "npm", "package/ios", (".swift",), None, ""),
)


def _run(cmd: list[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _unpack_archive(archive: Path, into: Path) -> None:
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as z:
            z.extractall(into)
    else:
        with tarfile.open(archive) as t:
            t.extractall(into, filter="data")


def _unpack_deb(deb: Path, into: Path) -> None:
    into.mkdir(parents=True, exist_ok=True)
    _run(["dpkg-deb", "-x", str(deb), str(into)], into)
    src_zip = next(into.rglob("src.zip"), None)  # openjdk-17-source: the JDK's sources
    if src_zip is not None:
        with zipfile.ZipFile(src_zip) as z:
            for member in z.namelist():
                if member.startswith("java.base/java/util/"):
                    z.extract(member, into)


def fetch(project: Project, cache: Path) -> Path:
    """The unpacked project (downloaded once, then cached)."""
    folder = cache / project.name.replace("/", "_")
    if (folder / ".done").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    download = folder / "download"
    download.mkdir(parents=True)
    if project.fetch == "pypi":
        _run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
              project.name, "-d", str(download)], download)
        archive = next(download.iterdir())
        _unpack_archive(archive, folder / "tmp")
        top = next((folder / "tmp").iterdir())
        top.rename(folder / "src_root")
    elif project.fetch == "npm":
        _run(["npm", "pack", "--silent", project.name], download)
        _unpack_archive(next(download.glob("*.tgz")), folder / "src_root")
    else:
        _run(["apt-get", "download", project.name], download)
        _unpack_deb(next(download.glob("*.deb")), folder / "src_root")
    shutil.rmtree(download, ignore_errors=True)
    (folder / ".done").write_text("ok")
    return folder


def source_files(project: Project, folder: Path) -> list[Path]:
    base = folder / "src_root"
    root = base / project.subdir
    if not root.exists():  # openjdk's extracted sources sit at the top of src_root
        root = next((p for p in base.rglob(project.subdir)), root)
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith(project.suffixes)
                  and not any(s in str(p) for s in project.skip))


def ctags_tags(project: Project, files: list[Path]) -> list[tuple[str, str, int]]:
    """(path, name, line) of ctags' named definitions of the comparable kinds."""
    if project.ctags_language is None or shutil.which("ctags") is None:
        return []
    lang = project.ctags_language
    cmd = ["ctags", "--output-format=json", "--fields=+nKZ", "-f", "-",
           f"--languages={lang}", f"--language-force={lang}",
           f"--kinds-{lang}={project.ctags_kinds}", "-L", "-"]
    result = subprocess.run(cmd, input="\n".join(map(str, files)), capture_output=True,
                            text=True, check=False)
    tags = []
    for line in result.stdout.splitlines():
        try:
            tag = json.loads(line)
        except ValueError:
            continue
        name = tag.get("name", "")
        if tag.get("_type") != "tag" or not name or name.startswith(("__anon", "Anonymous", "<")):
            continue
        if "<lambda>" in tag.get("scope", ""):
            continue  # ctags' Kotlin parser tags lambda parameters as methods
        if lang == "Kotlin" and name == "Companion":
            continue  # AETHER puts a companion object's members on their class: `Cache.create`
        tags.append((tag["path"], name, int(tag.get("line", 0))))
    return tags


# Swift has no ctags parser: a line-start declaration keyword is its (rougher) reference.
_SWIFT_DECLARATION = re.compile(
    r"^[ \t]*(?:@\w+(?:\([^)]*\))?[ \t]+)*(?:(?:public|private|internal|fileprivate|open|"
    r"static|final|override|class|mutating|nonmutating|convenience|required|dynamic|"
    r"indirect|nonisolated|package)[ \t]+)*"
    r"(?:func[ \t]+([A-Za-z_]\w*)|(init|deinit|subscript)\b|"
    r"(?:class|struct|enum|protocol|actor|typealias)[ \t]+([A-Za-z_]\w*))", re.MULTILINE)


def grep_tags(files: list[Path]) -> list[tuple[str, str, int]]:
    """(path, name, line) of Swift declarations found by a line-start regex."""
    tags = []
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        for match in _SWIFT_DECLARATION.finditer(text):
            name = next(g for g in match.groups() if g)
            tags.append((str(f), name, text.count("\n", 0, match.start()) + 1))
    return tags


def _short(name: str) -> str:
    name = "".join(name.split())  # ctags' `operator !=` is C++'s `operator!=`
    for sep in ("::", "#", "\\", "."):
        name = name.rpartition(sep)[2] if sep in name else name
    return name


def coverage(tags: list[tuple[str, str, int]], symbols: dict[str, list[Symbol]]
             ) -> tuple[int, list[tuple[str, str, int]]]:
    found, missed = 0, []
    for path, name, line in tags:
        short = _short(name)  # C# `IEnumerable.GetEnumerator` (explicit implementation)
        # the same name around that line; or a symbol starting on that line that AETHER names
        # otherwise (`request.onabort = function handleAbort` is `request.onabort`)
        if any((_short(s.name) == short and s.start_line <= line <= s.end_line)
               or (s.start_line == line and short in s.signature)
               for s in symbols.get(path, ())):
            found += 1
        else:
            missed.append((path, name, line))
    return found, missed


def measure(blobs: list[tuple[str, str, bytes]],
            analyze: Callable[[str, str, bytes], list[Symbol]]
            ) -> tuple[float, dict[str, list[Symbol]]]:
    """Seconds per pass over all files, and each file's symbols."""
    symbols = {path: analyze(path, lang, data) for path, lang, data in blobs}  # warm-up
    passes, started = 0, time.perf_counter()
    while True:
        for path, lang, data in blobs:
            analyze(path, lang, data)
        passes += 1
        elapsed = time.perf_counter() - started
        if elapsed >= MIN_SECONDS:
            return elapsed / passes, symbols


def _blobs(project: Project, folder: Path) -> list[tuple[str, str, bytes]]:
    blobs = []
    for f in source_files(project, folder):
        data = f.read_bytes()
        language = language_for_source(f.name, data)
        if language is not None:
            blobs.append((str(f), language, data))
    return blobs


def _symbols(path: str, language: str, data: bytes) -> list[Symbol]:
    return analyze_source(path, language, data).symbols


def _parse_only(path: str, language: str, data: bytes) -> list[Symbol]:
    parser_for(language).parse(data)
    return []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="languages to run (python is always run)")
    ap.add_argument("--missed", type=int, default=0, help="print N missed ctags tags per "
                    "language")
    ap.add_argument("--cache", type=Path, default=CACHE)
    args = ap.parse_args()
    chosen = [p for p in PROJECTS if not args.only or p.language in args.only
              or p.language == "python"]
    print(f"{'language':<11} {'project':<26} {'files':>5} {'KB':>6} {'ctags':>6} "
          f"{'found':>6} {'cover':>7} {'symbols':>7} {'MB/s':>6} {'vs py':>6} {'parse':>6}")
    python_blobs: list[tuple[str, str, bytes]] = []
    for project in chosen:
        try:
            folder = fetch(project, args.cache)
        except (subprocess.CalledProcessError, StopIteration, OSError) as exc:
            print(f"{project.language:<11} {project.name:<26} unavailable: {exc}")
            continue
        blobs = _blobs(project, folder)
        size = sum(len(d) for _, _, d in blobs)
        if project.language == "python":
            python_blobs = blobs
        seconds, symbols = measure(blobs, _symbols)
        parse_seconds, _ = measure(blobs, _parse_only)
        rate = size / 1e6 / seconds if seconds else 0.0
        parse_rate = size / 1e6 / parse_seconds if parse_seconds else 0.0
        ratio = "-"
        if python_blobs:
            # Python again, right after: the machine is shared, so the baseline is taken
            # under the same load as the language it is compared with
            py_seconds, _ = measure(python_blobs, _symbols)
            py_rate = sum(len(d) for _, _, d in python_blobs) / 1e6 / py_seconds
            ratio = f"{rate / py_rate:.2f}"
        paths = [Path(p) for p, _, _ in blobs]
        tags = ctags_tags(project, paths) if project.ctags_language else grep_tags(paths)
        found, missed = coverage(tags, symbols)
        cover = f"{100 * found / len(tags):.1f}%" if tags else "no ctags"
        if project.ctags_language is None:
            cover += "*"
        total = sum(len(v) for v in symbols.values())
        print(f"{project.language:<11} {project.name:<26} {len(blobs):>5} {size // 1024:>6} "
              f"{len(tags):>6} {found:>6} {cover:>7} {total:>7} {rate:>6.2f} {ratio:>6} "
              f"{parse_rate:>6.2f}", flush=True)
        for path, name, line in missed[:args.missed]:
            print(f"    missed {name} at {Path(path).relative_to(folder)}:{line}",
                  file=sys.stderr)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
