"""The review page in a real browser: headless Chromium through playwright (``-m browser``).

Debian's ``chromium`` is used as installed (``.ci/run`` installs it); playwright's own
browser download is never needed. Skipped, with the reason, where either is missing.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clirun import ok
from conftest import SAMPLE_CSV

from trustctl.review import Review
from trustctl.review_page import slug
from trustctl.review_pages import Request, review_of
from trustctl.rules import load_rules

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
GROUPS = ("k8s.scale", "k8s.cordon_node", "queue.redrive", "cache.flush")


@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("review") / "review.html"
    ok("review", SAMPLE_CSV, *(x for g in GROUPS for x in ("--group", g)), "-o", out)
    return out


@pytest.fixture(scope="module")
def data() -> Review:
    return review_of(Request(logs=(SAMPLE_CSV,), rules=load_rules(None), groups=GROUPS))


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("no chromium (apt-get install chromium)")
    profile = tmp_path_factory.mktemp("profile")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS
        )
        yield context
        context.close()


@pytest.mark.parametrize("width", [1280, 375])
def test_the_page_renders_offline_with_every_chart_and_verdict(
    browser: Any, page_file: Path, data: Review, width: int
) -> None:
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(page_file.as_uri())
    page.wait_for_load_state("load")
    assert requests == [page_file.as_uri()]  # nothing but the file itself
    assert errors == []
    charts = page.locator("figure svg")
    assert charts.count() == 3 * len(GROUPS)
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1  # no chart off the page
    text = page.inner_text("body")
    for group in data.groups:
        section = page.locator(f"section#{slug(group.name)}")
        assert section.count() == 1
        verdict = section.locator(".verdict").inner_text()
        assert f"Verdict: {group.verdict.level.value}" in verdict
        assert section.locator(".reason").is_visible()
        assert section.locator(".reason").inner_text() in text
    # Nothing wider than the screen but the tables' own scrolling boxes.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.close()
