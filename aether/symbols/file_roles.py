"""Which files hold product code and which hold tests, examples, vendored, generated or
minified code. Search ranks the second kind below the first (a question about "how a
response is parsed" wants the parser, not its test), so this is path heuristics only: cheap,
language-agnostic, and right for the conventions of Python, JS/TS, Go and Rust projects."""

from __future__ import annotations

import re
from functools import lru_cache

_TEST_DIRS = frozenset({"test", "tests", "testing", "__tests__", "__mocks__", "spec", "specs",
                        "e2e", "fixtures", "testdata", "test_data", "conftest"})
_EXAMPLE_DIRS = frozenset({"example", "examples", "demo", "demos", "sample", "samples",
                           "docs", "doc", "benchmarks", "bench", "scripts", "tutorial"})
_VENDOR_DIRS = frozenset({"vendor", "vendored", "_vendor", "third_party", "thirdparty",
                          "third-party", "node_modules", "external", "extern", "deps"})
_GENERATED_DIRS = frozenset({"dist", "build", "generated", "gen", "__generated__", "out"})
_TEST_FILE = re.compile(
    r"(^test_.*|.*_test|.*_tests|^tests?|.*\.(test|spec|e2e)|conftest|.*_spec)\.[a-z]+$", re.I)
# Bundlers name their outputs by format: `zod/lib/index.umd.js`, `vue.esm.js`,
# `react.development.js` repeat the package's own sources.
_GENERATED_FILE = re.compile(r".*(\.min\.(js|mjs|cjs)|[._-](pb|pb2|generated|gen)\.[a-z]+|"
                             r"\.d\.ts|-bundle\.js|\.bundle\.js|"
                             r"\.(umd|esm|cjs|iife|development|production)\.(js|mjs|cjs))$", re.I)


@lru_cache(maxsize=65536)
def file_role(path: str) -> str:
    """product | test | example | vendored | generated, from a workspace-relative path."""
    parts = path.lower().split("/")
    dirs, name = parts[:-1], parts[-1]
    if any(d in _VENDOR_DIRS for d in dirs):
        return "vendored"
    if _GENERATED_FILE.match(name) or any(d in _GENERATED_DIRS for d in dirs[:1]):
        return "generated"
    if _TEST_FILE.match(name) or any(d in _TEST_DIRS for d in dirs):
        return "test"
    if any(d in _EXAMPLE_DIRS for d in dirs):
        return "example"
    return "product"


def is_product(path: str) -> bool:
    return file_role(path) == "product"
