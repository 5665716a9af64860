"""JavaScript and TypeScript as really written: property assignments, prototypes, CommonJS
exports, object-literal members, wrapped arrows, overloads, `declare` blocks, TSX components."""

from __future__ import annotations

from aether.sir.static import analyze_with_sirs
from aether.symbols.extract import analyze_source
from aether.symbols.model import Symbol

ROUTER = b'''\
var Layer = require('./layer');

var proto = module.exports = function(options) {
  function router(req, res, next) {
    router.handle(req, res, next);
  }
  return router;
};

/** Create a new Route for the given path. */
proto.route = function route(path) {
  return new Layer(path);
};

proto[method] = function(path) {};
'''

EXPRESS_STYLE = b'''\
var res = Object.create(http.ServerResponse.prototype);
module.exports = res;

res.send = function send(body) {
  function finish() { return body; }
  return finish();
};

exports.compileETag = function (val) { return val; };
module.exports.helper = (x) => x;

function Layer(path) { this.path = path; }

Layer.prototype.match = function match(path) {
  return path === this.path;
};

var app = exports = module.exports = {};
app.handle = function handle(req, res, callback) {};

const api = {
  get() { return 1; },
  post: async (body) => { return body; },
  nested: { deep: function () {} },
};

Route.prototype = { dispatch(req) {} };

export const plain = () => 1;
export const wrapped = memo((props) => props.x);
let generator = function* () { yield 1; };

class Widget {
  onClick = (event) => { return event; };
  static create = function () { return new Widget(); };
}

setTimeout(function tick() {}, 1);
handlers[kind] = function onEvent(event) {};
register({ options: { retry() {} } });
'''

QUERY = b"module.exports = function query(options) {\n  return function (req) {};\n};\n"
ANONYMOUS = b"module.exports = function (options) {};\n"

TS = b'''\
namespace Outer.Inner {
  export function clamp(x: number): number { return x; }
}

export abstract class Shape {
  abstract area(): number;
  scale(by: number): void;
  scale(by: string): void;
  scale(by: any): void {}
}

export function parse(text: string): number;
export function parse(text: Buffer): number;
export function parse(text: any): number { return 0; }

declare function external(x: number): string;
declare function external(x: string): string;

declare module "plugin" {
  export function register(name: string): void;
}

export const handler = async (event: Event): Promise<void> => {};
'''

TSX = b'''\
export function Button({ label }: Props) {
  return <button>{label}</button>;
}

export const Card = ({ title }: CardProps) => <div>{title}</div>;

export default function () { return <span />; }
'''


def _symbols(path: str, language: str, source: bytes) -> dict[str, Symbol]:
    analysis = analyze_source(path, language, source)
    by_name = {s.qualified_name: s for s in analysis.symbols}
    assert len(by_name) == len(analysis.symbols), "a symbol was counted twice"
    return by_name


def _table(symbols: dict[str, Symbol]) -> dict[str, tuple[str, int]]:
    return {name: (s.kind, s.start_line) for name, s in symbols.items()}


def test_router_prototype_is_named_after_the_module() -> None:
    symbols = _symbols("lib/router/index.js", "javascript", ROUTER)
    assert _table(symbols) == {
        "router": ("function", 3),  # anonymous module.exports: the module's name
        "router.router": ("function", 4),
        "Router.route": ("method", 11),
    }
    assert symbols["Router.route"].signature == "proto.route = function route(path)"
    assert symbols["router"].signature == "module.exports = function(options)"


def test_property_assignments_exports_prototypes_and_object_literals() -> None:
    symbols = _symbols("lib/response.js", "javascript", EXPRESS_STYLE)
    assert _table(symbols) == {
        "res.send": ("method", 4),
        "res.send.finish": ("function", 5),
        "compileETag": ("function", 9),
        "helper": ("function", 10),
        "Layer": ("function", 12),
        "Layer.match": ("method", 14),
        "app.handle": ("method", 19),
        "api": ("object", 21),  # a named object literal, and its members under it
        "api.get": ("method", 22),
        "api.post": ("method", 23),
        "api.nested": ("object", 24),
        "api.nested.deep": ("method", 24),
        "Route.dispatch": ("method", 27),
        "plain": ("function", 29),
        "wrapped": ("function", 30),
        "generator": ("function", 31),
        "Widget": ("class", 33),
        "Widget.onClick": ("method", 34),
        "Widget.create": ("method", 35),
        "tick": ("function", 38),
        "onEvent": ("function", 39),  # a computed target: the function's own name
        "retry": ("method", 40),  # an options object passed to a call is not a symbol
    }
    assert symbols["res.send"].signature == "res.send = function send(body)"
    assert symbols["compileETag"].signature == "exports.compileETag = function (val)"
    assert symbols["Layer.match"].signature == "Layer.prototype.match = function match(path)"
    assert symbols["api.post"].signature == "post: async (body) =>"
    assert symbols["wrapped"].signature == "const wrapped = memo((props) =>"
    assert symbols["Widget.onClick"].signature == "onClick = (event) =>"


def test_module_exports_takes_the_function_or_module_name() -> None:
    assert _table(_symbols("lib/middleware/query.js", "javascript", QUERY)) == {
        "query": ("function", 1)}
    assert _table(_symbols("lib/init.js", "javascript", ANONYMOUS)) == {"init": ("function", 1)}


def test_typescript_namespaces_abstract_overloads_and_declare() -> None:
    symbols = _symbols("src/shape.ts", "typescript", TS)
    assert _table(symbols) == {
        "Outer.Inner.clamp": ("function", 2),
        "Shape": ("class", 5),
        "Shape.area": ("method", 6),
        # three overloads, one symbol: the implementation's, starting at the first overload
        "Shape.scale": ("method", 7),
        "parse": ("function", 12),
        "external": ("function", 16),  # declared only: the first signature
        "plugin.register": ("function", 20),
        "handler": ("function", 23),
    }
    assert symbols["Shape.scale"].signature == "scale(by: any): void"
    assert symbols["Shape.area"].signature == "abstract area(): number"
    assert symbols["external"].signature == "function external(x: number): string"
    assert symbols["handler"].signature == \
        "const handler = async (event: Event): Promise<void> =>"


def test_tsx_components() -> None:
    symbols = _symbols("src/components/button.tsx", "tsx", TSX)
    assert _table(symbols) == {
        "Button": ("function", 1),
        "Card": ("function", 5),
        "button": ("function", 7),  # export default anonymous: the module's name
    }


def test_syntax_errors_still_yield_symbols() -> None:
    broken = EXPRESS_STYLE.replace(b"function handle(req, res, callback) {}",
                                   b"function handle(req, res, callback) {")
    analysis = analyze_source("lib/response.js", "javascript", broken)
    assert analysis.has_syntax_errors
    names = {s.qualified_name for s in analysis.symbols}
    assert {"res.send", "Layer.match", "compileETag"} <= names


def test_reexports_are_not_counted_twice() -> None:
    source = b'''\
function helper(x) { return x; }
exports.helper = helper;
module.exports.helper = helper;
module.exports = { helper, other: helper };
export { helper as default, helper };
export { parse } from "./parse";
exports.run = module.exports.run = function run() {};
'''
    assert _table(_symbols("lib/index.js", "javascript", source)) == {
        "helper": ("function", 1),
        "run": ("function", 7),  # one symbol for the chained CommonJS export
    }


def test_overloads_share_the_first_signatures_doc_and_range() -> None:
    source = b'''\
/** Parses text into a number. */
export function parse(text: string): number;
export function parse(text: Buffer): number;
export function parse(text: any): number { return 0; }
'''
    analysis, sirs = analyze_with_sirs("src/parse.ts", "typescript", source)
    [symbol] = analysis.symbols
    assert (symbol.start_line, symbol.end_line) == (2, 4)
    assert symbol.signature == "function parse(text: any): number"
    assert sirs[symbol.id]["intent"] == "Parses text into a number."


def test_this_assignments_belong_to_the_class_or_constructor() -> None:
    source = b'''\
class Socket {
  constructor() {
    this.onClose = () => {};
  }
}
function Emitter() {
  this.emit = function emit(event) {};
}
'''
    assert _table(_symbols("lib/socket.js", "javascript", source)) == {
        "Socket": ("class", 1),
        "Socket.constructor": ("method", 2),
        "Socket.onClose": ("method", 3),  # not Socket.constructor.onClose
        "Emitter": ("function", 6),
        "Emitter.emit": ("method", 7),
    }


def test_exported_object_literals() -> None:
    source = b'''\
module.exports = {
  parse(text) { return text; },
  formats: { rfc: 'RFC1738' },
};
exports.api = { get() {} };
Route.prototype = { dispatch() {} };
var app = exports = module.exports = {};
'''
    symbols = _symbols("lib/qs.js", "javascript", source)
    assert _table(symbols) == {
        "qs": ("object", 1),  # the module's export object, named after the module
        "parse": ("method", 2),  # its members keep their names, as `exports.parse` would
        "formats": ("object", 3),
        "api": ("object", 5),
        "api.get": ("method", 5),
        "Route.dispatch": ("method", 6),  # a prototype object only qualifies its members
    }
    assert symbols["qs"].signature == "module.exports"


ACCESSORS = b'''\
function Reply (res) { this.raw = res }

Object.defineProperties(Reply.prototype, {
  sent: {
    enumerable: true,
    get () { return this.raw.writableEnded },
    set (value) { this.raw.done = value }
  },
  [kSymbol]: { get () { return 1 } },
  server: { get: function () { return this.raw.server } }
})

var proto = Reply.prototype
Object.defineProperty(proto, 'statusCode', { get () { return this.raw.statusCode } })
Object.defineProperty(this, 'local', { value: () => 1 })
someLib.wrap({ get () { return 2 } })
'''


def test_property_accessors_are_named_after_their_property() -> None:
    analysis = analyze_source("lib/reply.js", "javascript", ACCESSORS)
    assert [(s.qualified_name, s.kind, s.start_line) for s in analysis.symbols] == [
        ("Reply", "function", 1),
        ("Reply.sent", "method", 6),  # the getter and the setter, each its own symbol
        ("Reply.sent", "method", 7),
        ("get", "method", 9),  # a computed key has no name to give
        ("Reply.server", "method", 10),
        ("Reply.statusCode", "method", 14),
        ("local", "method", 15),
        ("get", "method", 16),  # an object passed to any other call: its own name
    ]
    assert len({s.id for s in analysis.symbols}) == len(analysis.symbols)


CALL_SIGNATURES = b'''\
export interface ActionFactory extends Annotation {
    // nameless actions
    <T extends Function | undefined | null>(fn: T): T
    // named actions
    <T extends Function | undefined | null>(name: string, fn: T): T
    (customName: string): Annotation
}

export interface ValueFactory {
    <T>(value: T, options?: Options): Box<T>
    <T>(value?: T, options?: Options): Box<T | undefined>
}

function createActionFactory(auto: boolean): ActionFactory {
    return null as any
}

export function runInAction<T>(fn: () => T): T {
    return fn()
}
'''


def test_call_signatures_with_type_parameters_on_their_own_lines() -> None:
    # tree-sitter reads `T\n <T extends ...>` as one generic type: the first interface
    # swallowed the rest of the file, so `runInAction` and friends were missing
    analysis = analyze_source("src/api/action.ts", "typescript", CALL_SIGNATURES)
    assert not analysis.has_syntax_errors
    assert {s.qualified_name: (s.kind, s.start_line) for s in analysis.symbols} == {
        "ActionFactory": ("interface", 1),
        "ValueFactory": ("interface", 9),
        "createActionFactory": ("function", 14),
        "runInAction": ("function", 18),
    }
    run = next(s for s in analysis.symbols if s.name == "runInAction")
    # read from the file's own bytes: nothing of the repair shows
    assert run.signature == "function runInAction<T>(fn: () => T): T"
    # an expression that goes on with `<` on the next line is left alone
    expr = b"const a = b\n    < c\nfunction f() {}\n"
    assert [s.qualified_name for s in analyze_source("x.ts", "typescript", expr).symbols] \
        == ["f"]


CASTS = b'''\
const factories: Factory = {
    box<T = any>(value: T): Box<T> {
        return new Box(value)
    },
} as any

export const routes = {
    home: { render() { return 1 } } as const,
} as const

export const config = {
    load(path: string) { return path },
} satisfies Config

call({ options: { skip() {} } as const })
'''


def test_object_literals_behind_as_and_satisfies_are_named() -> None:
    symbols = _symbols("src/api/observable.ts", "typescript", CASTS)
    assert _table(symbols) == {
        "factories": ("object", 1),
        "factories.box": ("method", 2),
        "routes": ("object", 7),
        "routes.home": ("object", 8),
        "routes.home.render": ("method", 8),
        "config": ("object", 11),
        "config.load": ("method", 12),
        "skip": ("method", 15),  # data passed to a call: its own name, as without the cast
    }
    assert symbols["routes"].signature == "const routes"
