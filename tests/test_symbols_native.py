"""Java, C, C++, C#, Ruby, PHP, Kotlin, Swift: kinds, qualified names in each language's own
spelling, lines, signatures, imports, doc comments, static SIRs, broken files, `.h` routing."""

from __future__ import annotations

import pytest

from aether.sir.static import analyze_with_sirs
from aether.sir.static_text import comment_text, first_sentence
from aether.symbols.extract import analyze_source
from aether.symbols.languages import LANGUAGE_BY_EXT, language_for_path, language_for_source
from tests.language_fixtures import FIXTURES

# qualified name -> (kind, start line, signature), in document order
EXPECTED: dict[str, dict[str, tuple[str, int, str]]] = {
    "java": {
        "com.example.store.Cache": (
            "class", 7, "public class Cache<K, V> extends Base implements Store"),
        "com.example.store.Cache.Cache": ("method", 11, "public Cache(int size)"),
        "com.example.store.Cache.get": ("method", 12, "public V get(K key) throws IOException"),
        "com.example.store.Cache.Entry": ("class", 13, "static class Entry"),
        "com.example.store.Cache.Entry.touch": ("method", 13, "void touch()"),
        "com.example.store.Cache.Listener": ("interface", 14, "interface Listener"),
        "com.example.store.Cache.Listener.onEvict": ("method", 14, "void onEvict(K key)"),
        "com.example.store.Cache.Listener.x": ("method", 14, "default void x()"),
        "com.example.store.Cache.Mode": ("enum", 15, "enum Mode"),
        "com.example.store.Cache.Mode.flip": ("method", 15, "void flip()"),
        "com.example.store.Cache.Point": ("class", 16, "record Point(int x, int y)"),
        "com.example.store.Cache.Point.sum": ("method", 16, "int sum()"),
        "com.example.store.Cache.Marker": ("interface", 17, "@interface Marker"),
    },
    "c": {
        "add": ("function", 5, "static int add(int a, int b)"),
        "dup": ("function", 6, "char *dup(const char *s)"),
        "point": ("struct", 7, "struct point"),
        "color_t": ("type_alias", 8, "typedef struct {...} color_t"),
        "mode": ("enum", 9, "enum mode"),
        "bits": ("struct", 10, "union bits"),
        "handler_t": ("type_alias", 11, "typedef int (*handler_t)(int)"),
    },
    "cpp": {
        "store::detail::Cache": (
            "class", 4, "template <typename T> class Cache : public Base"),
        "store::detail::Cache::get": ("method", 9, "T get(int key) const"),
        "store::detail::Cache::Entry": ("struct", 12, "struct Entry"),
        "store::detail::Cache::Entry::touch": ("method", 12, "void touch()"),
        "store::detail::Cache::Cache": (
            "method", 14, "template <typename T> Cache<T>::Cache(int n)"),
        "store::detail::Cache::helper": ("method", 15, "void Cache<int>::helper()"),
        "store::detail::free_fn": ("function", 16, "int free_fn(int x)"),
        "store::detail::outside": ("function", 18, "void store::detail::outside()"),
        "Color": ("enum", 19, "enum class Color"),
        "Alias": ("type_alias", 20, "using Alias = int"),
    },
    "csharp": {
        "Acme.Store.Cache": ("class", 5, "public class Cache<T> : Base, IStore"),
        "Acme.Store.Cache.Cache": ("method", 6, "public Cache(int n)"),
        "Acme.Store.Cache.Get": ("method", 7, "public T Get(string key)"),
        "Acme.Store.Cache.Entry": ("struct", 9, "public struct Entry"),
        "Acme.Store.Cache.Entry.Touch": ("method", 9, "void Touch()"),
        "Acme.Store.Cache.IListener": ("interface", 10, "public interface IListener"),
        "Acme.Store.Cache.IListener.OnEvict": ("method", 10, "void OnEvict()"),
        "Acme.Store.Cache.Mode": ("enum", 11, "public enum Mode"),
        "Acme.Store.Cache.Point": ("class", 12, "public record Point(int X, int Y)"),
        "Acme.Store.Cache.Handler": ("type_alias", 13, "public delegate void Handler(int x)"),
        "Acme.Store.Cache.~Cache": ("method", 14, "~Cache()"),
        "Flat.Other": ("class", 18, "class Other"),
        "Flat.Other.M": ("method", 18, "void M()"),
    },
    "ruby": {
        "Rack": ("module", 3, "module Rack"),
        "Rack::Cache": ("class", 5, "class Cache < Base"),
        "Rack::Cache#initialize": ("method", 6, "def initialize(app)"),
        "Rack::Cache.build": ("method", 9, "def self.build(opts)"),
        "Rack::Cache#call": ("method", 10, "def call(env)"),
        "Rack::Cache.create": ("method", 12, "def create"),  # inside `class << self`
        "Rack::Cache::Helpers": ("module", 14, "module Helpers"),
        "Rack::Cache::Helpers#helper": ("method", 15, "def helper"),
        "Rack.top": ("method", 18, "def self.top"),
        "Rack::Other": ("class", 20, "class Rack::Other"),
        "Rack::Other#go": ("method", 20, "def go"),
        "toplevel": ("function", 21, "def toplevel(x)"),
    },
    "php": {
        "GuzzleHttp\\Psr7\\Stream": (
            "class", 5, "final class Stream implements StreamInterface"),
        "GuzzleHttp\\Psr7\\Stream::read": (
            "method", 7, "public function read(int $length): string"),
        "GuzzleHttp\\Psr7\\Stream::create": ("method", 8, "public static function create($x)"),
        "GuzzleHttp\\Psr7\\Stream::__construct": (
            "method", 9, "private function __construct()"),
        "GuzzleHttp\\Psr7\\Foo": ("interface", 11, "interface Foo"),
        "GuzzleHttp\\Psr7\\Foo::bar": ("method", 11, "public function bar()"),
        "GuzzleHttp\\Psr7\\T": ("trait", 12, "trait T"),
        "GuzzleHttp\\Psr7\\T::t": ("method", 12, "function t()"),
        "GuzzleHttp\\Psr7\\Suit": ("enum", 13, "enum Suit: string"),
        "GuzzleHttp\\Psr7\\Suit::color": ("method", 13, "public function color()"),
        "GuzzleHttp\\Psr7\\helper": (
            "function", 14, "function helper(array $a = []): ?int"),
    },
    "kotlin": {
        "com.example.store.Cache": (
            "class", 6, "class Cache<T>(val size: Int) : Base(), Store"),
        "com.example.store.Cache.get": ("method", 7, "fun get(key: String): T?"),
        "com.example.store.Cache.create": ("method", 10, "fun create(): Cache<Int>"),
        "com.example.store.Cache.Entry": ("class", 13, "inner class Entry"),
        "com.example.store.Cache.Entry.touch": ("method", 14, "fun touch()"),
        "com.example.store.Store": ("interface", 18, "interface Store"),
        "com.example.store.Store.put": ("method", 19, "fun put(x: Int)"),
        "com.example.store.Registry": ("class", 22, "object Registry"),
        "com.example.store.Registry.register": ("method", 23, "fun register()"),
        "com.example.store.Point": ("class", 26, "data class Point(val x: Int, val y: Int)"),
        "com.example.store.Mode": ("enum", 28, "enum class Mode"),
        "com.example.store.topLevel": ("function", 30, "fun topLevel(x: Int): Int"),
        "com.example.store.ext": ("function", 34, "fun String.ext(): Int"),
        "com.example.store.Name": ("type_alias", 36, "typealias Name = String"),
    },
    "swift": {
        "Cache": ("class", 4, "public class Cache<T>: Base, Store"),
        "Cache.init": ("method", 5, "init(size: Int)"),
        "Cache.get": ("method", 6, "func get(_ key: String) -> T?"),
        "Cache.make": ("method", 7, "static func make() -> Cache"),
        "Cache.deinit": ("method", 8, "deinit"),
        "Cache.subscript": ("method", 9, "subscript(i: Int) -> T?"),
        "Point": ("struct", 11, "struct Point"),
        "Point.sum": ("method", 11, "func sum() -> Int"),
        "Mode": ("enum", 12, "enum Mode"),
        "Mode.flip": ("method", 12, "func flip()"),
        "Store": ("interface", 13, "protocol Store"),
        "Store.put": ("method", 13, "func put(_ x: Int)"),
        "Point.norm": ("method", 14, "func norm() -> Double"),  # declared in an extension
        "topLevel": ("function", 15, "func topLevel(x: Int) throws -> Int"),
        "Name": ("type_alias", 16, "typealias Name = String"),
        "Worker": ("class", 17, "actor Worker"),
        "Worker.run": ("method", 17, "func run() async"),
    },
}

IMPORTS = {
    "java": ["java.io.File", "java.util.*"],
    "c": ["stdio.h", "util.h"],
    "cpp": ["vector"],
    "csharp": ["System", "System.IO"],
    "ruby": ["json", "util"],
    "php": ["Psr\\Http\\Message\\StreamInterface"],
    "kotlin": ["java.io.File"],
    "swift": ["Foundation"],
}

# a doc-commented symbol per language -> the intent its comment gives
DOCUMENTED = {
    "java": ("com.example.store.Cache", "A cache of items."),
    "c": ("add", "Adds two numbers."),
    "cpp": ("store::detail::Cache", "A cache."),
    "csharp": ("Acme.Store.Cache", "A cache."),
    "ruby": ("Rack::Cache", "A cache."),
    "php": ("GuzzleHttp\\Psr7\\Stream::read", "Reads."),
    "kotlin": ("com.example.store.Cache", "A cache."),
    "swift": ("Cache", "A cache."),
}

# a line that breaks each file's syntax, inserted after the given 1-based line
BREAKS = {
    "java": (12, "    int broken = ;\n"),
    "c": (5, "int broken = ;\n"),
    "cpp": (16, "int broken = ;\n"),
    "csharp": (7, "        int broken = ;\n"),
    "ruby": (10, "    x = (1 +\n"),
    "php": (9, "    public $broken = ;\n"),
    "kotlin": (7, "    fun broken() { val x = ; }\n"),
    "swift": (10, "let broken = \n"),
}


def test_every_new_extension_has_a_language() -> None:
    wanted = {".java": "java", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp",
              ".hpp": "cpp", ".cs": "csharp", ".rb": "ruby", ".rake": "ruby", ".php": "php",
              ".kt": "kotlin", ".kts": "kotlin", ".swift": "swift"}
    for ext, language in wanted.items():
        assert LANGUAGE_BY_EXT[ext] == language
        assert language_for_path(f"src/x{ext.upper()}") == language


def test_headers_go_to_c_or_cpp_by_content() -> None:
    c_header = b"#ifndef UTIL_H\n#define UTIL_H\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n" \
        b"int add(int a, int b);\ntypedef struct { int x; } point_t;\n#endif\n"
    cpp_header = b"#pragma once\n#include <string>\nnamespace store {\nclass Cache {\n" \
        b"public:\n  int get() const { return 1; }\n};\n}\n"
    assert language_for_source("include/util.h", c_header) == "c"
    assert language_for_source("include/cache.h", cpp_header) == "cpp"
    assert language_for_source("src/util.c", cpp_header) == "c"  # only `.h` is sniffed
    symbols = {s.qualified_name: s.kind for s in analyze_source(
        "include/cache.h", "cpp", cpp_header).symbols}
    assert symbols == {"store::Cache": "class", "store::Cache::get": "method"}


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_fixture_names_kinds_lines_and_signatures(language: str) -> None:
    path, source = FIXTURES[language]
    assert language_for_source(path, source.encode()) == language
    analysis = analyze_source(path, language, source.encode())
    assert not analysis.has_syntax_errors
    got = {s.qualified_name: (s.kind, s.start_line, s.signature) for s in analysis.symbols}
    assert got == EXPECTED[language]
    assert [s.qualified_name for s in analysis.symbols] == list(EXPECTED[language])
    assert len({s.id for s in analysis.symbols}) == len(analysis.symbols)
    assert analysis.imports == IMPORTS[language]


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_ids_survive_body_edits_and_line_shifts(language: str) -> None:
    path, source = FIXTURES[language]
    before = {s.qualified_name: s.id for s in analyze_source(
        path, language, source.encode()).symbols}
    prefix = "<?php\n" if language == "php" else ""
    shifted = prefix + "\n\n" + source.removeprefix(prefix)
    after = {s.qualified_name: s.id for s in analyze_source(
        path, language, shifted.encode()).symbols}
    assert after == before


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_syntax_errors_still_yield_the_other_symbols(language: str) -> None:
    path, source = FIXTURES[language]
    line, broken = BREAKS[language]
    lines = source.splitlines(keepends=True)
    text = "".join([*lines[:line], broken, *lines[line:]])
    analysis = analyze_source(path, language, text.encode())
    assert analysis.has_syntax_errors
    names = {s.qualified_name for s in analysis.symbols}
    missing = set(EXPECTED[language]) - names
    assert len(missing) <= 2, missing  # at most what sits next to the broken line


@pytest.mark.parametrize("language", sorted(DOCUMENTED))
def test_doc_comments_become_intents(language: str) -> None:
    path, source = FIXTURES[language]
    analysis, sirs = analyze_with_sirs(path, language, source.encode())
    by_name = {s.qualified_name: s for s in analysis.symbols}
    name, intent = DOCUMENTED[language]
    assert sirs[by_name[name].id]["intent"] == intent
    # an undocumented symbol gets a sentence made from its name, never an empty intent
    assert all(sir["intent"] for sir in sirs.values())


STATIC_CASES = {
    "java": ("p/B.java", """\
package p;
import java.nio.file.Files;
class B {
    /** Loads the config file. @param p path */
    byte[] load(Path p) throws IOException {
        System.out.println("x");
        if (p == null) throw new IllegalArgumentException("p");
        try { return Files.readAllBytes(p); } catch (Exception e) { return null; }
    }
}
""", "p.B.load", {"inputs": ["Path p"], "outputs": ["byte[]"],
                   "side_effects": ["reads files (Files.readAllBytes)",
                                    "writes to stdout (System.out.println)"],
                   "error_modes": ["catches errors", "throws IOException",
                                   "throws IllegalArgumentException"]}),
    "c": ("run.c", """\
#include <stdlib.h>
/* Runs a shell command. */
int run(const char *cmd) {
    printf("%s", cmd);
    return system(cmd);
}
""", "run", {"inputs": ["const char *cmd"], "outputs": ["int"],
             "side_effects": ["spawns processes (system)", "writes to stdout (printf)"]}),
    "cpp": ("run.cpp", """\
#include <cstdlib>
/// Runs the command.
int run(const char* cmd) {
    if (!cmd) throw std::invalid_argument("cmd");
    return std::system(cmd);
}
""", "run", {"side_effects": ["spawns processes (std::system)"],
             "error_modes": ["throws std::invalid_argument"]}),
    "csharp": ("C.cs", """\
using System.IO;
class C {
    /// <summary>Reads the settings.</summary>
    /// <param name="path">where</param>
    public string Read(string path) {
        if (path == null) throw new ArgumentNullException(nameof(path));
        return File.ReadAllText(path);
    }
}
""", "C.Read", {"inputs": ["string path"], "outputs": ["string"],
                "side_effects": ["reads files (File.ReadAllText)"],
                "error_modes": ["throws ArgumentNullException"]}),
    "ruby": ("fetch.rb", """\
require 'net/http'
# Fetches the page body.
def fetch(url)
  raise ArgumentError, "no url" if url.nil?
  File.write("out.txt", Net::HTTP.get(URI(url)))
end
""", "fetch", {"inputs": ["url"], "side_effects": ["network I/O (Net::HTTP.get)",
                                                    "writes files (File.write)"],
               "error_modes": ["raises exceptions"]}),
    "php": ("S.php", """\
<?php
namespace A;
class S {
    /** Sends it. */
    public function send(string $url): string {
        $body = file_get_contents($url);
        throw new \\RuntimeException("x");
    }
}
""", "A\\S::send", {"inputs": ["string $url"], "outputs": ["string"],
                    "side_effects": ["reads files (file_get_contents)"],
                    "error_modes": ["throws \\RuntimeException"]}),
    "kotlin": ("Save.kt", """\
import java.io.File
/** Saves the text. */
fun save(path: String, text: String): Unit {
    require(path.isNotEmpty())
    File(path).writeText(text)
}
""", "save", {"inputs": ["path: String", "text: String"], "outputs": ["Unit"],
              "side_effects": ["writes files (File.writeText)"],
              "error_modes": ["throws IllegalArgumentException"]}),
    "swift": ("Clear.swift", """\
import Foundation
/// Removes the cache.
func clear(at url: URL) throws -> Bool {
    try FileManager.default.removeItem(at: url)
    throw CacheError.gone
}
""", "clear", {"inputs": ["at url: URL"], "outputs": ["Bool"],
               "side_effects": ["modifies the file system (FileManager.default.removeItem)"],
               "error_modes": ["propagates errors with try", "throws CacheError.gone",
                               "throws errors"]}),
}


@pytest.mark.parametrize("language", sorted(STATIC_CASES))
def test_static_sir_inputs_outputs_effects_and_errors(language: str) -> None:
    path, source, name, expected = STATIC_CASES[language]
    analysis, sirs = analyze_with_sirs(path, language, source.encode())
    symbol = next(s for s in analysis.symbols if s.qualified_name == name)
    sir = sirs[symbol.id]
    for key, value in expected.items():
        assert sorted(sir[key]) == sorted(value), (key, sir)
    assert sir["confidence"] > 0.5  # documented
    if language in IMPORTED:  # the import/include/using/require it goes through
        assert IMPORTED[language] in sir["dependencies"], sir["dependencies"]


IMPORTED = {"java": "java.nio.file.Files", "c": "stdlib.h", "cpp": "cstdlib",
            "csharp": "System.IO", "ruby": "net/http", "kotlin": "java.io.File",
            "swift": "Foundation"}


def test_c_macros_are_blanked_for_the_parse_only() -> None:
    header = b"""\
#pragma once
#include <string>
FMT_BEGIN_NAMESPACE
/** A formatting error. */
FMT_CLASS_API
class FMT_API format_error : public std::runtime_error {
 public:
  FMT_CONSTEXPR explicit format_error(const char* message) {}
};
FMT_API void report(int code);
HANDLE
open_handle(int pid) { return 0; }
FMT_END_NAMESPACE
PYBIND11_NAMESPACE_BEGIN(detail)
inline int helper(int x) { return x; }
PYBIND11_NAMESPACE_END(detail)
"""
    analysis = analyze_source("include/fmt/format.h", "cpp", header)
    got = {s.qualified_name: (s.kind, s.start_line, s.signature) for s in analysis.symbols}
    assert got == {
        "format_error": ("class", 6, "class FMT_API format_error : public std::runtime_error"),
        # the parse starts after a blanked specifier macro, and so does the signature
        "format_error::format_error": (
            "method", 8, "explicit format_error(const char* message)"),
        "open_handle": ("function", 11, "HANDLE open_handle(int pid)"),  # a return type
        "helper": ("function", 15, "inline int helper(int x)"),
    }
    error = next(s for s in analysis.symbols if s.name == "format_error")
    assert header[error.start_byte:error.end_byte].startswith(b"class FMT_API format_error")


@pytest.mark.parametrize(("language", "source", "modules"), [
    ("swift", "@testable import Foo\ninternal import Bar.Baz\nimport struct Foundation.Date\n",
     ["Foo", "Bar.Baz", "Foundation.Date"]),
    ("csharp", "global using System;\nusing static System.Math;\nusing IO = System.IO;\n",
     ["System", "System.Math", "System.IO"]),
    ("java", "import static java.lang.Math.max;\nimport java.util.*;\n",
     ["java.lang.Math.max", "java.util.*"]),
    ("kotlin", "import a.b.C as D\nimport x.y.*\n", ["a.b.C", "x.y.*"]),
    ("php", '<?php\nuse A\\{B, C as D};\nuse function A\\f;\nrequire_once "x.php";\n',
     ["A\\B", "A\\C", "A\\f", "x.php"]),
    ("ruby", "require 'json'\nrequire_relative '../util'\nputs 'x'\n", ["json", "../util"]),
    ("c", '#include <stdio.h>\n#include "local/util.h"\n', ["stdio.h", "local/util.h"]),
])
def test_import_forms(language: str, source: str, modules: list[str]) -> None:
    assert analyze_source("f", language, source.encode()).imports == modules


@pytest.mark.parametrize(("comments", "text"), [
    (["/** Opens a {@code ZipFile} for {@link File f}.\n * @param f the file\n */"],
     "Opens a ZipFile for File."),
    (["/// <summary>Reads the <c>settings</c>.</summary>", '/// <param name="p">x</param>'],
     "Reads the settings."),
    (["/// \\brief Parses a header.", "/// @return the header"], "Parses a header."),
    (["# @todo remove in 3.0"], ""),
    (["# Serves files.", "# @param root [String]"], "Serves files."),
])
def test_doc_comment_dialects(comments: list[str], text: str) -> None:
    assert first_sentence(comment_text(comments)) == text


KOTLIN_ONE_LINE_BODIES = b'''\
package com.ex

object Registry { fun register(x: Int) {} }
class Cache {
    companion object { fun create(): Cache = Cache() }
    fun label(n: Int) = "n=${n }"
}
data class Point(val x: Int, val y: Int) { fun norm() = x + y }
sealed class Result { class Ok : Result() ; object Err : Result() }
class Last { fun f() {} }
'''


def test_kotlin_class_bodies_on_one_line() -> None:
    # the grammar wants a newline or `;` after the last member before `}`: without the
    # repair, `Registry.register` was a top-level function and every class after the
    # one-line `companion object` was lost
    analysis = analyze_source("src/Cache.kt", "kotlin", KOTLIN_ONE_LINE_BODIES)
    assert not analysis.has_syntax_errors
    assert [(s.qualified_name, s.kind, s.start_line) for s in analysis.symbols] == [
        ("com.ex.Registry", "class", 3), ("com.ex.Registry.register", "method", 3),
        ("com.ex.Cache", "class", 4), ("com.ex.Cache.create", "method", 5),
        ("com.ex.Cache.label", "method", 6),  # `${n }` in a string: not a class body
        ("com.ex.Point", "class", 8), ("com.ex.Point.norm", "method", 8),
        ("com.ex.Result", "class", 9), ("com.ex.Result.Ok", "class", 9),
        ("com.ex.Result.Err", "class", 9),
        ("com.ex.Last", "class", 10), ("com.ex.Last.f", "method", 10)]
    last = next(s for s in analysis.symbols if s.name == "Last")
    assert last.signature == "class Last"
    # the original bytes, whole: the repair moved nothing
    assert KOTLIN_ONE_LINE_BODIES[last.start_byte:last.end_byte] == b"class Last { fun f() {} }"
