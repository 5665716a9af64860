; Ruby: `Module::Class#method`, `Class.singleton_method` (separators chosen in Python).
(class) @definition.class
(module) @definition.module
(method) @definition.method
(singleton_method) @definition.method
(singleton_class) @scope

; require / require_relative / load: which call it is is checked in Python
(call method: (identifier) arguments: (argument_list . (string))) @import
