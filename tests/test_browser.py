"""The app in a real browser: ``streamlit run`` on a free local port, driven by headless
Chromium through Playwright.

The browser is the system one (``/usr/bin/chromium``, installed by ``make browser-deps``) passed
to Playwright as ``executable_path``; nothing is downloaded. Without it the test is skipped,
unless ``CI=true``, where a missing browser is a failure. The app runs over a temporary copy of
the default corpus with the hashing embedder and the scripted generator (conftest's
environment), so the test checks the page, not the model; ``tests/test_app.py`` has the real
model. A screenshot is saved to ``test-artifacts/`` (git-ignored) for people to look at.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
QUESTION = "What did Capital Fund Management use Hugging Face Inference Endpoints for?"


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {CHROMIUM} is missing: run `make browser-deps` first.")
    pytest.skip(f"{CHROMIUM} is not installed (`make browser-deps` installs it).")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit did not answer at {url} within {timeout} s")


@pytest.fixture
def app_url(default_corpus, tmp_path, monkeypatch):
    require_chromium()
    monkeypatch.setenv("ASSISTANT_MIN_SCORE", "0")  # the hashing embedder scores low
    port = free_port()
    command = [
        *(sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "streamlit_app.py")),
        *("--server.address", "127.0.0.1", "--server.port", str(port)),
        *("--server.headless", "true", "--server.fileWatcherType", "none"),
        *("--browser.gatherUsageStats", "false"),
    ]
    log = (tmp_path / "streamlit.log").open("w")
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_question_answer_and_citation_in_a_real_browser(app_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"),  # a fresh profile
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 1200},
        )
        try:
            page = browser.new_page()
            page.goto(app_url)
            box = page.get_by_placeholder("Ask a question about your documents")
            box.wait_for(timeout=60_000)
            box.fill(QUESTION)
            box.press("Enter")

            answer = page.locator(".qa-answer")
            expect(answer).to_contain_text("Scripted answer", timeout=60_000)
            citation = answer.locator("a.qa-cite").first
            expect(citation).to_have_text("1")
            source = page.locator("#turn0-source1")
            expect(source).to_be_visible()
            expect(source).to_contain_text("similarity")
            expect(page.get_by_text(QUESTION)).to_be_visible()
            citation.click()
            expect(page).to_have_url(f"{app_url}/#turn0-source1")
            page.screenshot(path=str(ARTIFACTS / "browser-chat.png"))
        finally:
            browser.close()
    assert (ARTIFACTS / "browser-chat.png").stat().st_size > 10_000
