from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import SAMPLE_PY, write

# tests/fixtures holds projects that tests index (their own tests are data, not tests).
collect_ignore = ["fixtures"]


@pytest.fixture(autouse=True)
def user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test (and every process it starts) gets its own user config, state and cache
    folders: a developer's ~/.config/aether never leaks in, and trust given in one test is
    not seen by another."""
    home = tmp_path_factory.mktemp("user")
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_STATE_HOME", "state"),
                     ("XDG_CACHE_HOME", "cache")):
        (home / sub).mkdir()
        monkeypatch.setenv(var, str(home / sub))
    return home


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    write(root, "pkg/session.py", SAMPLE_PY)
    return root
