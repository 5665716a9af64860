(call_expression function: (_) @call)
(new_expression constructor: (_) @new)
(throw_statement) @raise
(return_statement (_) @return)
(yield_expression) @yield
(catch_clause) @except
; candidates for process.env.X / process.env["X"]; the text is checked in Python
(member_expression object: (member_expression object: (identifier)) @env)
(subscript_expression object: (member_expression object: (identifier)) @env)
; anonymous functions: returns inside them are not the enclosing symbol's returns
(arrow_function) @boundary
(function_expression) @boundary
(generator_function) @boundary
(object (method_definition) @boundary)
(assignment_expression left: (identifier) @mutate)
(augmented_assignment_expression left: (identifier) @mutate)
(update_expression argument: (identifier) @mutate)
(assignment_expression left: (member_expression object: (identifier) @mutate))
(program (lexical_declaration (variable_declarator name: (identifier) @module_name)))
(program (variable_declaration (variable_declarator name: (identifier) @module_name)))
(program (export_statement (lexical_declaration (variable_declarator name: (identifier) @module_name))))
; references (graph): names passed as values (filtered in aether.symbols.calls so that local
; variables are no edges); TypeScript's type references are in typescript.facts.scm
(arguments (identifier) @ref)
(arguments (member_expression) @ref)
(binary_expression operator: "instanceof" right: (identifier) @ref)
(decorator (identifier) @ref)
; local variables of a known type (aether.symbols.local_types): `const r = new Request()`
(variable_declarator name: (identifier) value: (new_expression)) @bind
(assignment_expression left: [(identifier) (member_expression object: (this))]
  right: (new_expression)) @bind
; ... or what a function returns: `const b = makeBox()` (aether.symbols.type_facts)
(variable_declarator name: (identifier) value: (call_expression)) @bind
(assignment_expression left: [(identifier) (member_expression object: (this))]
  right: (call_expression)) @bind
; what a function returns (aether.symbols.type_facts): `return new Box()`
(return_statement (new_expression constructor: (_) @bind.returns))
; an attribute set from a parameter: `this.box = box` (its annotation, if any)
(assignment_expression left: (member_expression object: (this)) right: (identifier)) @bind
