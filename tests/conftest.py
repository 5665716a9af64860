from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import SAMPLE_PY, write


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    write(root, "pkg/session.py", SAMPLE_PY)
    return root
