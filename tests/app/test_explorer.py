"""The segment explorer as `make app` starts it, used in headless Chromium (Debian's, via Playwright)."""

from __future__ import annotations

import re
import sys
from io import BytesIO

import numpy as np
import openpyxl
import pandas as pd
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from customer_segmentation.plot_style import segment_colours
from tests.conftest import FAST, copy_project, kedro, latest, versions
from tests.servers import free_port, local_server
from tests.test_browser import blank_fraction, browser  # noqa: F401 (the shared browser fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect.set_options(timeout=60_000)  # a busy machine: wait on readiness, not on a fixed few seconds
EXPLORER = "src/customer_segmentation/app/explorer.py"


@pytest.fixture(scope="module")
def app_url(ran_project, tmp_path_factory) -> str:
    """`make app`'s command (its settings in the project's .streamlit/config.toml) on a free port."""
    port = free_port(8600, 8999)
    command = [sys.executable, "-m", "streamlit", "run", EXPLORER, "--server.port", str(port)]
    log = tmp_path_factory.mktemp("app") / "app.log"
    with local_server(
        command, ran_project, f"http://127.0.0.1:{port}", "/_stcore/health", log
    ) as url:
        yield url


@pytest.fixture
def websocket_text() -> list[str]:
    """What the app sent the page over its websocket (the charts' specifications among it)."""
    return []


@pytest.fixture
def page(browser, app_url, websocket_text) -> Page:  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.on(
        "websocket",
        lambda socket: socket.on(
            "framereceived",
            lambda frame: websocket_text.append(
                frame.decode("utf-8", "ignore") if isinstance(frame, bytes) else frame
            ),
        ),
    )
    page.goto(app_url)
    yield page
    context.close()


def rows_in_colour(png: bytes, colour: str) -> int:
    """How many pixel rows of the picture hold the colour ('#1f77b4', within a small tolerance)."""
    image = np.asarray(Image.open(BytesIO(png)).convert("RGB")).astype(int)
    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(image - target).max(axis=2) <= 8).any(axis=1).sum())


def sidebar_link(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()


def test_cards_open_a_segment_and_download_its_customers(
    page, websocket_text, ran_project, tmp_path
):
    expect(page.get_by_role("heading", name="Customer segments")).to_be_visible()
    cards = page.get_by_text("Suggested action:")
    expect(cards).to_have_count(5)
    expect(page.get_by_text("High income · Low spending · Middle-aged")).to_be_visible()
    expect(page.get_by_text("Customers per segment", exact=True)).to_be_attached()  # in words
    expect(page.get_by_text("segment_sizes_plot")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "cards.png"))
    # every card's chart drawn with its bars (each a band of rows in the segment's colour, not a
    # line squashed under the axis) and all on the x range the page received for each of them
    charts = page.get_by_test_id("stVegaLiteChart")
    expect(charts).to_have_count(5)
    profiles = pd.read_csv(latest(ran_project / "data/07_model_output/segment_profiles.csv"))
    colours = segment_colours(profiles["segment_id"].tolist())
    for segment_id in profiles["segment_id"]:
        chart = page.locator(f".st-key-card_{segment_id}").get_by_test_id("stVegaLiteChart")
        rows = rows_in_colour(chart.screenshot(), colours[segment_id])
        assert rows >= 3 * 12, (segment_id, rows)  # three bars of about 18 px
    domains = re.findall(r'"domain":\s*\[([^\]]*)\]', "".join(websocket_text))
    assert len(domains) >= 5 and len(set(domains)) == 1, domains  # a rerun sends them again

    with page.expect_download() as download:  # the workbook for the CRM
        page.get_by_role("button", name="Download segments.xlsx").click()
    workbook = download.value.path().read_bytes()
    assert workbook == latest(ran_project / "data/08_reporting/segments.xlsx").read_bytes()
    assert openpyxl.load_workbook(BytesIO(workbook)).sheetnames[0] == "Summary"

    page.locator(".st-key-card_2").get_by_role("button", name="Open segment").click()
    expect(
        page.get_by_role("heading", name="High income · Low spending · Middle-aged")
    ).to_be_visible()
    expect(page.get_by_text("359 of 359 customers")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "segment_2_high_income_low_spending_middle_aged.csv"
    rows = pd.read_csv(saved)
    everyone = pd.read_csv(latest(ran_project / "data/07_model_output/segmented_customers.csv"))
    expected = everyone[everyone["segment_id"] == 2]
    assert sorted(rows["customer_id"]) == sorted(expected["customer_id"])
    assert set(rows["segment_id"]) == {2}

    page.get_by_label("Search (any column contains)").fill("Female")
    page.keyboard.press("Enter")
    females = expected[expected["gender"] == "Female"]
    expect(page.get_by_text(f"{len(females)} of 359 customers")).to_be_visible()
    with page.expect_download() as download:  # the campaign list is what the search shows
        page.get_by_role("button", name="Download CSV").click()
    found = pd.read_csv(download.value.path())
    assert sorted(found["customer_id"]) == sorted(females["customer_id"])
    shot = page.screenshot(path=str(tmp_path / "segment.png"))
    assert blank_fraction(shot) < 0.95

    sidebar_link(page, "How k was chosen")
    expect(page.get_by_role("heading", name="How k = 5 was chosen")).to_be_visible()
    expect(page.get_by_role("img")).to_have_count(2)  # the elbow and the k-scores plots


def test_an_uploaded_file_is_scored_and_a_broken_one_explained(page, ran_project, tmp_path):
    sidebar_link(page, "Score a file")
    upload = page.locator("input[type=file]")
    # what a browser names a second download of the same file
    second = tmp_path / "new_customers [1].csv"
    second.write_bytes((ran_project / "data/01_raw/new_customers.csv").read_bytes())
    upload.set_input_files(str(second))
    expect(page.get_by_text("60 in = 58 kept + 2 quarantined")).to_be_visible()
    expect(page.get_by_role("heading", name="Scored customers (58)")).to_be_visible()
    expect(page.get_by_role("heading", name="Quarantined rows (2), with reasons")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download scored CSV").click()
    scored = pd.read_csv(download.value.path())
    expected = pd.read_csv(latest(ran_project / "data/07_model_output/scored_customers.csv"))
    assert scored["segment_id"].tolist() == expected["segment_id"].tolist()
    page.screenshot(path=str(tmp_path / "scored.png"))

    broken = tmp_path / "no_income**.csv"
    broken.write_text("CustomerID,Age,Spending Score (1-100)\n1,30,50\n")
    upload.set_input_files(str(broken))
    expect(page.get_by_text("no_income**.csv cannot be scored:")).to_be_visible()
    message = page.get_by_text("no_income**.csv: required column 'annual_income_k'")
    expect(message).to_be_visible()
    assert "Traceback" not in page.inner_text("body")
    page.screenshot(path=str(tmp_path / "broken.png"))


def test_before_any_run_it_says_what_to_run_and_shows_the_run_once_done(browser, tmp_path):  # noqa: F811
    project = copy_project(tmp_path / "fresh")
    port = free_port(8600, 8999)
    command = [sys.executable, "-m", "streamlit", "run", EXPLORER, "--server.port", str(port)]
    with local_server(command, project, f"http://127.0.0.1:{port}", "/_stcore/health") as url:
        page = browser.new_page()
        page.goto(url)
        expect(page.get_by_role("heading", name="No segments yet")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("make run", exact=True)).to_be_visible()
        page.screenshot(path=str(tmp_path / "no_run.png"))
        # a run that completes while the explorer is open shows up on the next page view
        kedro(project, "run", "--params", FAST)
        page.reload()
        expect(page.get_by_role("heading", name="Customer segments")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Suggested action:")).to_have_count(5)
        (run,) = versions(project / "data/08_reporting/run_record.json")
        expect(page.get_by_text(f"Model: {run.name} · environment local")).to_be_visible()
        page.close()
