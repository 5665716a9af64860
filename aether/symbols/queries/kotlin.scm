; Kotlin: class/interface/enum are one node type, told apart in Python by their keyword.
(class_declaration) @definition.class
(object_declaration) @definition.class
(function_declaration) @definition.function
(type_alias) @definition.type_alias
(companion_object) @scope
(package_header) @package

(import) @import
