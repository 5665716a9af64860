"""One source file per language with every construct AETHER indexes, shared by the symbol,
LSP and MCP tests."""

from __future__ import annotations

FIXTURES: dict[str, tuple[str, str]] = {
    "java": ("src/main/java/com/example/store/Cache.java", """\
package com.example.store;

import java.io.File;
import java.util.*;

/** A cache of items. */
@Deprecated
public class Cache<K, V> extends Base implements Store {
    private int size;
    /** Creates a cache. */
    public Cache(int size) { this.size = size; }
    public V get(K key) throws IOException { return null; }
    static class Entry { void touch() {} }
    interface Listener { void onEvict(K key); default void x() {} }
    enum Mode { ON, OFF; void flip() {} }
    record Point(int x, int y) { int sum() { return x + y; } }
    @interface Marker {}
}
"""),
    "c": ("src/util.c", """\
#include <stdio.h>
#include "util.h"

/** Adds two numbers. */
static int add(int a, int b) { return a + b; }
char *dup(const char *s) { return 0; }
struct point { int x; int y; };
typedef struct { int r; } color_t;
enum mode { ON, OFF };
union bits { int i; float f; };
typedef int (*handler_t)(int);
int proto(int x);
"""),
    "cpp": ("src/cache.cpp", """\
#include <vector>
namespace store { namespace detail {
/// A cache.
template <typename T>
class Cache : public Base {
public:
    Cache(int n);
    ~Cache();
    T get(int key) const { return T(); }
    static Cache* make();
    bool operator==(const Cache& o) const;
    struct Entry { void touch() {} };
};
template <typename T> Cache<T>::Cache(int n) {}
void Cache<int>::helper() {}
int free_fn(int x) { return x; }
}}
void store::detail::outside() {}
enum class Color { Red };
using Alias = int;
"""),
    "csharp": ("src/Cache.cs", """\
using System;
using System.IO;
namespace Acme.Store {
    /// <summary>A cache.</summary>
    public class Cache<T> : Base, IStore {
        public Cache(int n) {}
        public T Get(string key) { return default; }
        public int Size { get; set; }
        public struct Entry { void Touch() {} }
        public interface IListener { void OnEvict(); }
        public enum Mode { On, Off }
        public record Point(int X, int Y);
        public delegate void Handler(int x);
        ~Cache() {}
    }
}
namespace Flat;
class Other { void M() {} }
"""),
    "ruby": ("lib/rack/cache.rb", """\
require 'json'
require_relative 'util'
module Rack
  # A cache.
  class Cache < Base
    def initialize(app)
      @app = app
    end
    def self.build(opts) = new(opts)
    def call(env); end
    class << self
      def create; end
    end
    module Helpers
      def helper; end
    end
  end
  def self.top; end
end
class Rack::Other; def go; end; end
def toplevel(x); end
"""),
    "php": ("src/Stream.php", """\
<?php
namespace GuzzleHttp\\Psr7;
use Psr\\Http\\Message\\StreamInterface;
/** A stream. */
final class Stream implements StreamInterface {
    /** Reads. */
    public function read(int $length): string { return ''; }
    public static function create($x) {}
    private function __construct() {}
}
interface Foo { public function bar(); }
trait T { function t() {} }
enum Suit: string { case H = 'h'; public function color() {} }
function helper(array $a = []): ?int { return null; }
"""),
    "kotlin": ("src/main/kotlin/Cache.kt", """\
package com.example.store

import java.io.File

/** A cache. */
class Cache<T>(val size: Int) : Base(), Store {
    fun get(key: String): T? = null

    companion object {
        fun create(): Cache<Int> = Cache(1)
    }

    inner class Entry {
        fun touch() {}
    }
}

interface Store {
    fun put(x: Int)
}

object Registry {
    fun register() {}
}

data class Point(val x: Int, val y: Int)

enum class Mode { ON, OFF }

fun topLevel(x: Int): Int {
    return x
}

fun String.ext(): Int = length

typealias Name = String
"""),
    "swift": ("Sources/Cache.swift", """\
import Foundation

/// A cache.
public class Cache<T>: Base, Store {
    init(size: Int) {}
    func get(_ key: String) -> T? { return nil }
    static func make() -> Cache { Cache(size: 1) }
    deinit {}
    subscript(i: Int) -> T? { nil }
}
struct Point { var x: Int; func sum() -> Int { x } }
enum Mode { case on, off; func flip() {} }
protocol Store { func put(_ x: Int) }
extension Point: Equatable { func norm() -> Double { 0 } }
func topLevel(x: Int) throws -> Int { return x }
typealias Name = String
actor Worker { func run() async {} }
"""),
}
