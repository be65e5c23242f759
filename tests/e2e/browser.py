"""What the browser tests share: Debian's chromium, how it is launched, the marks of a browser
test, and logging in through the login form (Playwright's sync API)."""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test's thread; the test's own ORM calls are safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "pass-word-1"  # the password the tests' people are made with

# `pytestmark = BROWSER_TEST` in a module of browser tests.
BROWSER_TEST = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (apt-get install chromium)"),
]


def login(page, base: str, username: str, password: str = PASSWORD, lands: str = "/", timeout: float | None = None):
    """Log `page` in as `username` through the login form (as nobody else: the context's cookies are
    cleared first) and wait for the landing page."""
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{lands}", **({"timeout": timeout} if timeout else {}))


def logged_in(browser, base: str, username: str = "boss", password: str = PASSWORD, locale: str = "zh-CN", **context):
    """A page of a new browser context (`context`: Playwright's new_context options), logged in."""
    page = browser.new_context(locale=locale, **context).new_page()
    login(page, base, username, password)
    return page
