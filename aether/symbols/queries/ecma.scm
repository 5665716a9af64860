; Shared by the JavaScript, TypeScript and TSX grammars.
(function_declaration) @definition.function
(generator_function_declaration) @definition.function
(class_declaration) @definition.class
; methods of classes only: methods of object literals are not symbols
(class_body (method_definition) @definition.method)
; const foo = () => ... / const foo = function () {} / const Foo = class {}
(variable_declarator
  name: (identifier)
  value: [(arrow_function) (function_expression) (generator_function)]) @definition.function
(variable_declarator name: (identifier) value: (class)) @definition.class

(import_statement) @import
(export_statement source: (string) @import.source)
; require("x") / import("x"): which of these calls really is `require` is checked in Python.
; (No #eq? predicates anywhere: trees parsed through a read callback fetch node text through
; that callback, so predicates are slow; we slice our own bytes instead.)
(call_expression function: (identifier) arguments: (arguments . (string))) @import.call
(call_expression function: (import) arguments: (arguments . (string))) @import.call
