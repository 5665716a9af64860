(call_expression . (_) @call)
(control_transfer_statement (throw_keyword)) @raise
(control_transfer_statement result: (_) @return)
(catch_block) @except
(try_expression) @try
(lambda_literal) @boundary
(function_declaration (throws) @throws)
