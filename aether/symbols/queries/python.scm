; Definitions: the captured node is the definition itself; its name, qualified name and
; method-ness are worked out in Python from fields and byte ranges (never by capture order).
(class_definition) @definition.class
(function_definition) @definition.function

(import_statement) @import
(import_from_statement) @import
