"""Headless Chromium driven over the Chrome DevTools protocol (CDP), for the explorer's
browser test and its screenshot script.

Why not Selenium or Playwright: CDP over one websocket needs only httpx-ws (already a BentoML
dependency), no driver binary whose version must match the browser, and no browser
download; the system Chromium (Debian's ``chromium`` package) is used as installed.

    with Chromium.launch() as browser:
        browser.goto("http://127.0.0.1:3000/")
        browser.type_into("#text", "...")
        browser.click("#analyze")
        browser.wait_for("document.querySelectorAll('#stances tbody tr').length > 0")
        browser.screenshot(Path("page.png"))
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from httpx_ws import WebSocketSession, connect_ws

BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")
# A full-page PNG travels base64-encoded in one message.
_MAX_MESSAGE = 64 * 1024 * 1024


class BrowserError(RuntimeError):
    """Chromium did not start, a command failed, or a condition never became true."""


def find_chromium() -> str | None:
    """Path of a Chromium binary: $STANCE_CHROMIUM, else the first of BINARIES on PATH."""
    explicit = os.environ.get("STANCE_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    return next((p for p in map(shutil.which, BINARIES) if p), None)


class Chromium:
    """One headless browser with one page, commanded over CDP."""

    def __init__(self, proc: subprocess.Popen[bytes], ws: WebSocketSession, profile: str):
        self.proc = proc
        self.ws = ws
        self.profile = profile
        self._ids = itertools.count(1)

    @classmethod
    @contextlib.contextmanager
    def launch(
        cls, width: int = 1440, height: int = 900, binary: str | None = None
    ) -> Iterator[Chromium]:
        """Start Chromium (private throw-away profile, no network besides what pages ask)."""
        binary = binary or find_chromium()
        if binary is None:
            raise BrowserError(f"no Chromium binary found (looked for {', '.join(BINARIES)})")
        profile = tempfile.mkdtemp(prefix="stance-chromium-")
        args = [
            binary,
            "--headless=new",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-extensions",
            "--disable-background-networking",
            "--no-first-run",
            "--no-default-browser-check",
            "--remote-debugging-port=0",  # a free port, printed on stderr
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to sandbox as root (CI images)
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            page_ws = _page_websocket(proc)
            with (
                httpx.Client() as client,
                connect_ws(page_ws, client, max_message_size_bytes=_MAX_MESSAGE) as ws,
            ):
                browser = cls(proc, ws, profile)
                browser.send("Page.enable")
                browser.send("Runtime.enable")
                browser.send(
                    "Emulation.setDeviceMetricsOverride",
                    width=width,
                    height=height,
                    deviceScaleFactor=1,
                    mobile=False,
                )
                yield browser
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            shutil.rmtree(profile, ignore_errors=True)

    def send(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        """Send one CDP command and return its result (events in between are dropped)."""
        ident = next(self._ids)
        self.ws.send_json({"id": ident, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"{method}: no answer in {timeout}s")
            message = self.ws.receive_json(timeout=left)
            if message.get("id") != ident:
                continue
            if "error" in message:
                raise BrowserError(f"{method}: {message['error']}")
            result: dict[str, Any] = message.get("result", {})
            return result

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page (promises awaited)."""
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"JavaScript error in {expression[:80]!r}: {text}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60) -> Any:
        """Poll a JavaScript expression until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise BrowserError(f"still false after {timeout}s: {expression}")

    def goto(self, url: str, timeout: float = 30) -> None:
        """Navigate and wait until the document has loaded."""
        result = self.send("Page.navigate", url=url)
        if result.get("errorText"):
            raise BrowserError(f"cannot load {url}: {result['errorText']}")
        self.wait_for(
            f"location.href.startsWith({json.dumps(url)}) && document.readyState === 'complete'",
            timeout,
        )

    def _centre(self, selector: str) -> tuple[float, float]:
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2];"
            " })()"
        )
        if box is None:
            raise BrowserError(f"no element matches {selector!r}")
        return float(box[0]), float(box[1])

    def click(self, selector: str) -> None:
        """A real mouse click (press and release) at the element's centre."""
        x, y = self._centre(selector)
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def focus(self, selector: str) -> None:
        """Focus an element, as Tab would."""
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")

    def type_into(self, selector: str, text: str) -> None:
        """Focus a field and insert text as typed input (fires the page's input events)."""
        self.focus(selector)
        self.send("Input.insertText", text=text)

    def press(self, key: str, code: str, key_code: int) -> None:
        """Press and release one key on the focused element (e.g. "Enter", "Enter", 13)."""
        text = "\r" if key == "Enter" else ""
        for kind in ("keyDown", "keyUp"):
            self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=code,
                windowsVirtualKeyCode=key_code,
                text=text if kind == "keyDown" else "",
            )

    def screenshot(self, path: Path, full_page: bool = False, max_height: int = 16000) -> None:
        """Write a PNG of the viewport, or of the page from the top (at most max_height px)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            width, height = self.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            clip = {"x": 0, "y": 0, "width": width, "height": min(height, max_height), "scale": 1}
            params.update(clip=clip, captureBeyondViewport=True)
        data = self.send("Page.captureScreenshot", **params)["data"]
        path.write_bytes(base64.b64decode(data))


def _page_websocket(proc: subprocess.Popen[bytes], timeout: float = 30) -> str:
    """The page target's websocket URL, from the DevTools port Chromium prints on start."""
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    browser_ws = None
    while browser_ws is None:
        line = proc.stderr.readline().decode(errors="replace")
        if not line and proc.poll() is not None:
            raise BrowserError(f"Chromium exited ({proc.returncode}):\n{''.join(seen[-20:])}")
        if time.monotonic() > deadline:
            raise BrowserError(f"Chromium printed no DevTools address in {timeout}s")
        seen.append(line)
        match = _LISTENING.search(line)
        if match:
            browser_ws = match.group(1)
    # Chromium keeps writing to stderr; drain it so a full pipe never blocks the browser.
    stderr = proc.stderr
    threading.Thread(target=lambda: stderr.read(), daemon=True).start()
    port = browser_ws.split("//", 1)[1].split("/", 1)[0]
    targets = httpx.get(f"http://{port}/json/list", timeout=10).json()
    pages = [t for t in targets if t.get("type") == "page"]
    if not pages:
        raise BrowserError(f"Chromium has no page target: {targets}")
    return str(pages[0]["webSocketDebuggerUrl"])
