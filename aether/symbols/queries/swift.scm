; Swift: class/struct/enum/actor/extension are one node type, told apart in Python by their
; keyword; an extension qualifies its members with the extended type.
(class_declaration) @definition.class
(protocol_declaration) @definition.interface
(function_declaration) @definition.function
(protocol_function_declaration) @definition.method
(init_declaration) @definition.method
(deinit_declaration) @definition.method
(subscript_declaration) @definition.method
(typealias_declaration) @definition.type_alias

(import_declaration) @import
