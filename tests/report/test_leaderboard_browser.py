"""Open leaderboards/index.html in real headless Chromium, click a header, check the rows re-sort.

Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: requests on
fd 3, replies on fd 4, each a JSON message ended by NUL), so no websocket client is needed. The
click is a real input event (`Input.dispatchMouseEvent`) at the header's on-screen position.
Needs Debian's `chromium` (/usr/bin/chromium, or $CHROMIUM); skipped when it is absent.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from ppt_bench.cli import main

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--remote-debugging-pipe",
         "--window-size=1400,900")
TIMEOUT_S = 30


def _above_nine(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class DevTools:
    """A minimal DevTools-protocol client over Chromium's debugging pipe."""

    def __init__(self, profile: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # bash puts the child's pipe ends on fds 3 and 4, where --remote-debugging-pipe expects them;
        # moved above 9 first so that neither redirection overwrites the other's source.
        to_browser_r, from_browser_w = (_above_nine(fd) for fd in (to_browser_r, from_browser_w))
        self.process = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{to_browser_r} 4>&{from_browser_w}', CHROMIUM, *FLAGS,
             f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(to_browser_r, from_browser_w), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.session: str | None = None

    def send(self, method: str, params: dict | None = None, session: bool = True) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            while b"\0" not in self._buffer:
                if not select.select([self._from_browser], [], [], max(0.0, deadline - time.monotonic()))[0]:
                    raise TimeoutError(f"no reply from Chromium to {method}")
                chunk = os.read(self._from_browser, 1 << 16)
                if not chunk:
                    raise RuntimeError(f"Chromium closed the pipe (exit status {self.process.poll()})")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._next_id:  # anything else is an event
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def open(self, url: str) -> None:
        target = self.send("Target.createTarget", {"url": url}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 session=False)["sessionId"]
        deadline = time.monotonic() + TIMEOUT_S
        loaded = f"location.href === {json.dumps(url)} && document.readyState === 'complete'"
        while not self.evaluate(loaded):  # the new tab shows about:blank until the page commits
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not finish loading")
            time.sleep(0.05)

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click (press + release) at the centre of the element."""
        box = self.evaluate(f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                            ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1], "button": "left",
                                                   "clickCount": 1})

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"]))

    def close(self) -> None:
        try:
            self.send("Browser.close", session=False)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


@pytest.fixture
def browser(tmp_path):
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"headless Chromium not found at {CHROMIUM} (Debian: apt-get install chromium; "
                    f"or set $CHROMIUM)")
    devtools = DevTools(tmp_path / "chromium-profile")
    yield devtools
    devtools.close()


ROWS = "Array.from(document.querySelectorAll('#leaderboard tbody tr')).map(r => r.dataset.model)"


def _column(devtools: DevTools, column_id: str) -> list[float | None]:
    index = devtools.evaluate(f"document.getElementById({json.dumps(column_id)}).dataset.col")
    return devtools.evaluate(f"Array.from(document.querySelectorAll('#leaderboard tbody tr')).map("
                             f"r => r.cells[{index}].dataset.v === '' ? null : +r.cells[{index}].dataset.v)")


def test_index_html_sorts_on_header_click(synthetic_runs, tmp_path, browser):
    out = tmp_path / "leaderboards"
    assert main(["leaderboard", *map(str, synthetic_runs.values()), "--out", str(out)]) == 0
    browser.open((out / "index.html").as_uri())
    assert browser.evaluate("document.title") == "ppt-bench leaderboard"
    assert browser.evaluate(ROWS) == ["ppt-bayes", "ppt-uniform", "model-good", "model-weak"]

    browser.click('th[id="bt_flight/acc"]')  # higher is better: first click puts the best first
    after = browser.evaluate(ROWS)
    values = _column(browser, "bt_flight/acc")
    assert after != ["ppt-bayes", "ppt-uniform", "model-good", "model-weak"]
    assert values == sorted(values, reverse=True)
    assert browser.evaluate("document.getElementById('bt_flight/acc').getAttribute('aria-sort')") == "descending"

    browser.click('th[id="human_probcopa/w1"]')  # lower is better: best (smallest) first
    values = _column(browser, "human_probcopa/w1")
    assert values == sorted(values) and browser.evaluate(ROWS)[0] == "ppt-bayes"
    browser.click('th[id="human_probcopa/w1"]')  # second click flips
    assert _column(browser, "human_probcopa/w1") == sorted(values, reverse=True)
    browser.screenshot(tmp_path / "leaderboard.png")
    assert (tmp_path / "leaderboard.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
