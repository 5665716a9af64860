; What the static analyser reads inside bodies. Run once per file, in C; each capture is then
; given to its innermost enclosing symbol by byte range.
(call function: (_) @call)
(raise_statement) @raise
(return_statement (_) @return)
(yield) @yield
(except_clause) @except
(global_statement) @global
(nonlocal_statement) @nonlocal
(assert_statement) @assert
; candidates for os.environ[...] / "X" in os.environ / f(os.environ); the text is checked in
; Python (no #eq?: see ecma.scm). os.environ.get(...) is seen as a call.
(subscript value: (attribute) @env)
(comparison_operator (attribute) @env)
(argument_list (attribute) @env)
(assignment left: (subscript value: (identifier) @mutate))
(assignment left: (attribute object: (identifier) @mutate))
(augmented_assignment left: (subscript value: (identifier) @mutate))
; module-level names, to recognise functions that mutate module state
(module (expression_statement (assignment left: (identifier) @module_name)))
; docstrings: the string that opens a def or class body
(function_definition body: (block . (expression_statement . (string) @doc)))
(class_definition body: (block . (expression_statement . (string) @doc)))
; references (graph): names used as values or types, not called — a function passed along
; (`map(f, xs)`, `key=f`), a class tested or inherited (`isinstance(x, Foo)`, `class A(Base)`),
; annotations, bare decorators. Local variables are filtered out in aether.symbols.calls.
(argument_list (identifier) @ref)
(argument_list (attribute) @ref)
(keyword_argument value: (identifier) @ref)
(keyword_argument value: (attribute) @ref)
(type (identifier) @ref)
(type (attribute) @ref)
(generic_type (identifier) @ref)
(decorator (identifier) @ref)
(decorator (attribute) @ref)
; variables and attributes of a known type (aether.symbols.local_types): `r = Request()`,
; `r: Request`, `self.session = Session()`
(assignment left: [(identifier) (attribute)] right: (call)) @bind
(assignment left: [(identifier) (attribute)] type: (type)) @bind
(typed_parameter) @bind
(typed_default_parameter) @bind
(with_item (as_pattern (call) (as_pattern_target (identifier))) @bind)
; what a function returns (aether.symbols.type_facts): `return Session(...)`
(return_statement (call function: (_) @bind.returns))
; an attribute set from a parameter: `self.ctx = ctx` (its annotation, if any)
(assignment left: (attribute object: (identifier)) right: (identifier)) @bind
