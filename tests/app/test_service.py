"""The scoring service as `make serve` starts it, on a free port of 127.0.0.1, over real HTTP."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.service_load import burst, request_bodies
from tests.conftest import latest, versions
from tests.servers import free_port, local_server

pytestmark = pytest.mark.slow

HEADER = ["CustomerID", "Genre", "Age", "Annual Income (k$)", "Spending Score (1-100)"]
MAX_ROWS, MAX_BYTES = 100, 20_000


@pytest.fixture(scope="module")
def service(ran_project, tmp_path_factory) -> str:
    """`make serve`'s command, with the limits of the project's own conf/local/service.yml."""
    (ran_project / "conf/local/service.yml").write_text(
        f"service:\n  max_rows: {MAX_ROWS}\n  max_request_bytes: {MAX_BYTES}\n"
    )
    port = free_port(8100, 8999)
    command = [sys.executable, "-m", "customer_segmentation.app.service", "--port", str(port)]
    log = tmp_path_factory.mktemp("service") / "service.log"
    with local_server(command, ran_project, f"http://127.0.0.1:{port}", "/health", log) as url:
        yield url


def post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{url}/score", data=body, headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_health_says_which_model_is_loaded(service, ran_project):
    with urllib.request.urlopen(f"{service}/health", timeout=30) as response:
        health = json.load(response)
    assert health["status"] == "ok"
    assert health["environment"] == "local"
    assert (
        health["model_version"]
        == versions(ran_project / "data/06_models/segment_model.pkl")[-1].name
    )
    assert [s["segment_id"] for s in health["segments"]] == [1, 2, 3, 4, 5]
    assert health["features"] == ["annual_income_k", "spending_score"]
    assert health["limits"] == {"max_request_bytes": MAX_BYTES, "max_rows": MAX_ROWS}


def test_json_customers_get_the_segments_the_pipeline_gave_them(service, ran_project):
    shipped = pd.read_csv(ran_project / "data/01_raw/new_customers.csv", dtype=str).head(12)
    expected = pd.read_csv(latest(ran_project / "data/07_model_output/scored_customers.csv"))
    expected = expected.set_index(expected["customer_id"].astype(str))
    status, answer = post(service, json.dumps({"customers": shipped.to_dict("records")}).encode())
    # rows 4 (age -4) and 9 (no spending score) of the shipped file are invalid
    assert status == 422
    assert answer["rows_in"] == 12 and answer["rows_scored"] == 10
    assert [(q["row"], q["reason"]) for q in answer["quarantined"]] == [
        (4, "age not between 0 and 120"),
        (9, "spending_score missing"),
    ]
    for scored in answer["scored"]:
        row = expected.loc[scored["customer_id"]]
        assert scored["segment_id"] == row["segment_id"]
        assert scored["segment_name"] == row["segment_name"]
        assert scored["distance"] == pytest.approx(row["distance_to_centroid"], abs=1e-6)
    valid = shipped.drop(index=[3, 8])
    status, answer = post(service, valid.to_json(orient="records").encode())
    assert status == 200 and answer["rows_scored"] == 10 and answer["quarantined"] == []


def test_a_csv_body_is_read_like_the_shipped_file(service, ran_project):
    body = (ran_project / "data/01_raw/new_customers.csv").read_bytes()
    status, answer = post(service, body, "text/csv; charset=utf-8")
    assert status == 422
    assert (answer["rows_in"], answer["rows_scored"], answer["rows_quarantined"]) == (60, 58, 2)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b'[{"CustomerID": "1", "Age": "30"}]', "application/json", 422, "required column"),
        (b"", "text/csv", 422, "the file is empty"),
        (b"{not json", "application/json", 400, "not valid JSON"),
        (b"[1, 2]", "application/json", 400, "expected a JSON list of customer objects"),
        (b"<customers/>", "application/xml", 415, "send application/json or text/csv"),
        (
            json.dumps(
                [dict(zip(HEADER, ["1", "Male", "30", "50", "50"], strict=True))] * (MAX_ROWS + 1)
            ),
            "application/json",
            413,
            f"{MAX_ROWS + 1} customers in one request; the limit is {MAX_ROWS}",
        ),
        (b"x" * (MAX_BYTES + 1), "text/csv", 413, f"the limit is {MAX_BYTES} bytes"),
    ],
)
def test_a_request_that_cannot_be_scored_gets_a_4xx_and_the_reason(
    service, body, content_type, status, message
):
    body = body.encode() if isinstance(body, str) else body
    answer_status, answer = post(service, body, content_type)
    assert answer_status == status, answer
    assert message in answer["error"]


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=2),
)
customer = st.dictionaries(st.sampled_from([*HEADER, "note"]), values, max_size=6)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(customer, max_size=5))
def test_whatever_customers_are_sent_the_answer_is_never_a_server_error(service, customers):
    status, answer = post(service, json.dumps(customers).encode())
    assert status in (200, 400, 422), answer
    if status == 200:
        assert answer["rows_scored"] == len(customers)
    elif "error" not in answer:  # rows came back: every one of them, scored or with a reason
        assert answer["rows_scored"] + answer["rows_quarantined"] == len(customers)


def test_a_burst_of_2000_requests_8_at_a_time_gets_no_error(service):
    result = burst(service, request_bodies(rows_per_request=1), requests=2000, concurrency=8)
    assert result["errors"] == 0, result
    assert result["statuses"] == [200]
