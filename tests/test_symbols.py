"""Symbol extraction: kinds, qualified names, ranges, signatures, ids, imports, robustness."""

from __future__ import annotations

import threading
import time

import pytest

from aether.hashing import content_hash
from aether.symbols.extract import ParseTimeout, analyze_source, innermost_symbol
from aether.symbols.ids import symbol_id
from aether.symbols.languages import LANGUAGE_BY_EXT, language_for_path, parser_for
from aether.symbols.model import KINDS, FileAnalysis, Symbol

PY = b'''\
import os.path as osp
from .transport import Adapter, Retry as R


def retrying(n):
    def wrap(fn):
        return fn
    return wrap


class Session(Base, metaclass=Meta):
    """Keeps cookies between requests."""

    @retrying(3)
    def send(self, request, **kwargs) -> Response:  # the hot path
        def attempt():
            return self.adapter.send(request)
        return attempt()

    async def close(self):
        await self.adapter.close()

    class Config:
        verbose = False


async def main() -> None:
    pass
'''

JS = b'''\
import fs from "fs";
const { exec } = require("child_process");

/** Reads the manifest. */
export function readManifest(dir) {
  return JSON.parse(fs.readFileSync(dir + "/package.json", "utf8"));
}

function* ids() { yield 1; }

export const double = (x) => x * 2;
const legacy = function (a, b) { return a + b; };

class Cache extends Map {
  constructor(limit) { super(); this.limit = limit; }
  get(key) { return super.get(key); }
  onEvict = (key) => { console.log(key); };
  static create() { return new Cache(10); }
}

const handlers = { click() { return 1; } };
'''

TS = b'''\
import { Injectable } from "@angular/core";
export { helper } from "./helper";

export interface Repository<T> {
  find(id: string): Promise<T>;
  save(item: T): Promise<void>;
}

export type Id = string | number;

export enum Color { Red, Green = "green" }

export abstract class Base<T> implements Repository<T> {
  abstract find(id: string): Promise<T>;
  async save(item: T): Promise<void> { await this.write(item); }
  protected write(item: T): void {}
}

export default class UserRepo extends Base<User> {
  async find(id: string): Promise<User> { return fetchUser(id); }
}

namespace Util { export function clamp(x: number): number { return x; } }
'''

TSX = b'''\
import React from "react";

export function Button({ label }: { label: string }): JSX.Element {
  return <button className="btn">{label}</button>;
}

export const Card = ({ title }: Props) => <div>{title}</div>;
'''

RUST = b'''\
use std::collections::HashMap;
use std::io::{self, Read as _};

/// A cache keyed by name.
pub struct Cache<K, V> {
    items: HashMap<K, V>,
}

pub union Bits { i: u32, f: f32 }

pub enum Shape { Circle(f64), Square { side: f64 } }

pub type Items<V> = HashMap<String, V>;

pub trait Store {
    fn get(&self, key: &str) -> Option<String>;
    fn describe(&self) -> String {
        String::from("store")
    }
}

impl<K: Eq, V> Cache<K, V> {
    pub fn new() -> Self {
        Cache { items: HashMap::new() }
    }
}

impl<K, V> Store for Cache<K, V> {
    fn get(&self, key: &str) -> Option<String> { None }
}

mod inner {
    pub fn helper() -> u8 { 1 }
}

fn main() {}
'''

GO = b'''\
package server

import (
\t"fmt"
\tnh "net/http"
)

// Server serves requests.
type Server struct {
\tAddr string
}

type Handler interface {
\tServe() error
}

type ID string

type (
\tPort int
\tAlias = string
)

func (s *Server) Start(port int) error {
\treturn nh.ListenAndServe(s.Addr, nil)
}

func (s Server) Name() string { return fmt.Sprint(s.Addr) }

func New(addr string) *Server { return &Server{Addr: addr} }
'''


def _analyze(path: str, source: bytes) -> FileAnalysis:
    language = language_for_path(path)
    assert language is not None
    return analyze_source(path, language, source)


def _table(analysis: FileAnalysis) -> dict[str, str]:
    return {s.qualified_name: s.kind for s in analysis.symbols}


def _by_name(analysis: FileAnalysis) -> dict[str, Symbol]:
    return {s.qualified_name: s for s in analysis.symbols}


# -- languages ------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "language"), [
    ("a/b.py", "python"), ("x.js", "javascript"), ("x.jsx", "javascript"),
    ("x.mjs", "javascript"), ("x.cjs", "javascript"), ("x.ts", "typescript"),
    ("x.mts", "typescript"), ("x.cts", "typescript"), ("x.tsx", "tsx"), ("src/lib.rs", "rust"),
    ("main.go", "go"), ("README.md", None), ("Makefile", None), ("X.PY", "python"),
])
def test_language_for_path(path: str, language: str | None) -> None:
    assert language_for_path(path) == language


def test_every_extension_maps_to_a_language_that_parses() -> None:
    for language in set(LANGUAGE_BY_EXT.values()):
        assert analyze_source("f", language, b"").symbols == []


def test_parsers_are_per_thread() -> None:
    seen: list[object] = []

    def grab() -> None:
        seen.append(parser_for("python"))

    thread = threading.Thread(target=grab)
    thread.start()
    thread.join()
    assert seen[0] is not parser_for("python")
    assert parser_for("python") is parser_for("python")


# -- per language ---------------------------------------------------------------------------

def test_python_kinds_and_qualified_names() -> None:
    analysis = _analyze("pkg/session.py", PY)
    assert _table(analysis) == {
        "retrying": "function",
        "retrying.wrap": "function",
        "Session": "class",
        "Session.send": "method",
        "Session.send.attempt": "function",
        "Session.close": "method",
        "Session.Config": "class",
        "main": "function",
    }
    assert [s.qualified_name for s in analysis.symbols][:3] == [
        "retrying", "retrying.wrap", "Session"]  # document order
    assert analysis.imports == ["os.path", ".transport"]
    assert not analysis.has_syntax_errors
    assert all(s.kind in KINDS for s in analysis.symbols)


def test_python_signatures_exclude_decorators_body_and_comments() -> None:
    symbols = _by_name(_analyze("pkg/session.py", PY))
    assert symbols["Session.send"].signature == "def send(self, request, **kwargs) -> Response"
    assert symbols["Session"].signature == "class Session(Base, metaclass=Meta)"
    assert symbols["Session.close"].signature == "async def close(self)"
    assert symbols["main"].signature == "async def main() -> None"


def test_python_ranges_are_one_based_and_include_decorators() -> None:
    source = PY
    send = _by_name(_analyze("pkg/session.py", source))["Session.send"]
    assert (send.start_line, send.start_col) == (14, 5)  # the decorator line
    assert (send.end_line, send.end_col) == (18, 24)  # `return attempt()` ends at col 24
    assert source[send.start_byte:send.end_byte].startswith(b"@retrying(3)")
    assert send.content_hash == content_hash(source[send.start_byte:send.end_byte])
    lines = source.decode().splitlines()
    assert lines[send.end_line - 1][: send.end_col].endswith("return attempt()")


OVERLOADED = b"""\
import typing as t
from typing import overload


class Context:
    @t.overload
    def invoke(self, cb: int) -> int: ...

    @t.overload
    def invoke(self, cb: str) -> str: ...

    @staticmethod
    def invoke(cb):
        \"\"\"Invoke a callback.\"\"\"
        return cb


@overload
def parse(x: int) -> int: ...
@overload
def parse(x: str) -> str: ...
def parse(x):
    return x


@overload
def declared(x: int) -> int: ...
@overload
def declared(x: str) -> str: ...
"""


def test_python_overloads_are_one_symbol_the_implementation() -> None:
    symbols = _analyze("pkg/ctx.py", OVERLOADED).symbols
    assert [(s.qualified_name, s.start_line) for s in symbols] == [
        ("Context", 5),
        ("Context.invoke", 6),  # the implementation, its range from the first overload
        ("parse", 18),
        ("declared", 26),  # a stub without an implementation: its first signature
    ]
    invoke, parse, declared = symbols[1], symbols[2], symbols[3]
    assert invoke.signature == "def invoke(cb)" and invoke.end_line == 15
    assert OVERLOADED[invoke.start_byte:invoke.end_byte].startswith(b"@t.overload")
    assert parse.signature == "def parse(x)" and parse.end_line == 23
    assert declared.signature == "def declared(x: int) -> int" and declared.end_line == 27
    # without `overload`, two defs of one name stay two symbols (e.g. under if/else)
    plain = _analyze("pkg/twice.py", b"def f(): pass\ndef f(): return 1\n").symbols
    assert [s.qualified_name for s in plain] == ["f", "f"]


def test_javascript_functions_classes_and_methods() -> None:
    analysis = _analyze("src/cache.js", JS)
    assert _table(analysis) == {
        "readManifest": "function",
        "ids": "function",
        "double": "function",
        "legacy": "function",
        "Cache": "class",
        "Cache.constructor": "method",
        "Cache.get": "method",
        "Cache.onEvict": "method",
        "Cache.create": "method",
        "handlers": "object",  # named object literals and their methods are symbols
        "handlers.click": "method",
    }
    symbols = _by_name(analysis)
    assert symbols["readManifest"].signature == "function readManifest(dir)"
    assert symbols["double"].signature == "const double = (x) =>"
    assert symbols["ids"].signature == "function* ids()"
    assert symbols["Cache"].signature == "class Cache extends Map"
    assert symbols["double"].start_col == 8  # after `export `
    assert analysis.imports == ["fs", "child_process"]


def test_typescript_interfaces_aliases_enums_abstract_classes() -> None:
    analysis = _analyze("src/repo.ts", TS)
    assert _table(analysis) == {
        "Repository": "interface",
        "Repository.find": "method",  # interface methods are symbols, as in Java or C#
        "Repository.save": "method",
        "Id": "type_alias",
        "Color": "enum",
        "Base": "class",
        "Base.find": "method",  # abstract members are symbols
        "Base.save": "method",
        "Base.write": "method",
        "UserRepo": "class",
        "UserRepo.find": "method",
        "Util.clamp": "function",
    }
    symbols = _by_name(analysis)
    assert symbols["Repository"].signature == "interface Repository<T>"
    assert symbols["Id"].signature == "type Id"
    assert symbols["Base"].signature == "abstract class Base<T> implements Repository<T>"
    assert symbols["UserRepo.find"].signature == "async find(id: string): Promise<User>"
    assert analysis.imports == ["@angular/core", "./helper"]


def test_tsx_components() -> None:
    analysis = _analyze("ui/button.tsx", TSX)
    assert _table(analysis) == {"Button": "function", "Card": "function"}
    assert not analysis.has_syntax_errors  # JSX needs the TSX grammar
    assert _by_name(analysis)["Card"].signature == "const Card = ({ title }: Props) =>"


def test_rust_items_impls_traits_and_modules() -> None:
    analysis = _analyze("src/cache.rs", RUST)
    assert _table(analysis) == {
        "Cache": "struct",
        "Bits": "struct",
        "Shape": "enum",
        "Items": "type_alias",
        "Store": "trait",
        "Store.describe": "method",  # default method; `get` there is only a signature
        "Cache.new": "method",  # generics stripped from `impl<K, V> Cache<K, V>`
        "Cache.get": "method",  # `impl Store for Cache<K, V>` -> Cache.get
        "inner.helper": "function",
        "main": "function",
    }
    symbols = _by_name(analysis)
    assert symbols["Cache.new"].signature == "pub fn new() -> Self"
    assert symbols["Cache"].signature == "pub struct Cache<K, V>"
    assert symbols["Cache"].start_line == 5  # the item, not its doc comment
    assert analysis.imports == ["std::collections::HashMap", "std::io", "std::io::Read"]


def test_go_functions_receivers_and_types() -> None:
    analysis = _analyze("server/server.go", GO)
    assert _table(analysis) == {
        "Server": "struct",
        "Handler": "interface",
        "ID": "type_alias",
        "Port": "type_alias",
        "Alias": "type_alias",
        "Server.Start": "method",
        "Server.Name": "method",
        "New": "function",
    }
    symbols = _by_name(analysis)
    assert symbols["Server.Start"].signature == "func (s *Server) Start(port int) error"
    assert symbols["Server"].signature == "type Server struct"
    assert symbols["Port"].signature == "type Port int"
    assert symbols["Server"].start_line == 9
    assert analysis.imports == ["fmt", "net/http"]


# -- ids --------------------------------------------------------------------------------------

def _ids(path: str, source: bytes) -> dict[str, Symbol]:
    return _by_name(_analyze(path, source))


@pytest.mark.parametrize(("path", "source", "name", "body_old", "body_new"), [
    ("pkg/session.py", PY, "Session.close", b"await self.adapter.close()",
     b"await self.adapter.aclose()\n        return None"),
    ("src/cache.js", JS, "readManifest", b'"utf8"', b'"latin1"'),
    ("src/cache.rs", RUST, "Cache.new", b"HashMap::new()", b"HashMap::with_capacity(8)"),
    ("server/server.go", GO, "New", b"&Server{Addr: addr}", b"&Server{Addr: addr + \":80\"}"),
])
def test_body_edit_keeps_id_and_changes_hash(path: str, source: bytes, name: str,
                                             body_old: bytes, body_new: bytes) -> None:
    before = _ids(path, source)[name]
    assert body_old in source
    after = _ids(path, source.replace(body_old, body_new))[name]
    assert after.id == before.id
    assert after.content_hash != before.content_hash


@pytest.mark.parametrize(("path", "source"), [
    ("pkg/session.py", PY), ("src/cache.js", JS), ("src/repo.ts", TS), ("src/cache.rs", RUST),
])
def test_inserting_lines_above_keeps_ids(path: str, source: bytes) -> None:
    before = _ids(path, source)
    header = b"// moved\n// down\n\n" if not path.endswith(".py") else b"# moved\n\n\n"
    after = _ids(path, header + source)
    assert {n: s.id for n, s in after.items()} == {n: s.id for n, s in before.items()}
    for name, symbol in after.items():
        assert symbol.start_line == before[name].start_line + 3
        assert symbol.content_hash == before[name].content_hash


def test_go_inserting_lines_keeps_ids() -> None:
    before = _ids("server/server.go", GO)
    after = _ids("server/server.go", GO.replace(b"package server\n", b"package server\n\n\n"))
    assert {n: s.id for n, s in after.items()} == {n: s.id for n, s in before.items()}


def test_rename_and_signature_change_change_the_id() -> None:
    before = _ids("pkg/session.py", PY)
    renamed = _ids("pkg/session.py", PY.replace(b"def send(", b"def dispatch("))
    assert "Session.send" not in renamed
    assert renamed["Session.dispatch"].id != before["Session.send"].id
    resigned = _ids("pkg/session.py", PY.replace(b"**kwargs) -> Response",
                                                 b"**kwargs) -> Reply"))
    assert resigned["Session.send"].id != before["Session.send"].id
    assert resigned["Session.close"].id == before["Session.close"].id


def test_id_matches_the_documented_recipe() -> None:
    send = _ids("pkg/session.py", PY)["Session.send"]
    assert send.id == symbol_id("python", "pkg/session.py", "method", "Session.send",
                                "def send(self, request, **kwargs) -> Response")


def test_duplicate_definitions_get_distinct_ids() -> None:
    source = b"if X:\n    def f(a):\n        pass\nelse:\n    def f(a):\n        return 1\n"
    symbols = _analyze("m.py", source).symbols
    assert [s.qualified_name for s in symbols] == ["f", "f"]
    assert symbols[0].id != symbols[1].id


# -- robustness -----------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "source", "expected"), [
    ("broken.py", b"def ok(a):\n    return a\n\ndef broken(:\n    pass\n\nclass After:\n"
                  b"    def m(self): pass\n", {"ok", "After", "After.m"}),
    ("broken.ts", b"function ok() { return 1 }\nfunction bad( { \nclass Later { m() {} }\n",
     {"ok"}),
    ("broken.rs", b"fn ok() {}\nfn bad( {\n", {"ok"}),
    ("broken.go", b"package x\nfunc Ok() {}\nfunc Bad( {\n", {"Ok"}),
])
def test_syntax_errors_never_raise(path: str, source: bytes, expected: set[str]) -> None:
    analysis = _analyze(path, source)
    assert analysis.has_syntax_errors
    assert expected <= {s.qualified_name for s in analysis.symbols}


def test_parse_timeout_raises_and_the_parser_stays_usable() -> None:
    big = b"".join(b"def f%d(a, b=[1, 2, 3]):\n    return {'k': a + b[%d]}\n" % (i, i % 3)
                   for i in range(60_000))
    started = time.perf_counter()
    with pytest.raises(ParseTimeout):
        analyze_source("big.py", "python", big, timeout_s=0.01)
    assert time.perf_counter() - started < 2.0
    # a cancelled parse must not leak into the next one
    assert [s.name for s in analyze_source("x.py", "python", b"def g(): pass\n").symbols] == ["g"]


def test_non_ascii_source_columns_are_bytes() -> None:
    source = "# é\ndef café(x):\n    return 'ü'\n".encode()
    (symbol,) = _analyze("u.py", source).symbols
    assert symbol.name == "café"
    assert source[symbol.start_byte:symbol.end_byte].decode().startswith("def café")
    assert (symbol.end_line, symbol.end_col) == (3, len("    return 'ü'".encode()))


# -- innermost_symbol -------------------------------------------------------------------------

def _at(symbols: list[Symbol], line: int, column: int | None = None) -> str | None:
    found = innermost_symbol(symbols, line, column)
    return found.qualified_name if found is not None else None


def test_innermost_symbol_by_line_and_column() -> None:
    symbols = _analyze("pkg/session.py", PY).symbols
    assert _at(symbols, 16) == "Session.send.attempt"
    assert _at(symbols, 18) == "Session.send"
    assert _at(symbols, 12) == "Session"
    assert _at(symbols, 1) is None  # imports
    # on `    class Config:`, before the column where Config starts we are in Session only
    config = _by_name(_analyze("pkg/session.py", PY))["Session.Config"]
    assert _at(symbols, config.start_line, config.start_col) == "Session.Config"
    assert _at(symbols, config.start_line, 1) == "Session"


def test_innermost_symbol_go_method_on_one_line() -> None:
    symbols = _analyze("server/server.go", GO).symbols
    name = _by_name(_analyze("server/server.go", GO))["Server.Name"]
    found = innermost_symbol(symbols, name.start_line, name.end_col)
    assert found is not None and found.qualified_name == "Server.Name"
    assert innermost_symbol(symbols, name.start_line, name.end_col + 1) is None
