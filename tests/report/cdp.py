"""A minimal Chrome DevTools Protocol client over --remote-debugging-pipe (no extra packages).

Starts headless Chromium with networking pointed at a closed loopback port, opens one page,
records every request the page makes, console errors and exceptions, and takes a screenshot.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageReport:
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    screenshot: bytes = b""
    pdf: bytes = b""


class Browser:
    def __init__(self, *, javascript: bool = True, media: str | None = None, width: int = 1280,
                 height: int = 1600, full_page: bool = False, pdf: bool = False,
                 permissions: tuple[str, ...] = ()) -> None:
        assert CHROMIUM is not None
        self.tmp = tempfile.mkdtemp(prefix="netsnap-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def child_fds() -> None:  # Chromium reads commands on fd 3 and writes answers on fd 4
            high_r, high_w = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.proc = subprocess.Popen(
            [
                CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
                f"--user-data-dir={self.tmp}", "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
                "--window-size=1280,1600", "--remote-debugging-pipe", "about:blank",
            ],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=child_fds, start_new_session=True,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []
        self.javascript = javascript
        self.media = media
        self.width, self.height = width, height
        self.full_page, self.pdf = full_page, pdf
        self.permissions = permissions

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # our own process group: the browser and its helpers
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        for fd in (self._to_chrome, self._from_chrome):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer in time")
            ready, _, _ = select.select([self._from_chrome], [], [], left)
            if ready:
                chunk = os.read(self._from_chrome, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the debugging pipe")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 10.0) -> dict[str, Any]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        if any(e.get("method") == method for e in self.events):
            return
        while True:
            event = self._read_message(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return

    def open(self, path: Path, expressions: dict[str, str]) -> PageReport:
        targets = self.send("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        session = self.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]
        for domain in ("Network.enable", "Runtime.enable", "Log.enable", "Page.enable"):
            self.send(domain, session=session)
        if not self.javascript:
            self.send("Emulation.setScriptExecutionDisabled", {"value": True}, session=session)
        if self.media:
            self.send("Emulation.setEmulatedMedia", {"media": self.media}, session=session)
        self.send("Emulation.setDeviceMetricsOverride", {"width": self.width, "height": self.height,
                                                         "deviceScaleFactor": 1, "mobile": self.width < 600},
                  session=session)
        if self.permissions:
            self.send("Emulation.setFocusEmulationEnabled", {"enabled": True}, session=session)
            self.send("Browser.grantPermissions", {"permissions": list(self.permissions),
                                                   "origin": path.resolve().as_uri()})
        self.events.clear()
        self.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
        self.wait_for("Page.loadEventFired")
        time.sleep(0.3)  # let late errors, timers or beacons show up
        report = PageReport()
        for name, expr in expressions.items():
            got = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True,
                                                 "userGesture": True}, session=session)
            report.values[name] = got.get("result", {}).get("value")
        if self.full_page:  # the whole page at full scale (for people to look at)
            size = self.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": self.width, "height": min(size["height"], 16000), "scale": 1}
            shot = self.send("Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True},
                             session=session, timeout=30)
        else:  # small: the PNG is decoded in Python
            clip = {"x": 0, "y": 0, "width": self.width, "height": self.height, "scale": 0.25}
            shot = self.send("Page.captureScreenshot", {"format": "png", "clip": clip}, session=session)
        report.screenshot = base64.b64decode(shot["data"])
        if self.pdf:
            printed = self.send("Page.printToPDF", {"printBackground": True, "paperWidth": 8.27,
                                                    "paperHeight": 11.69}, session=session, timeout=60)
            report.pdf = base64.b64decode(printed["data"])
        self.send("Runtime.evaluate", {"expression": "1"}, session=session)  # flush pending events
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Network.requestWillBeSent":
                report.requests.append(params["request"]["url"])
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                report.errors.append(f"log: {params['entry'].get('text')}")
            elif method == "Runtime.exceptionThrown":
                report.errors.append(f"exception: {params['exceptionDetails'].get('text')}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
                report.errors.append(f"console: {params.get('args')}")
        return report


def open_page(path: Path, expressions: dict[str, str], *, javascript: bool = True,
              media: str | None = None, width: int = 1280, height: int = 1600, full_page: bool = False,
              pdf: bool = False, permissions: tuple[str, ...] = ()) -> PageReport:
    """Open `path` in a fresh headless Chromium with a `width` x `height` viewport, evaluate `expressions`
    (promises awaited), take a screenshot (`full_page`: all of it at scale 1) and, with `pdf`, print it (A4)."""
    browser = Browser(javascript=javascript, media=media, width=width, height=height, full_page=full_page, pdf=pdf,
                      permissions=permissions)
    try:
        return browser.open(path, expressions)
    finally:
        browser.close()
