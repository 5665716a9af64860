; C++, on the C patterns' shapes: `ns::Class::method`, out-of-class `Class::method` definitions.
(function_definition) @definition.function
(class_specifier name: (_) body: (_)) @definition.class
(struct_specifier name: (_) body: (_)) @definition.struct
(union_specifier name: (_) body: (_)) @definition.struct
(enum_specifier name: (_) body: (_)) @definition.enum
(type_definition) @definition.type_alias
(alias_declaration) @definition.type_alias
(namespace_definition name: (_) body: (_)) @scope

(preproc_include) @import
(using_declaration) @import
