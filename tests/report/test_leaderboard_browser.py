"""Open leaderboards/index.html and a calibration report.html in real headless Chromium: rows,
header clicks that re-sort, embedded figures, screenshots (saved under the test's tmp dir).

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
from ppt_bench.harness.evaluate import REPO_ROOT

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--remote-debugging-pipe",
         "--window-size=1366,768")  # a laptop's screen
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
        box = self.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
                            "e.scrollIntoView({block: 'center', inline: 'center'}); "
                            "const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")
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


def _rows(table_id: str, body: str = "rows") -> str:
    return (f"Array.from(document.querySelectorAll('#{table_id} tbody.{body} tr')).map(r => r.dataset.model)")


def _column(devtools: DevTools, table_id: str, column_id: str) -> list[float | None]:
    index = devtools.evaluate(f"document.getElementById({json.dumps(column_id)}).dataset.col")
    return devtools.evaluate(f"Array.from(document.querySelectorAll('#{table_id} tbody.rows tr')).map("
                             f"r => r.cells[{index}].dataset.v === '' ? null : +r.cells[{index}].dataset.v)")


def _no_horizontal_scroll(devtools: DevTools) -> bool:
    """Neither the page nor any table scrolls sideways (a table wider than its box would)."""
    return devtools.evaluate("document.documentElement.scrollWidth <= window.innerWidth && "
                             "Array.from(document.querySelectorAll('table')).every("
                             "t => t.getBoundingClientRect().width <= t.parentElement.clientWidth + 1)")


def test_index_html_opens_with_the_summary_and_sorts_on_header_click(synthetic_runs, tmp_path, browser):
    out = tmp_path / "leaderboards"
    assert main(["leaderboard", *map(str, synthetic_runs.values()), "--out", str(out), "--no-records"]) == 0
    browser.open((out / "index.html").as_uri())
    assert browser.evaluate("document.title") == "ppt-bench leaderboard"
    first_table = browser.evaluate("document.querySelector('table').id")
    assert first_table == "summary"
    assert browser.evaluate(_rows("summary")) == ["model-good", "model-weak"]  # sorted by mean score
    assert browser.evaluate(_rows("summary", "reference")) == ["ppt-bayes", "ppt-uniform"]
    assert browser.evaluate("document.querySelectorAll('#table-bt_flight tbody.reference td.best').length") == 0

    browser.click('th[id="bt_flight/kl"]')  # lower is better: first click puts the best first
    values = _column(browser, "table-bt_flight", "bt_flight/kl")
    assert values == sorted(values)
    assert browser.evaluate(_rows("table-bt_flight", "reference")) == ["ppt-bayes", "ppt-uniform"]  # stay apart
    browser.click('th[id="bt_flight/kl"]')  # second click flips
    assert _column(browser, "table-bt_flight", "bt_flight/kl") == sorted(values, reverse=True)
    assert _no_horizontal_scroll(browser)
    browser.screenshot(tmp_path / "leaderboard.png")
    assert (tmp_path / "leaderboard.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_committed_leaderboard_opens_with_every_row(tmp_path, browser):
    """The committed leaderboard (built from leaderboards/records/) shows every committed model in
    its summary, the reference rows apart, and fits a laptop's width."""
    from ppt_bench.report.records import read_records

    page = REPO_ROOT / "leaderboards" / "index.html"
    browser.open(page.as_uri())
    models = {r.name for r in read_records() if not r.reference}
    assert set(browser.evaluate(_rows("summary"))) == models
    assert browser.evaluate(_rows("summary", "reference")) == ["ppt-bayes", "ppt-uniform"]
    assert _no_horizontal_scroll(browser)
    browser.click('th[id="summary-mean"]')  # higher is better: best first
    means = _column(browser, "summary", "summary-mean")
    present = [v for v in means if v is not None]
    assert present == sorted(present, reverse=True)
    browser.screenshot(tmp_path / "committed-leaderboard.png")
    assert (tmp_path / "committed-leaderboard.png").stat().st_size > 10_000


def test_report_html_is_self_contained_and_shows_every_task(synthetic_runs, tmp_path, browser):
    out = tmp_path / "report"
    assert main(["report", str(synthetic_runs["model-good"]), "--out", str(out), "--n-boot", "50"]) == 0
    browser.open((out / "report.html").as_uri())
    assert browser.evaluate("document.title") == "Calibration report: model-good"
    tasks = ["bt_flight", "human_probcopa", "ppt_motifs_heldout"]
    summary = browser.evaluate("Array.from(document.querySelectorAll('#summary tbody tr')).map("
                               "r => r.cells[0].textContent)")
    assert sorted(summary) == tasks
    for task in tasks:  # one metric table per task, rows for the metrics of the calibration table
        rows = browser.evaluate(f"document.querySelectorAll('#metrics-{task} tbody tr').length")
        assert rows >= 5, task
    images = browser.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth, "
                              "i.src.slice(0, 22)])")
    assert len(images) == 2 * len(tasks)  # raw and temperature-scaled reliability diagrams
    assert all(done and width > 100 and src == "data:image/png;base64," for done, width, src in images)
    external = browser.evaluate("Array.from(document.querySelectorAll('[src],link[href]')).filter("
                                "e => !(e.src || e.href).startsWith('data:')).length")
    assert external == 0
    browser.screenshot(tmp_path / "report.png")
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
