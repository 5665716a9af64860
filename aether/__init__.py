"""AETHER: a live structured summary (SIR) of every symbol, for agents and editors."""

import os as _os

__version__ = "0.1.0"

# numpy's OpenBLAS starts a thread per core, each with its own buffers, at import; AETHER's
# vector maths (einsum, norms) never calls BLAS, so a daemon kept them for nothing. Set
# before anything imports numpy; a value the user set is kept.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
