"""Which files of a workspace AETHER may read, and how paths from clients are made safe.

Ignore rules: built-in defaults, `.gitignore` files (each applies below its own folder),
`.aetherignore` at the root, and the user's `index.exclude`. Secret files are never indexed
whatever the ignore files say.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pathspec

from aether.symbols.languages import language_for_path

DEFAULT_IGNORES = [
    ".git/", ".hg/", ".svn/", ".aether/", "node_modules/", "bower_components/",
    ".venv/", "venv/", ".env/", "virtualenv/", "__pycache__/", ".tox/", ".nox/",
    ".mypy_cache/", ".pytest_cache/", ".ruff_cache/",
    ".next/", ".nuxt/", "vendor/", "*.egg-info/", "*.min.js", "*.bundle.js",
]
# Folders builds and test runners write into. The same names are also packages (Go's
# `src/go/build`, Bazel's `src/main/java/com/google/devtools/build`, coverage.py's
# `coverage/`, CPython's `Tools/build/`), so one is skipped only outside a `src` tree and
# when it holds no sources of its own.
OUTPUT_DIRS = frozenset({"build", "dist", "target", "out", "coverage"})
# What a build never writes straight into its output folder: a Python package's
# `__init__.py`, or a source file of a compiled language (their output is objects, classes or
# archives; a Go build writes no .go). JavaScript, `.d.ts` and C headers are left out: bundles
# and generated headers are exactly what those folders hold.
_SOURCE_SUFFIXES = (".py", ".go", ".java", ".kt", ".rs", ".cs", ".swift", ".rb", ".php",
                    ".ts", ".tsx", ".mts", ".cts")
_DECLARATION_SUFFIXES = (".d.ts", ".d.mts", ".d.cts")

# Secrets: never indexed, never read, never sent to a provider.
SECRET_PATTERNS = [
    ".env", ".env.*", "*.env", "*.pem", "*.key", "*.p12", "*.pfx", "*.crt", "*.cer", "*.der",
    "*.jks", "*.keystore", "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", ".netrc",
    ".npmrc", ".pypirc", "*.kdbx", "credentials", "credentials.*", "secrets.*",
]
_SECRET_SPEC = pathspec.GitIgnoreSpec.from_lines(SECRET_PATTERNS)


class PathOutsideWorkspace(ValueError):
    """A client asked for a path that is not inside the workspace."""


def is_secret(rel_path: str) -> bool:
    return _SECRET_SPEC.match_file(rel_path)


def display_path(path: str) -> str:
    """A path fit for one line of text: bytes that are not UTF-8 (kept by the OS as lone
    surrogates) shown as `\\xff`, control characters such as newline and tab escaped, so a
    hostile file name can neither break an output line nor an encoder."""
    raw = path.encode("utf-8", "surrogateescape")
    text = raw.decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _file_type(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


@dataclass(frozen=True, slots=True)
class SkippedPath:
    """A file the walk saw but will not index; `path` is already made printable."""

    path: str
    error_type: str  # for the errors table: invalid_file_name | not_regular_file
    reason: str


@dataclass(frozen=True, slots=True)
class SourceFile:
    rel_path: str  # posix, workspace-relative
    language: str
    size: int
    mtime_ns: int


def _read_spec(path: Path) -> pathspec.GitIgnoreSpec | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None


def holds_sources(folder: Path) -> bool:
    """Whether a folder named like build output holds sources of its own (see OUTPUT_DIRS)."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                source = name == "__init__.py" or (name.endswith(_SOURCE_SUFFIXES)
                                                   and not name.endswith(_DECLARATION_SUFFIXES))
                if source and entry.is_file(follow_symlinks=False):
                    return True
    except OSError:
        pass
    return False


def _enclosing_repository_specs(root: Path) -> list[tuple[str, pathspec.GitIgnoreSpec]]:
    """The repository's ignore files the workspace's own `.gitignore`s do not cover, each
    paired with the workspace's path from its folder: `.git/info/exclude`, and when the
    workspace is a folder inside a repository (a package of a monorepo), each `.gitignore`
    between the repository's top and the workspace, as git applies them. Outside a
    repository, nothing above the workspace counts."""
    workspace = folder = root.resolve()
    if (folder / ".git").exists():  # its own repository (or a submodule, or a worktree)
        exclude = _read_spec(folder / ".git" / "info" / "exclude")
        return [("", exclude)] if exclude is not None else []
    above: list[Path] = []
    while folder != folder.parent:
        folder = folder.parent
        above.append(folder)
        if (folder / ".git").exists():
            break
    else:
        return []
    specs = []
    for folder, name in [(above[-1], ".git/info/exclude")] + [(f, ".gitignore") for f in above]:
        spec = _read_spec(folder / name)
        if spec is not None:
            specs.append((workspace.relative_to(folder).as_posix() + "/", spec))
    return specs


class IgnoreRules:
    """Decides whether a workspace-relative path is excluded."""

    def __init__(self, root: Path, extra: list[str] | None = None) -> None:
        self.root = root
        base = list(DEFAULT_IGNORES) + list(extra or [])
        aetherignore = root / ".aetherignore"
        if aetherignore.is_file():
            base += aetherignore.read_text(encoding="utf-8", errors="replace").splitlines()
        self._root_spec = pathspec.GitIgnoreSpec.from_lines(base)
        # folder (posix, "" for root) -> spec from that folder's .gitignore
        self._git: dict[str, pathspec.GitIgnoreSpec | None] = {}
        self._output: dict[str, bool] = {}  # folder -> is build output (see OUTPUT_DIRS)
        self._above = _enclosing_repository_specs(root)

    def _is_output(self, folder: str) -> bool:
        if folder not in self._output:
            self._output[folder] = not holds_sources(self.root / folder)
        return self._output[folder]

    def _gitignore(self, folder: str) -> pathspec.GitIgnoreSpec | None:
        if folder not in self._git:
            self._git[folder] = _read_spec(self.root / folder / ".gitignore")
        return self._git[folder]

    def ignored(self, rel_path: str, is_dir: bool = False) -> bool:
        probe = rel_path + "/" if is_dir else rel_path
        if not is_dir and is_secret(rel_path):
            return True
        verdict = self._root_spec.check_file(probe).include
        if verdict:
            return True
        if any(spec.match_file(prefix + probe) for prefix, spec in self._above):
            return True
        parts = PurePosixPath(rel_path).parts
        if verdict is None:  # a `!build/` in .aetherignore or the settings keeps the folder
            folders = len(parts) if is_dir else len(parts) - 1
            for depth in range(folders):
                if (parts[depth] in OUTPUT_DIRS and "src" not in parts[:depth]
                        and self._is_output("/".join(parts[:depth + 1]))):
                    return True
        for depth in range(len(parts)):
            folder = "/".join(parts[:depth])
            spec = self._gitignore(folder)
            if spec is not None:
                sub = "/".join(parts[depth:]) + ("/" if is_dir else "")
                if spec.match_file(sub):
                    return True
        return False


def unsupported_key(name: str) -> str:
    """How an unindexed file is counted: by extension (`.md`), or its name when it has none."""
    suffix = PurePosixPath(name).suffix.lower()
    return suffix or name


def _name_is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: the OS name holds a byte that is not UTF-8
        return False
    return True


def iter_source_files(root: Path, extra_excludes: list[str] | None = None,
                      unsupported: dict[str, int] | None = None, *,
                      skipped: list[SkippedPath] | None = None) -> Iterator[SourceFile]:
    """Every indexable file under `root`, ignore rules applied, symlinks not followed.
    `unsupported`, when given, counts the other (not ignored) files by extension: AETHER has
    no language for them, and `aether status` says so rather than skipping them silently.

    Only regular files are listed (a FIFO named `x.py` would block a reader forever), and
    only names that are valid UTF-8 (the store, the protocols and JSON cannot carry others).
    What is passed over for those reasons is appended to `skipped`, with the reason.
    """
    rules = IgnoreRules(root, extra_excludes)
    stack = [""]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(root / folder if folder else root))
        except OSError:
            continue
        for entry in entries:
            rel = f"{folder}/{entry.name}" if folder else entry.name
            try:
                if entry.is_symlink():
                    continue  # a link may point outside the workspace; never follow
                if entry.is_dir(follow_symlinks=False):
                    # A folder holding pyvenv.cfg is a virtualenv whatever its name.
                    if not rules.ignored(rel, is_dir=True) and not os.path.exists(
                        os.path.join(entry.path, "pyvenv.cfg")
                    ):
                        stack.append(rel)
                    continue
                if not _name_is_utf8(entry.name):
                    if skipped is not None and language_for_path(entry.name) is not None:
                        skipped.append(SkippedPath(display_path(rel), "invalid_file_name",
                                                   "file name is not valid UTF-8"))
                    continue
                language = language_for_path(entry.name)
                if language is None:
                    if unsupported is not None and not rules.ignored(rel):
                        key = unsupported_key(entry.name)
                        unsupported[key] = unsupported.get(key, 0) + 1
                    continue
                if rules.ignored(rel):
                    continue
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                if skipped is not None:
                    skipped.append(SkippedPath(display_path(rel), "not_regular_file",
                                               f"{_file_type(st.st_mode)}, not a regular file"))
                continue
            yield SourceFile(rel, language, st.st_size, st.st_mtime_ns)


def stat_source_file(root: Path, rel: str, language: str) -> SourceFile | SkippedPath | None:
    """One path as `iter_source_files` would list it: a SourceFile, a SkippedPath with the
    reason, or None when it is gone (or a symlink, which is never followed)."""
    if not _name_is_utf8(rel):
        return SkippedPath(display_path(rel), "invalid_file_name", "file name is not valid UTF-8")
    try:
        st = os.lstat(root / rel)
    except OSError:
        return None
    if stat.S_ISLNK(st.st_mode) or stat.S_ISDIR(st.st_mode):
        return None
    if not stat.S_ISREG(st.st_mode):
        return SkippedPath(display_path(rel), "not_regular_file",
                           f"{_file_type(st.st_mode)}, not a regular file")
    return SourceFile(rel, language, st.st_size, st.st_mtime_ns)


def read_regular_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file, never blocking: opened non-blocking and without following
    a symlink, then checked with fstat (it may have been swapped for a FIFO since listing).
    Reads at most `max_bytes + 1` bytes, so a file that grew is seen as too large."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
                 | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(f"{_file_type(mode)}, not a regular file")
        chunks: list[bytes] = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def resolve_in_workspace(root: Path, user_path: str) -> str:
    """Turn a client-supplied path (relative, absolute or file:// URI) into a safe relative one.

    Refuses anything that resolves outside the workspace, including through symlinks.
    """
    if user_path.startswith("file://"):
        from urllib.parse import unquote, urlparse

        user_path = unquote(urlparse(user_path).path)
    if not user_path or "\x00" in user_path:
        raise PathOutsideWorkspace("empty or invalid path")
    candidate = Path(user_path)
    if not candidate.is_absolute():
        candidate = root / candidate
    resolved = candidate.resolve(strict=False)
    root_resolved = root.resolve()
    try:
        rel = resolved.relative_to(root_resolved)
    except ValueError:
        raise PathOutsideWorkspace(f"path is outside the workspace: {user_path}") from None
    return rel.as_posix()
