(call_expression function: (_) @call)
; the last value of a return: `return nil, err` / `return 0, fmt.Errorf(...)`
(return_statement (expression_list (_) @return_last .))
(go_statement) @goroutine
(func_literal) @boundary
(assignment_statement left: (expression_list (identifier) @mutate))
(assignment_statement left: (expression_list (index_expression operand: (identifier) @mutate)))
(inc_statement (identifier) @mutate)
(dec_statement (identifier) @mutate)
(source_file (var_declaration (var_spec name: (identifier) @module_name)))
(source_file (var_declaration (var_spec_list (var_spec name: (identifier) @module_name))))
; references (graph): type names in declarations and functions passed as values (filtered in
; aether.symbols.calls)
(type_identifier) @ref
(qualified_type) @ref
(argument_list (identifier) @ref)
(argument_list (selector_expression) @ref)
