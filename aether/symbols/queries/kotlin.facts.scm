(call_expression . (_) @call)
(throw_expression) @raise
(return_expression (_) @return)
(catch_block) @except
(lambda_literal) @boundary
(anonymous_function) @boundary
