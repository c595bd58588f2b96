"""JupyterLab + headless Chromium, driven like a person would, for widget tests and benchmarks.

Used by ``test_browser_widgets.py`` (does each widget redraw when its controls
move?) and ``benchmarks/widget_latency.py`` (how long does a redraw take?).
What a widget notebook should do is data, in ``widget_scenarios.py``.

* ``lab_server(notebooks)`` starts the project's own ``jupyter lab`` on
  127.0.0.1 with a free port and a random token, serving a temporary root that
  holds output-free copies of the notebooks (the repository is never written),
  and always stops it: kernels through the REST API, then the server's whole
  process group.
* ``chromium(path)`` launches Debian's Chromium through Playwright (Playwright's
  own browser download is never used). ``find_chromium()`` says where it is;
  ``new_page(browser)`` gives a page with the change detector below injected.
* ``open_and_run(page, server, notebook, root)`` opens a notebook, waits for its
  kernel, runs every cell from the Run menu, and waits for the widget.
* ``signature`` / ``wait_until_stable`` / ``wait_for_change`` tell whether a
  plot changed: a hash of an ipympl ``<canvas>``'s pixels, or of an inline
  ``<img>``'s ``src``.
* ``Slide`` / ``Toggle`` / ``Choose`` / ``Play`` are what a person does to a
  control; ``run_step(root, plot, step)`` does one and asserts the plot redrew.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"

# Headless Chromium as root in a container: no sandbox, no GPU, no calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# JupyterLab user settings for the test server: no news or update toasts over
# the notebook, and every cell kept in the page (with windowing, cells scrolled
# out of view are dropped from the DOM and their widgets cannot be found).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "checkForUpdates": False, "fetchNews": "false"},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}

# Server side of the same: never fetch news, never check for updates (offline, and quiet).
SERVER_CONFIG = {"LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.handlers.announcements.NeverCheckForUpdate"}}


def find_chromium() -> str | None:
    """Path of a Chromium to drive: $CHROMIUM if set, else the first on PATH or /usr/bin."""
    if os.environ.get("CHROMIUM"):
        path = os.environ["CHROMIUM"]
        return path if os.access(path, os.X_OK) else None
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name) or (f"/usr/bin/{name}" if os.access(f"/usr/bin/{name}", os.X_OK) else None)
        if found:
            return found
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LabServer:
    url: str  # http://127.0.0.1:PORT
    token: str
    root: Path  # the temporary root directory it serves
    log: Path
    process: subprocess.Popen

    def api(self, method: str, path: str, timeout: float = 10):
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def notebook_url(self, relpath: str) -> str:
        # ``reset``: JupyterLab stores the open tabs on the server and would reopen the
        # previous scenario's notebook in front of, or beside, this one.
        return f"{self.url}/lab/tree/{relpath}?reset&token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def shutdown_kernels(self) -> None:
        """Stop every running kernel (each notebook starts one; idle ones still cost memory)."""
        with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
            for session in self.api("GET", "/api/sessions"):
                with contextlib.suppress(OSError, urllib.error.URLError):
                    self.api("DELETE", f"/api/sessions/{session['id']}")


def _copy_without_outputs(source: Path, target: Path) -> None:
    """A copy with no outputs: stored widget views would show 'model not found' until rerun."""
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)


def _descendants(pid: int) -> list[int]:
    """Process ids below ``pid`` (Linux /proc; empty elsewhere). Kernels run in sessions of their own."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (the server stops its kernels), then SIGKILL what is left."""
    leftovers = _descendants(process.pid)
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    for pid in leftovers:  # only the ids this server started
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def lab_server(notebooks: list[Path], startup_timeout: float = 120, extra: dict | None = None):
    """Serve output-free copies of ``notebooks`` (repo-relative layout kept) from a temporary root.

    ``extra`` maps a relative path to a notebook (NotebookNode) made by the test, e.g. a
    student's partial work, written into the root as it is.
    """
    jupyter = Path(sys.executable).parent / "jupyter"
    if not jupyter.exists():
        raise RuntimeError(f"{jupyter} not found: run `make install` to set up .venv")
    with tempfile.TemporaryDirectory(prefix="dl-lab-") as tmp:
        tmp = Path(tmp)
        root = tmp / "root"
        root.mkdir()
        for path in notebooks:
            path = Path(path).resolve()
            _copy_without_outputs(path, root / path.relative_to(REPO))
        for relpath, nb in (extra or {}).items():
            (root / relpath).parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, root / relpath)
        settings = tmp / "lab-settings"
        for name, values in LAB_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        config = tmp / "config"
        config.mkdir()
        (config / "jupyter_server_config.json").write_text(json.dumps(SERVER_CONFIG))
        env = dict(os.environ,
                   JUPYTER_CONFIG_DIR=str(config),  # not the user's own ~/.jupyter
                   JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
                   JUPYTERLAB_SETTINGS_DIR=str(settings),
                   JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),  # no tabs restored from earlier runs
                   PYTHONUNBUFFERED="1")
        port, token = _free_port(), secrets.token_hex(24)
        command = [str(jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
                   "--port-retries=0", f"--IdentityProvider.token={token}",
                   f"--ServerApp.root_dir={root}", "--ServerApp.terminals_enabled=False"]
        if os.geteuid() == 0:
            command.append("--allow-root")
        log = tmp / "server.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        server = LabServer(url=f"http://127.0.0.1:{port}", token=token, root=root, log=log, process=process)
        try:
            deadline = time.monotonic() + startup_timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"jupyter lab exited with code {process.returncode}:\n{server.log_tail()}")
                with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
                    server.api("GET", "/api/status", timeout=2)
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter lab not ready after {startup_timeout:.0f} s:\n{server.log_tail()}")
                time.sleep(0.25)
            yield server
        finally:
            server.shutdown_kernels()
            _stop(process)



# ---------------------------------------------------------------------------
# The browser side.

# Injected into every page. A plot's signature is a hash of what it shows: the
# pixels of a <canvas> (ipympl draws each new frame into the first canvas of
# .jupyter-matplotlib-canvas-div; the second is its rubber-band overlay), or
# the src of an <img> (an inline PNG, replaced on every redraw). "none" while
# there is no such element.
PAGE_SCRIPT = r"""
(() => {
  const fnv = (h, x) => Math.imul(h ^ x, 16777619) >>> 0;
  window.__dlSignature = (root, selector) => {
    const el = root && root.querySelector(selector);
    if (!el) return "none";
    let h = 2166136261;
    if (el instanceof HTMLCanvasElement) {
      if (!el.width || !el.height) return "empty";
      const data = el.getContext("2d").getImageData(0, 0, el.width, el.height).data;
      const words = new Uint32Array(data.buffer, data.byteOffset, data.byteLength >> 2);
      for (let i = 0; i < words.length; i++) h = fnv(h, words[i]);
      return `canvas ${el.width}x${el.height} ${h.toString(16)}`;
    }
    if (el instanceof HTMLImageElement) {
      const src = el.getAttribute("src") || "";
      for (let i = 0; i < src.length; i++) h = fnv(h, src.charCodeAt(i));
      return `img ${src.length} ${h.toString(16)}`;
    }
    return `unsupported <${el.tagName.toLowerCase()}>`;
  };
  // Latency of one key press: from its keydown on `target` to the first animation
  // frame in which the plot's signature differs. Resolves to ms, or null after 10 s.
  window.__dlArmLatency = (root, selector, target) => {
    const before = window.__dlSignature(root, selector);
    const armed = performance.now();
    let start = null;
    target.addEventListener("keydown", () => { start = performance.now(); }, { capture: true, once: true });
    window.__dlLatency = new Promise((resolve) => {
      const tick = () => {
        const now = performance.now();
        if (start !== null) {
          const signature = window.__dlSignature(root, selector);
          if (signature !== before && signature !== "none") return resolve(now - start);
        }
        if (now - armed > 10000) return resolve(null);
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
  };
})();
"""

# How JupyterLab 4 renders an error output (and stderr text, which the notebooks never print).
# (Not application/vnd.jupyter.error: that selector matched nothing, so failures went unseen.)
ERROR_OUTPUT = "[data-mime-type='application/vnd.jupyter.stderr']"

# Where the plot is, relative to a widget's root.
IPYMPL_CANVAS = ".jupyter-matplotlib-canvas-div canvas:first-child"
INLINE_PNG = ".jp-OutputArea-output img"


@contextlib.contextmanager
def chromium(executable: str):
    """Debian's Chromium, headless, driven by Playwright: yields a Playwright Browser."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, width: int = 1280, height: int = 1000):
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_init_script(script=PAGE_SCRIPT)
    return context.new_page()


def _accept_kernel_dialog(page) -> None:
    """JupyterLab asks which kernel to start when it cannot tell: take its proposal (the venv's python3)."""
    dialog = page.locator(".jp-Dialog:has-text('Select Kernel') .jp-mod-accept")
    if dialog.count():
        dialog.first.click()


def _kernel_idle(server: LabServer, relpath: str) -> bool:
    with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
        for session in server.api("GET", "/api/sessions"):
            if session.get("path") == relpath and session.get("kernel"):
                return session["kernel"].get("execution_state") == "idle"
    return False


def open_and_run(page, server: LabServer, relpath: str, root: str, timeout: float = 120) -> None:
    """Open ``relpath``, wait for its kernel, Run > Run All Cells, wait until ``root`` shows and no cell is queued.

    Raises AssertionError with the traceback text if a cell fails.
    """
    open_notebook(page, server, relpath, timeout)
    errors = run_all(page, timeout)
    if errors.count():
        raise AssertionError(f"a cell of {relpath} failed in the browser:\n{errors.first.inner_text()}")
    page.locator(root).first.wait_for(state="visible", timeout=timeout * 1000)


def open_notebook(page, server: LabServer, relpath: str, timeout: float = 120) -> None:
    """Open ``relpath`` and wait until its kernel is idle and the page is connected to it."""
    page.goto(server.notebook_url(relpath))
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=timeout * 1000)
    deadline = time.monotonic() + timeout
    while not _kernel_idle(server, relpath):
        _accept_kernel_dialog(page)
        if time.monotonic() > deadline:
            raise AssertionError(f"the kernel of {relpath} did not start in {timeout:.0f} s:\n{server.log_tail()}")
        page.wait_for_timeout(250)
    # ...and for the page to be connected to it (the toolbar's indicator, hidden or not, says idle).
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", state="attached",
                           timeout=timeout * 1000)


def wait_for_run(page, timeout: float = 120):
    """Wait until no cell is queued or running, or one failed; returns the error outputs (a Locator)."""
    # Queued and running cells show [*]; the run is over when none does (or a cell failed).
    page.wait_for_function(
        """() => {
          const prompts = [...document.querySelectorAll('.jp-NotebookPanel .jp-InputPrompt')];
          const done = prompts.length && prompts.every(p => !p.textContent.includes('*'));
          return done || document.querySelector(ERROR_OUTPUT);
        }""".replace("ERROR_OUTPUT", json.dumps(ERROR_OUTPUT)),
        timeout=timeout * 1000,
    )
    return page.locator(ERROR_OUTPUT)


def run_all(page, timeout: float = 120):
    """Run > Run All Cells; returns the error outputs (a Locator) once the run is over or stopped."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    # Started: some cell is queued, running or done (before that, every prompt is empty and
    # the run would look over already).
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-NotebookPanel .jp-InputPrompt')]"
        ".some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))", timeout=timeout * 1000)
    return wait_for_run(page, timeout)


def run_cell(page, index: int, timeout: float = 120) -> None:
    """Run the notebook's cell number ``index`` (0-based, as in the file) alone, as Ctrl+Enter does."""
    cell = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)
    cell.scroll_into_view_if_needed()
    cell.locator(".jp-InputPrompt").first.click()  # selects the cell in command mode, even when collapsed
    page.keyboard.press("Control+Enter")
    page.wait_for_function(
        "(cell) => !cell.querySelector('.jp-InputPrompt').textContent.includes('*')"
        " && /\\[\\d+\\]/.test(cell.querySelector('.jp-InputPrompt').textContent)",
        arg=cell.element_handle(), timeout=timeout * 1000)


def signature(root, plot: str) -> str:
    return root.evaluate("(root, selector) => window.__dlSignature(root, selector)", plot)


def wait_until_stable(root, plot: str, quiet: float = 0.5, timeout: float = 30) -> str:
    """Wait until the plot has not changed for ``quiet`` seconds (ipympl may send several frames)."""
    last, since = signature(root, plot), time.monotonic()
    deadline = since + timeout
    while time.monotonic() - since < quiet:
        if time.monotonic() > deadline:
            raise AssertionError(f"the plot ({plot}) kept changing for {timeout:.0f} s")
        time.sleep(0.1)
        now = signature(root, plot)
        if now != last:
            last, since = now, time.monotonic()
    return last


def wait_for_change(root, plot: str, before: str, timeout: float = 20) -> None:
    """Wait until the plot shows something other than ``before`` (checked every animation frame)."""
    try:
        root.page.wait_for_function(
            "([root, selector, before]) => { const s = window.__dlSignature(root, selector);"
            " return s !== before && s !== 'none'; }",
            arg=[root.element_handle(), plot, before], polling="raf", timeout=timeout * 1000)
    except Exception as error:  # playwright's TimeoutError; say it about the widget
        if "Timeout" not in type(error).__name__:
            raise
        raise AssertionError(f"the plot ({plot}) did not change within {timeout:.0f} s") from None


def run_step(root, plot: str, step, timeout: float = 20) -> str:
    """Do ``step`` to the widget, and assert the plot redraws to something new. Returns what was done."""
    before = wait_until_stable(root, plot)
    done = step.perform(root)
    try:
        wait_for_change(root, plot, before, timeout)
    except AssertionError as error:
        raise AssertionError(f"{done}, but {error}") from None
    if hasattr(step, "finish"):
        step.finish(root)
    after = wait_until_stable(root, plot)
    assert after != before, f"{done}: the plot changed, then came back to what it showed before"
    return done


def _label(description: str):
    return re.compile(rf"^\s*(?:{description})\s*$")


# ---------------------------------------------------------------------------
# What a person does to a widget. Each step acts on the widget's root, asserts
# that the control itself changed, and returns a sentence saying what it did.


@dataclass(frozen=True)
class Slide:
    """Focus the handle of the slider labelled ``description`` (a regex) and press an arrow key.

    Presses ArrowRight, or ArrowLeft when the slider is already at its end.
    """
    description: str
    presses: int = 3
    kind = "slide"

    def slider(self, root):
        slider = root.locator(".widget-slider").filter(
            has=root.page.locator(".widget-label", has_text=_label(self.description)))
        if not slider.count():
            raise AssertionError(f"no slider labelled {self.description!r} in the widget")
        return slider.first

    def handle(self, root):
        return self.slider(root).locator(".noUi-handle").first

    def press(self, handle, key: str) -> None:
        handle.focus()
        handle.press(key)

    def perform(self, root) -> str:
        slider = self.slider(root)
        handle = slider.locator(".noUi-handle").first
        # The readout shows the value; aria-valuenow lags behind for float sliders.
        readout = slider.locator(".widget-readout")
        position = lambda: readout.inner_text().strip() or handle.get_attribute("aria-valuetext")
        before = position()
        for key in ("ArrowRight", "ArrowLeft"):
            for _ in range(self.presses):
                self.press(handle, key)
            after = position()
            if after != before:
                return f"slider {self.description!r}: {before} -> {after} ({key} x{self.presses})"
        raise AssertionError(f"slider {self.description!r} did not move with the arrow keys (stuck at {before})")


@dataclass(frozen=True)
class Toggle:
    """Click the checkbox labelled ``description`` (a regex)."""
    description: str
    kind = "toggle"

    def perform(self, root) -> str:
        box = root.get_by_role("checkbox", name=_label(self.description))
        if not box.count():
            raise AssertionError(f"no checkbox labelled {self.description!r} in the widget")
        before = box.first.is_checked()
        box.first.click()
        after = box.first.is_checked()
        assert after != before, f"checkbox {self.description!r} did not toggle when clicked"
        return f"checkbox {self.description!r}: {before} -> {after}"


@dataclass(frozen=True)
class Choose:
    """Pick ``option`` (default: the next one) in the dropdown labelled ``description`` (a regex)."""
    description: str
    option: str | None = None
    kind = "choose"

    def perform(self, root) -> str:
        page = root.page
        dropdown = root.locator(".widget-dropdown").filter(
            has=page.locator(".widget-label", has_text=_label(self.description)))
        if not dropdown.count():
            raise AssertionError(f"no dropdown labelled {self.description!r} in the widget")
        select = dropdown.first.locator("select")
        before = select.input_value()
        options = select.evaluate("s => [...s.options].map(o => o.value)")
        target = self.option if self.option is not None else options[(options.index(before) + 1) % len(options)]
        if target not in options:
            raise AssertionError(f"dropdown {self.description!r} has no option {target!r}; it has {options}")
        select.select_option(target)
        assert select.input_value() == target, f"dropdown {self.description!r} did not take {target!r}"
        return f"dropdown {self.description!r}: {before!r} -> {target!r}"


@dataclass(frozen=True)
class Play:
    """Press play on the ``index``-th Play widget (Play widgets have no visible label), later pause it."""
    index: int = 0
    kind = "play"

    def perform(self, root) -> str:
        play = root.locator(".widget-play").nth(self.index)
        if not play.count():
            raise AssertionError(f"no Play widget number {self.index} in the widget")
        play.locator("button:has(.fa-play)").click()
        return f"play widget {self.index}: started"

    def finish(self, root) -> None:
        pause = root.locator(".widget-play").nth(self.index).locator("button:has(.fa-pause)")
        if pause.count():
            pause.click()


@dataclass(frozen=True)
class Scenario:
    """A widget notebook and what to do to its widget; the rows of widget_scenarios.SCENARIOS."""
    name: str  # used in test ids and screenshot names
    notebook: str  # path relative to the repository root
    root: str  # CSS selector of the widget's root (e.g. the class it adds with add_class)
    steps: tuple  # Slide / Toggle / Choose / Play, done in this order
    plot: str = IPYMPL_CANVAS  # CSS selector, inside root, of the plot that must redraw
    latency: str | None = None  # slider (label regex) timed by benchmarks/widget_latency.py; default: first Slide

    @property
    def path(self) -> Path:
        return REPO / self.notebook

    @property
    def latency_slider(self) -> Slide | None:
        if self.latency is not None:
            return Slide(self.latency)
        return next((step for step in self.steps if isinstance(step, Slide)), None)


def slug(text: str) -> str:
    text = text.replace("β", "beta").replace("α", "alpha")
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "step"


def screenshot(locator, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    locator.screenshot(path=str(path))
    return path
