"""What a person sees, checked in headless Chromium (Debian's `chromium`, driven by Playwright).

Locally a missing Chromium skips these tests with the reason; under CI (`CI=true`) it fails them.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from collections.abc import Iterator
from io import BytesIO

import pandas as pd
import pytest
from kedro.framework.project import configure_project
from PIL import Image
from playwright.sync_api import sync_playwright

from customer_segmentation.pipeline_registry import create_workflow, register_pipelines
from customer_segmentation.pipelines.reporting.pipeline import REPORT_FIGURES
from tests.conftest import latest
from tests.servers import free_port, local_server, make_target

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    reason = "Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} — under CI a missing browser is a failure")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def blank_fraction(png: bytes) -> float:
    """Share of pixels equal to the most common colour (1.0 = a blank page)."""
    image = Image.open(BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=image.width * image.height)
    return max(count for count, _ in colours) / (image.width * image.height)


def test_html_report_renders_cards_and_images(ran_project, browser, tmp_path):
    report = latest(ran_project / "data" / "08_reporting" / "segment_report.html")
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    page.route(
        "**/*",
        lambda route: (
            route.abort()
            if not route.request.url.startswith(("file:", "data:"))
            else route.continue_()
        ),
    )
    page.goto(report.as_uri(), wait_until="load")
    # the answer first: the summary is the first section on the page, and above the fold
    assert page.locator("main > section").first.get_attribute("id") == "summary"
    assert page.locator("#summary table.summary").bounding_box()["y"] < 1000
    profiles = pd.read_csv(latest(ran_project / "data/07_model_output/segment_profiles.csv"))
    rows = page.locator("#summary tr[data-segment]")
    shown = [
        (
            int(rows.nth(i).get_attribute("data-segment")),
            rows.nth(i).locator("td").nth(0).inner_text().strip(),
            int(rows.nth(i).locator("td").nth(1).inner_text().replace(",", "")),
            rows.nth(i).locator("td").last.inner_text().strip(),
        )
        for i in range(rows.count())
    ]
    assert shown == list(
        profiles[["segment_id", "segment_name", "size", "suggested_action"]].itertuples(
            index=False, name=None
        )
    )
    cards = page.locator(".segment-card")
    assert cards.count() == 5
    assert "Mid income · Moderate spending · Middle-aged" in cards.first.inner_text()
    assert "Suggested action" in cards.first.inner_text()
    images = page.locator("img[data-plot]")
    assert images.count() == len(REPORT_FIGURES)
    widths = page.eval_on_selector_all(
        "img[data-plot]", "imgs => imgs.map(i => i.complete && i.naturalWidth)"
    )
    assert all(width and width > 100 for width in widths), widths
    assert "2001 in = 1995 kept + 6 quarantined" in page.locator("#data-quality").inner_text()
    shot = page.screenshot(full_page=True, path=str(tmp_path / "report.png"))
    assert blank_fraction(shot) < 0.9
    page.close()


@pytest.fixture(scope="module")
def viz_url(ran_project, tmp_path_factory) -> Iterator[str]:
    """`make viz VIZ_PORT=<a free port>`, as a user starts it."""
    port = free_port()
    command = make_target("viz", VIZ_PORT=port)
    log = tmp_path_factory.mktemp("viz") / "viz.log"
    with local_server(command, ran_project, f"http://127.0.0.1:{port}", "/api/main", log) as url:
        yield url


def test_viz_api_lists_every_node_of_every_pipeline(viz_url):
    with urllib.request.urlopen(f"{viz_url}/api/main", timeout=30) as response:
        graph = json.load(response)
    tasks = {node["full_name"]: node for node in graph["nodes"] if node["type"] == "task"}
    configure_project("customer_segmentation")
    registered = register_pipelines()
    # the top level is the workflow as boxes, one per stage, with the datasets between them and no
    # loose node
    top = graph["modular_pipelines"]["__root__"]["children"]
    assert {c["id"] for c in top if c["type"] == "modularPipeline"} == set(create_workflow())
    assert not [c for c in top if c["type"] == "task"]
    assert [p["id"] for p in graph["pipelines"]] == list(registered)
    for node in registered["__default__"].nodes:
        assert node.name in tasks, node.name
    for name, pipeline in registered.items():  # on-demand ones (experiments) have their own graph
        with urllib.request.urlopen(f"{viz_url}/api/pipelines/{name}", timeout=30) as response:
            shown = {n["full_name"]: n for n in json.load(response)["nodes"] if n["type"] == "task"}
        for node in pipeline.nodes:
            assert node.name in shown, (name, node.name)
            assert name in shown[node.name]["pipelines"], (node.name, name)
    assert graph["layers"] == [
        "raw",
        "intermediate",
        "primary",
        "feature",
        "model_input",
        "models",
        "model_output",
        "reporting",
    ]


def test_viz_page_renders_the_node_names(viz_url, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.add_init_script(
        "window.localStorage.setItem('KedroViz', JSON.stringify({showFeatureHints: false}))"
    )
    page = context.new_page()
    page.goto(viz_url, wait_until="networkidle")
    page.wait_for_selector("svg .pipeline-node__text", timeout=60_000)
    rendered = set(page.locator(".pipeline-node__text").all_text_contents())
    configure_project("customer_segmentation")
    top_level = [n.name for n in register_pipelines()["__default__"].nodes if not n.namespace]
    missing = [name for name in top_level if name not in rendered]
    assert not missing, missing
    assert "scoring" in rendered or "Scoring" in rendered  # the namespaced pipeline, collapsed
    shot = page.screenshot(path=str(tmp_path / "viz.png"))
    assert blank_fraction(shot) < 0.95
    context.close()
