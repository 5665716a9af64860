; Shared by the JavaScript, TypeScript and TSX grammars. Names, nesting and which of the
; overlapping patterns below wins are decided in Python (definitions.py, ecma_names.py).
(function_declaration) @definition.function
(generator_function_declaration) @definition.function
(class_declaration) @definition.class
(class_body (method_definition) @definition.method)
; const foo = () => ... / const foo = function () {} / const Foo = class {}
(variable_declarator
  name: (identifier)
  value: [(arrow_function) (function_expression) (generator_function)]) @definition.function
(variable_declarator name: (identifier) value: (class)) @definition.class
; const Button = forwardRef((props, ref) => ...) / memo(function Card() {...})
(variable_declarator
  name: (identifier)
  value: (call_expression
    arguments: (arguments . [(arrow_function) (function_expression)]))) @definition.function
; res.send = function send() {} / exports.x = ... / module.exports = function query() {} /
; Layer.prototype.match = ... / proto.route = ... / validators[type] = function validator() {}
(assignment_expression
  left: [(member_expression) (identifier) (subscript_expression)]
  right: [(arrow_function) (function_expression) (generator_function) (class)]) @definition.function
; object literal members: { get() {}, post: async () => {} }
(object (method_definition) @definition.method)
(pair value: [(arrow_function) (function_expression) (generator_function)]) @definition.method
; named object literals are symbols (kind "object") and qualify their members:
; const api = {...} and `env: {...}` inside it (not the objects passed to calls: checked in
; Python); `Foo.prototype = {...}` and `module.exports = {...}` only qualify (Foo.m, m)
(variable_declarator name: (identifier) value: (object . (_))) @definition.object
(pair value: (object . (_))) @definition.object
(assignment_expression left: (member_expression) right: (object)) @scope
; named function expressions anywhere else: return function proxy() {} / cb(function done() {})
(function_expression name: (identifier)) @definition.function
; export default function () {} / export default () => ...
(export_statement value: [(function_expression) (arrow_function)] @definition.function)
; top-level variables that stand for a prototype or for module.exports (see ecma_names.py)
(program (variable_declaration
  (variable_declarator name: (identifier) value: [(member_expression) (assignment_expression)]) @alias))
(program (lexical_declaration
  (variable_declarator name: (identifier) value: [(member_expression) (assignment_expression)]) @alias))
(program (expression_statement
  (assignment_expression left: (member_expression) right: (identifier)) @alias))

(import_statement) @import
(export_statement source: (string) @import.source)
; require("x") / import("x"): which of these calls really is `require` is checked in Python.
; (No #eq? predicates anywhere: trees parsed through a read callback fetch node text through
; that callback, so predicates are slow; we slice our own bytes instead.)
(call_expression function: (identifier) arguments: (arguments . (string))) @import.call
(call_expression function: (import) arguments: (arguments . (string))) @import.call
