; C#. Block namespaces are scopes; a file-scoped `namespace X;` qualifies what follows it.
(class_declaration) @definition.class
(record_declaration) @definition.class
(struct_declaration) @definition.struct
(interface_declaration) @definition.interface
(enum_declaration) @definition.enum
(delegate_declaration) @definition.type_alias
(method_declaration) @definition.method
(constructor_declaration) @definition.method
(destructor_declaration) @definition.method
(operator_declaration) @definition.method
(local_function_statement) @definition.function
(namespace_declaration) @scope
(file_scoped_namespace_declaration) @package

(using_directive) @import
