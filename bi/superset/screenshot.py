"""Render the dashboard in headless Chromium, fail on any chart error, save a screenshot.

Runs in ``.venv-bi`` (Selenium comes with Superset) with Debian's ``chromium`` and ``chromium-driver``
(``make bi-browser`` installs them). Selenium is given both paths, so Selenium Manager never downloads a driver.

    python bi/superset/screenshot.py OUT.png     # SUPERSET_URL, SUPERSET_ADMIN_USER/_PASSWORD, SUPERSET_DASHBOARD

Prints one JSON line: the charts seen, those with an error (and its text), and the screenshot path. Exits 1 if a
chart shows an error, shows no result, or did not finish loading in time.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

WIDTH, HEIGHT = 1600, 2300
LOAD_TIMEOUT = 120
ERROR_SELECTORS = '[data-test="error-alert"], .ant-alert-error, .alert-danger, [data-test="error-message"]'
LOADING_SELECTORS = '[data-test="loading-indicator"], .loading, .ant-skeleton'
PROBLEM_TEXTS = ("No results", "Unexpected error", "error occurred", "Error:")

# In the page: each chart holder's title, whether it is still loading, any error text, whether it drew.
CHART_STATE_JS = """
var errorSelector = arguments[0], loadingSelector = arguments[1];
// chart holders only (a markdown block is a chart holder too, without a chart id)
var holders = Array.from(document.querySelectorAll('.dashboard-component-chart-holder[class*="dashboard-chart-id-"]'));
return holders.map(function (holder) {
  var title = holder.querySelector('[data-test="editable-title"], .header-title, [data-test="slice-header"]');
  var error = holder.querySelector(errorSelector);
  var text = holder.innerText || '';
  return {
    title: title ? title.innerText.trim() : text.split('\\n')[0],
    loading: holder.querySelector(loadingSelector) !== null,
    drawn: holder.querySelector('canvas, svg, table') !== null,
    error: error ? error.innerText.trim().slice(0, 300) : null,
    text: text.slice(0, 400)
  };
});
"""


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 f"--window-size={WIDTH},{HEIGHT}", "--hide-scrollbars", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--metrics-recording-only", "--force-device-scale-factor=1"):
        options.add_argument(flag)
    driver_path = os.environ.get("CHROMEDRIVER", shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(service=Service(executable_path=driver_path), options=options)


def log_in(driver: webdriver.Chrome, url: str, user: str, password: str) -> None:
    driver.get(f"{url}/login/")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        fields = driver.find_elements(By.CSS_SELECTOR, 'input#username, input[data-test="username-input"], input[name="username"]')
        secrets = driver.find_elements(By.CSS_SELECTOR, 'input[type="password"]')
        if fields and secrets:
            break
        time.sleep(0.5)
    else:
        raise RuntimeError("the login form did not appear")
    fields[0].send_keys(user)
    secrets[0].send_keys(password + Keys.ENTER)
    while time.monotonic() < deadline:
        if "/login" not in driver.current_url:
            return
        time.sleep(0.5)
    raise RuntimeError("logging in did not leave the login page")


def render(driver: webdriver.Chrome, url: str, slug: str) -> list[dict]:
    driver.get(f"{url}/superset/dashboard/{slug}/?standalone=1")
    deadline = time.monotonic() + LOAD_TIMEOUT
    charts: list[dict] = []
    while time.monotonic() < deadline:
        charts = driver.execute_script(CHART_STATE_JS, ERROR_SELECTORS, LOADING_SELECTORS)
        if charts and all(c["error"] or (c["drawn"] and not c["loading"]) for c in charts):
            break
        time.sleep(1)
    time.sleep(3)  # let ECharts finish its entry animation before the picture
    return driver.execute_script(CHART_STATE_JS, ERROR_SELECTORS, LOADING_SELECTORS)


def problems(charts: list[dict]) -> list[str]:
    found = []
    for chart in charts:
        if chart["error"]:
            found.append(f"{chart['title']}: {chart['error']}")
        elif chart["loading"] or not chart["drawn"]:
            found.append(f"{chart['title']}: did not finish drawing")
        elif any(text in chart["text"] for text in PROBLEM_TEXTS):
            found.append(f"{chart['title']}: {chart['text'][:200]}")
    return found


def main(argv: list[str]) -> int:
    out = argv[0] if argv else "superset-dashboard.png"
    url = os.environ["SUPERSET_URL"].rstrip("/")
    driver = browser()
    try:
        log_in(driver, url, os.environ["SUPERSET_ADMIN_USER"], os.environ["SUPERSET_ADMIN_PASSWORD"])
        charts = render(driver, url, os.environ.get("SUPERSET_DASHBOARD", "school-attendance"))
        height = driver.execute_script(
            "var grid = document.querySelector('.grid-container, .dashboard-content');"
            "return Math.max(document.body.scrollHeight, grid ? grid.scrollHeight + 200 : 0);")
        if height and height > HEIGHT:
            driver.set_window_size(WIDTH, min(int(height), 6000))
            time.sleep(2)
        driver.save_screenshot(out)
    finally:
        driver.quit()
    found = problems(charts)
    print(json.dumps({"charts": [c["title"] for c in charts], "problems": found, "screenshot": out}), flush=True)
    return 1 if found or not charts else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
