"""Headless Chromium driven over the DevTools protocol on ``--remote-debugging-pipe``.

The pipe needs no extra package (no websocket client) and no open port: Chromium reads
NUL-terminated JSON commands on fd 3 and writes replies and events on fd 4.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_BINARIES = ("/usr/lib/chromium/chromium", "chromium", "chromium-browser")


def _find_chromium() -> str | None:
    for name in CHROMIUM_BINARIES:
        found = shutil.which(name) if "/" not in name else (name if os.access(name, os.X_OK) else None)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium_binary() -> str:
    """Chromium, installed from Debian's package when missing (the test image runs as root)."""
    found = _find_chromium()
    if found:
        return found
    steps = (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"])
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=900, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            pytest.fail(f"cannot install chromium ({' '.join(step)}): {error}")
        if done.returncode != 0:
            pytest.fail(
                f"cannot install chromium: {' '.join(step)} exited {done.returncode}:\n"
                f"{done.stderr[-2000:]}\n"
                "Install it by hand (apt-get install -y chromium) or run as root with network access."
            )
    found = _find_chromium()
    if not found:
        pytest.fail("apt-get installed chromium but no chromium binary is on PATH")
    return found


class DevTools:
    """A minimal DevTools-protocol client over the pipe; collects every event it sees."""

    def __init__(self, binary: str, profile_dir: str, log_path: Path) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        # Move the child's ends above fd 10 so dup2 onto 3 and 4 cannot clobber one another.
        high_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
        high_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_child_r)
        os.close(from_child_w)
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in close()
        args = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile_dir}",
            "about:blank",
        ]
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, self._log.fileno(), 1),
            (os.POSIX_SPAWN_DUP2, self._log.fileno(), 2),
            (os.POSIX_SPAWN_DUP2, high_r, 3),
            (os.POSIX_SPAWN_DUP2, high_w, 4),
        ]
        self.pid = os.posix_spawn(binary, args, os.environ, file_actions=actions)
        os.close(high_r)
        os.close(high_w)
        self._write = to_child_w
        self._read = from_child_r
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(
        self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30
    ) -> dict:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            for reply in self._drain(deadline):
                if reply.get("id") == self._next_id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply.get("result", {})

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        seen = len(self.events)
        while True:
            for event in self.events[seen:]:
                if event.get("method") == method:
                    return event
            seen = len(self.events)
            list(self._drain(deadline))

    def settle(self, seconds: float) -> None:
        """Keep collecting events for a while (late requests, late console errors)."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                list(self._drain(deadline))
        except TimeoutError:
            pass

    def _drain(self, deadline: float):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no answer from chromium in time")
        ready, _, _ = select.select([self._read], [], [], remaining)
        if not ready:
            raise TimeoutError("no answer from chromium in time")
        chunk = os.read(self._read, 1 << 20)
        if not chunk:
            raise RuntimeError("chromium closed the DevTools pipe")
        self._buffer += chunk
        *messages, self._buffer = self._buffer.split(b"\0")
        for raw in messages:
            message = json.loads(raw)
            if "method" in message:
                self.events.append(message)
            yield message

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close", timeout=5)
        for _ in range(50):
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.1)
        else:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        os.close(self._write)
        os.close(self._read)
        self._log.close()


@pytest.fixture
def devtools(chromium_binary: str, tmp_path: Path):
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp_path)
    client = DevTools(chromium_binary, profile, tmp_path / "chromium.log")
    try:
        yield client
    finally:
        client.close()
