"""A student's JupyterLab: a real server on 127.0.0.1 and Debian's Chromium driven by Selenium.

Everything a test does goes through the page: clicks, menus and keystrokes into CodeMirror,
the way a student works. Only the settings a test needs to be repeatable differ from a fresh
install (no autosave, so "not saved yet" is a state the test controls; every cell rendered, not
only those in view; no news or update checks, which would reach the internet).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# what a fresh JupyterLab does differently here (see the module docstring)
SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    # every cell in the page, so a cell's place in the page is its place in the notebook
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def browser_missing() -> str:
    """Why a browser test cannot run here, or '' (``make system`` installs both)."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if not missing:
        return ""
    return f"{' and '.join(missing)} missing: run `make system` (apt-get install chromium chromium-driver)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def jupyterlab(root: Path, home: Path, timeout: float = 60) -> Iterator[str]:
    """Run JupyterLab over ``root``; yield the base URL with its token."""
    for name, value in SETTINGS.items():
        path = home / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value), encoding="utf-8")
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
    }
    # the kernel a student gets: this environment's Python, with nothing set up for TensorFlow
    for name in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS"):
        env.pop(name, None)
    log = (home / "jupyterlab.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not start; see {home / 'jupyterlab.log'}") from None
                time.sleep(0.5)
        yield f"{base}/lab/tree/{{path}}?token={token}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@contextmanager
def chromium(profile: Path) -> Iterator[object]:
    """A headless Chromium under chromedriver, with no network beyond this machine."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--window-size=1400,1000",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class LabPage:
    """One notebook open in JupyterLab, worked on through the page as a student does."""

    def __init__(self, driver, url: str, cell_count: int, timeout: float = 120) -> None:
        from selenium.webdriver.common.by import By

        self.driver, self.by = driver, By
        driver.get(url)
        self.wait_for(lambda: len(self.cells()) == cell_count and self.kernel_idle(), timeout, "the notebook to open")

    # --- reading the page ---------------------------------------------------------------------
    def cells(self) -> list:
        return self.driver.find_elements(self.by.CSS_SELECTOR, ".jp-NotebookPanel .jp-Notebook .jp-Cell")

    def cell(self, index: int):
        element = self.cells()[index]
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        return element

    def kernel_idle(self) -> bool:
        found = self.driver.find_elements(self.by.CSS_SELECTOR, ".jp-Notebook-ExecutionIndicator")
        return bool(found) and found[0].get_attribute("data-status") == "idle"

    def prompt(self, index: int) -> str:
        found = self.cells()[index].find_elements(self.by.CSS_SELECTOR, ".jp-InputPrompt")
        return found[0].get_attribute("textContent").strip() if found else ""

    def outputs(self, index: int) -> list[tuple[str, str]]:
        """(mime type, text) of each output the cell shows."""
        return [
            (out.get_attribute("data-mime-type") or "", out.get_attribute("textContent"))
            for out in self.cells()[index].find_elements(self.by.CSS_SELECTOR, ".jp-OutputArea-output")
        ]

    def wait_for(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(0.25)

    # --- acting on the page --------------------------------------------------------------------
    def keys(self, *keys: str) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        ActionChains(self.driver).send_keys(*keys).perform()

    def chord(self, modifier: str, key: str) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        ActionChains(self.driver).key_down(modifier).send_keys(key).key_up(modifier).perform()

    def shifted(self, *keys: str) -> None:
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        ActionChains(self.driver).key_down(Keys.SHIFT).send_keys(*keys).key_up(Keys.SHIFT).perform()

    def edit_line(self, index: int, line: int, new_lines: list[str], old_lines: int = 1) -> None:
        """Select lines ``line`` .. ``line + old_lines - 1`` of cell ``index`` and type ``new_lines`` over them."""
        from selenium.webdriver.common.keys import Keys

        self.cell(index).find_element(self.by.CSS_SELECTOR, ".cm-content").click()
        self.chord(Keys.CONTROL, Keys.HOME)
        self.keys(*[Keys.DOWN] * line, Keys.HOME)
        self.shifted(*[Keys.DOWN] * (old_lines - 1), Keys.END)
        for i, text in enumerate(new_lines):
            if i:
                self.keys(Keys.ENTER)
            self.keys(text)
        self.keys(Keys.ESCAPE)  # back to command mode, as after clicking away

    def save(self) -> None:
        from selenium.webdriver.common.keys import Keys

        self.chord(Keys.CONTROL, "s")

    def menu(self, menu: str, item: str) -> None:
        bar = self.driver.find_elements(self.by.CSS_SELECTOR, ".lm-MenuBar-itemLabel")
        next(label for label in bar if label.text == menu).click()
        self.wait_for(lambda: self._menu_item(item) is not None, 10, f"menu item {item!r}")
        self._menu_item(item).click()

    def _menu_item(self, text: str):
        for label in self.driver.find_elements(self.by.CSS_SELECTOR, ".lm-Menu-itemLabel"):
            if label.text == text:
                return label
        return None

    def rename(self, name: str) -> None:
        """File > Rename Notebook…: type the new name over the old one and press Rename."""
        from selenium.webdriver.common.keys import Keys

        self.menu("File", "Rename Notebook…")
        selector = ".jp-Dialog input"
        self.wait_for(lambda: self.driver.find_elements(self.by.CSS_SELECTOR, selector), 10, "the rename dialog")
        self.driver.find_element(self.by.CSS_SELECTOR, selector).click()
        self.chord(Keys.CONTROL, "a")
        self.keys(name)
        self.accept_dialog()
        tab = ".jp-mod-current .lm-TabBar-tabLabel, .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel"
        self.wait_for(
            lambda: any(t.text == name for t in self.driver.find_elements(self.by.CSS_SELECTOR, tab)), 20, "the rename"
        )

    def select(self, index: int) -> None:
        """Click cell ``index`` (its prompt area), as a student selects a cell without running it."""
        self.cell(index).find_element(self.by.CSS_SELECTOR, ".jp-InputPrompt").click()

    def screenshot(self, path: Path, index: int | None = None) -> None:
        """The page as the student sees it, with cell ``index`` (and its output) in view."""
        if index is not None:
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'end'})", self.cells()[index])
        path.parent.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(path))

    def accept_dialog(self) -> None:
        selector = ".jp-Dialog .jp-mod-accept"
        self.wait_for(lambda: self.driver.find_elements(self.by.CSS_SELECTOR, selector), 10, "a dialog")
        self.driver.find_element(self.by.CSS_SELECTOR, selector).click()

    def run_cell(self, index: int) -> None:
        """Select the cell and run it with Ctrl+Enter, as a student runs one cell."""
        from selenium.webdriver.common.keys import Keys

        self.select(index)
        self.chord(Keys.CONTROL, Keys.ENTER)

    def wait_run(self, index: int, timeout: float, before: str = "") -> None:
        """Wait until cell ``index`` shows a new execution count (not ``before``) and the kernel is idle."""

        def done() -> bool:
            prompt = self.prompt(index)
            return self.kernel_idle() and prompt not in ("", "[ ]:", "[*]:", before)

        self.wait_for(done, timeout, f"cell {index} to run")


@contextmanager
def artifacts_on_failure(driver, out: Path, log: Path) -> Iterator[None]:
    """On an exception, keep a screenshot, the page and the server log in ``out``."""
    try:
        yield
    except BaseException:
        out.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(out / "page.png"))
        (out / "page.html").write_text(driver.page_source, encoding="utf-8")
        if log.is_file():
            shutil.copy(log, out / "jupyterlab.log")
        raise
