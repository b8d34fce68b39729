"""A real headless Chromium driven by Selenium, for the UI tests: Debian's
``chromium`` and ``chromedriver`` (scripts/test.sh installs them)."""

from __future__ import annotations

import os
import shutil
import time

from selenium import webdriver
from selenium.webdriver.common.by import By


def chrome() -> webdriver.Chrome:
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver:
        raise RuntimeError("chromium and chromedriver are needed: apt-get install chromium chromium-driver")
    # Selenium Manager would try to download browsers and report statistics.
    os.environ.setdefault("SE_AVOID_STATS", "true")
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
        opts.add_argument(arg)
    return webdriver.Chrome(options=opts, service=webdriver.ChromeService(executable_path=driver))


def wait_for(driver, css: str, count: int | None = None, timeout: float = 20.0) -> list:
    """The elements matching ``css`` once there are some (or exactly ``count``)."""
    deadline = time.monotonic() + timeout
    while True:
        found = driver.find_elements(By.CSS_SELECTOR, css)
        if (count is None and found) or (count is not None and len(found) == count):
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"{css}: {len(found)} elements, wanted {count if count is not None else 'some'}")
        time.sleep(0.1)
