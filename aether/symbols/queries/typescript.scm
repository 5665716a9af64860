; TypeScript and TSX, on top of ecma.scm. Method signatures in interfaces, abstract method
; signatures and overload declarations are not definitions: they are left out on purpose.
(public_field_definition
  name: (property_identifier)
  value: [(arrow_function) (function_expression)]) @definition.method
(abstract_class_declaration) @definition.class
(interface_declaration) @definition.interface
(type_alias_declaration) @definition.type_alias
(enum_declaration) @definition.enum
; namespaces qualify the names inside them but are not symbols themselves
(internal_module) @scope
(module) @scope
