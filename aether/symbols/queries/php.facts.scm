; Calls: plain calls capture the callee; `$a->b()` and `A::b()` capture the method name and
; the callee text runs from the receiver to that name (see static_facts).
(function_call_expression function: (_) @call)
(member_call_expression name: (_) @call)
(scoped_call_expression name: (_) @call)
(nullsafe_member_call_expression name: (_) @call)
(object_creation_expression [(name) (qualified_name)] @new)
(throw_expression) @raise
(return_statement (_) @return)
(catch_clause) @except
(anonymous_function) @boundary
(arrow_function) @boundary
