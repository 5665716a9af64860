(call_expression function: (_) @call)
(macro_invocation macro: (_) @macro)
(try_expression) @try
(closure_expression) @boundary
