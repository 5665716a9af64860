(call_expression function: (_) @call)
(new_expression type: (_) @new)
(throw_statement) @raise
(return_statement (_) @return)
(catch_clause) @except
(lambda_expression) @boundary
