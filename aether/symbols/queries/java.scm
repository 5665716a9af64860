; Java. Names come from each node's `name` field; the package qualifies everything after it.
(class_declaration) @definition.class
(record_declaration) @definition.class
(interface_declaration) @definition.interface
(annotation_type_declaration) @definition.interface
(enum_declaration) @definition.enum
(method_declaration) @definition.method
(constructor_declaration) @definition.method
(compact_constructor_declaration) @definition.method
(package_declaration) @package

(import_declaration) @import
