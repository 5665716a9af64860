(call_expression function: (_) @call)
(macro_invocation macro: (_) @macro)
(try_expression) @try
(closure_expression) @boundary
; references (graph): type paths and traits (`impl Trait for Foo`, `x: Foo`, `-> Foo`), and
; functions passed as values (filtered in aether.symbols.calls)
(type_identifier) @ref
(scoped_type_identifier) @ref
(arguments (identifier) @ref)
(arguments (scoped_identifier) @ref)
