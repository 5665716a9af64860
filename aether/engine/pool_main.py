"""Imported once, in the parse pool's forkserver (its preload), and nowhere else: it spares
each parse worker from running the parent's `__main__` again.

Every child of a forkserver starts by importing the parent's main module (multiprocessing's
`spawn.prepare`), unless the forkserver's own `__main__` already claims to be it. A parse
worker needs nothing from it (it runs `aether.engine.parse_worker` alone), but the parent's
`__main__` is the `aether` script, which imports the whole CLI (or a test runner, a bench):
~0.35 s of CPU and ~400 more modules in every worker of a cold index. Python's own remedy,
`set_forkserver_preload(["__main__"])`, does nothing before 3.13.8 (CPython gh-126631: the
forkserver looks for a key `get_preparation_data` never sets), and where it works it imports
all of that into the forkserver instead. So the parent says here (`MAIN_ENV`, inherited when
the forkserver starts) which main its children will be asked to load, and the forkserver's
`__main__` answers to that name: children find it "already loaded" and skip it. Nothing the
pool runs or unpickles lives in `__main__`.
"""

from __future__ import annotations

import json
import os
import sys
from importlib.machinery import ModuleSpec

MAIN_ENV = "AETHER_POOL_MAIN"


def claim_main(identity: dict[str, str]) -> None:
    """Make this process's `__main__` look like the module `identity` names (the
    `init_main_from_path` / `init_main_from_name` entry of spawn's preparation data)."""
    main = sys.modules["__main__"]
    if "init_main_from_path" in identity:
        main.__file__ = identity["init_main_from_path"]
    elif "init_main_from_name" in identity:
        main.__spec__ = ModuleSpec(identity["init_main_from_name"], None)


def _from_environment() -> None:
    raw = os.environ.get(MAIN_ENV)
    if not raw:
        return
    try:
        identity = json.loads(raw)
    except ValueError:
        return  # not ours to judge: the children then import main as multiprocessing does
    if isinstance(identity, dict):
        claim_main({k: str(v) for k, v in identity.items()})


_from_environment()
