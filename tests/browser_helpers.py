"""Debian's chromium driven by Playwright, for the browser tests (never a downloaded browser)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# As root in a sandbox without network: no sandboxing, no GPU, no calls home.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def require_chromium() -> Any:
    """Playwright's sync API; call at module level: skips the module without chromium."""
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed at /usr/bin/chromium (CI installs it)",
            allow_module_level=True,
        )
    return pytest.importorskip("playwright.sync_api")


@contextmanager
def launched_chromium() -> Iterator[Any]:
    with require_chromium().sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()
