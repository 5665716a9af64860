; Calls: `@call` is the callee's name node; the callee text runs from the invocation's start
; (its receiver) to the end of that name (see static_facts).
(method_invocation name: (identifier) @call)
(object_creation_expression type: (_) @new)
(throw_statement) @raise
(return_statement (_) @return)
(catch_clause) @except
(lambda_expression) @boundary
(method_declaration (throws) @throws)
(constructor_declaration (throws) @throws)
