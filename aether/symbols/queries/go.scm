(function_declaration) @definition.function
(method_declaration) @definition.method
; struct / interface / other named type: decided from the spec's type in Python
(type_spec) @definition.type
(type_alias) @definition.type_alias

(import_spec) @import
