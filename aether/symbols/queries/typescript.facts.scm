; TypeScript/TSX only (JavaScript has no such nodes). References (graph): base classes,
; implemented interfaces, type annotations and type arguments.
(extends_clause value: (identifier) @ref)
(extends_clause value: (member_expression) @ref)
(implements_clause (type_identifier) @ref)
(extends_type_clause (type_identifier) @ref)
(type_annotation (type_identifier) @ref)
(generic_type name: (type_identifier) @ref)
(type_arguments (type_identifier) @ref)
; local variables of a known type (aether.symbols.local_types): `let r: Request`, `(r: Request)`
(variable_declarator name: (identifier) type: (type_annotation)) @bind
(required_parameter pattern: (identifier) type: (type_annotation)) @bind
(optional_parameter pattern: (identifier) type: (type_annotation)) @bind
(public_field_definition type: (type_annotation)) @bind
