; PHP: `Ns\Class::method`, `Ns\function`. `namespace X;` qualifies what follows it.
(class_declaration) @definition.class
(interface_declaration) @definition.interface
(trait_declaration) @definition.trait
(enum_declaration) @definition.enum
(method_declaration) @definition.method
(function_definition) @definition.function
(namespace_definition body: (_)) @scope
(namespace_definition !body) @package

(namespace_use_declaration) @import
(include_expression) @import
(require_expression) @import
(include_once_expression) @import
(require_once_expression) @import
