(call_expression function: (_) @call)
(return_statement (_) @return)
