(function_item) @definition.function
(struct_item) @definition.struct
(union_item) @definition.struct
(enum_item) @definition.enum
(trait_item) @definition.trait
(type_item) @definition.type_alias
; impl blocks and inline modules qualify names (Type.method, inner_mod.func)
(impl_item) @scope
(mod_item body: (_)) @scope

(use_declaration) @import
(extern_crate_declaration) @import
