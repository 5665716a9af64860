; Calls: `@call` is the method name node; the callee text runs from the call's start (its
; receiver) to the end of that name (see static_facts).
(call method: (_) @call)
(return (_) @return)
(rescue) @except
(block) @boundary
(do_block) @boundary
(lambda) @boundary
