; C. Function names are dug out of their declarators in Python (pointers, parentheses).
(function_definition) @definition.function
(struct_specifier name: (_) body: (_)) @definition.struct
(union_specifier name: (_) body: (_)) @definition.struct
(enum_specifier name: (_) body: (_)) @definition.enum
(type_definition) @definition.type_alias

(preproc_include) @import
