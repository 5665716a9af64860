; class fields holding a function: handle = (event) => { ... }
(field_definition
  property: (property_identifier)
  value: [(arrow_function) (function_expression)]) @definition.method
