; TypeScript and TSX, on top of ecma.scm. Overload signatures are collapsed into their
; implementation (or the first of them) in Python.
(public_field_definition
  name: (property_identifier)
  value: [(arrow_function) (function_expression)]) @definition.method
(abstract_class_declaration) @definition.class
(interface_declaration) @definition.interface
(type_alias_declaration) @definition.type_alias
(enum_declaration) @definition.enum
(abstract_method_signature) @definition.method
(class_body (method_signature) @definition.method)
; interface methods: `find(id: string): Promise<T>;` is part of an API others implement
(interface_body (method_signature) @definition.method)
; overloads and `declare function f(): T;`
(function_signature) @definition.function
; namespaces qualify the names inside them but are not symbols themselves
(internal_module) @scope
(module) @scope
; `const routes = {...} as const`, `{...} satisfies Config`, `{...} as any`: the object is
; named as without the cast (ecma.scm), and so is a member `key: {...} as const`
(variable_declarator
  name: (identifier)
  value: [(as_expression . (object . (_))) (satisfies_expression . (object . (_)))]) @definition.object
(pair
  value: [(as_expression . (object . (_))) (satisfies_expression . (object . (_)))]) @definition.object
