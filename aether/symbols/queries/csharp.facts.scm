(invocation_expression function: (_) @call)
(object_creation_expression type: (_) @new)
(throw_statement) @raise
(throw_expression) @raise
(return_statement (_) @return)
(catch_clause) @except
(lambda_expression) @boundary
(anonymous_method_expression) @boundary
