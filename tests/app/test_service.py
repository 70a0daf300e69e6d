"""The scoring service as a user starts it (`make serve`, default conf/base/service.yml, 2 workers),
on a free port of 127.0.0.1, while the machine is busy, over real HTTP."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.service_load import burst, request_bodies
from tests.conftest import latest, versions
from tests.servers import busy_machine, free_port, local_server, make_serve

pytestmark = pytest.mark.slow

HEADER = ["CustomerID", "Genre", "Age", "Annual Income (k$)", "Spending Score (1-100)"]
# conf/base/service.yml
MAX_ROWS, MAX_BYTES, MAX_COLUMNS, HEADER_TIMEOUT, BODY_TIMEOUT = 1000, 1_048_576, 100, 10, 30
WORKER_STARTED = "customer_segmentation.app.api: Worker "
START_SECONDS = 60  # `make serve` answers /health within a minute of its start on a busy machine


@pytest.fixture(scope="module")
def service(ran_project, tmp_path_factory) -> str:
    """`make serve`, started beside two CPU-bound processes (on two cores: a busy machine)."""
    port = free_port(8100, 8999)
    log = tmp_path_factory.mktemp("service") / "service.log"
    url = f"http://127.0.0.1:{port}"
    with ExitStack() as load:
        load.enter_context(busy_machine())
        with local_server(make_serve(port), ran_project, url, "/health", log) as served:
            load.close()  # the burners stop once it answers; the server goes on
            served.log = log
            yield served


def post(
    url: str, body: bytes, content_type: str = "application/json", headers: dict | None = None
) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{url}/score", data=body, headers={"Content-Type": content_type, **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_make_serve_answers_within_a_minute_on_a_busy_machine_and_says_so(service):
    assert service.seconds_to_ready <= START_SECONDS
    # /health answers as soon as one worker is up; the other may still be loading its model
    deadline = time.monotonic() + START_SECONDS
    log = service.log.read_text()
    while log.count(WORKER_STARTED) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
        log = service.log.read_text()
    assert "Uvicorn running on http://127.0.0.1:" in log
    assert "(local), 2 worker(s)" in log
    assert log.count(WORKER_STARTED) == 2  # each worker's start
    assert "serves run" in log and "Traceback" not in log


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
    assert health["limits"]["max_rows"] == MAX_ROWS
    assert health["limits"]["max_request_bytes"] == MAX_BYTES
    assert health["limits"]["token_required"] is False and "api_token" not in health["limits"]


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
        (b"CustomerID\n1\n", "text/plain", 415, "a web page cannot post it unasked"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "nested more than 8 levels"),
        (
            json.dumps(
                [dict(zip(HEADER, ["1", "Male", "30", "50", "50"], strict=True))] * (MAX_ROWS + 1)
            ),
            "application/json",
            413,
            f"{MAX_ROWS + 1} rows in one request; the limit is {MAX_ROWS}",
        ),
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


def read_answer(sock: socket.socket) -> bytes:
    """One HTTP answer (head and a body of its content-length) from a socket."""
    answer = b""
    while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < int(
        answer.lower().split(b"content-length: ", 1)[-1].split(b"\r\n", 1)[0] or 0
    ):
        data = sock.recv(65536)
        if not data:
            break
        answer += data
    return answer


def test_a_body_over_the_limit_is_refused_before_it_is_read_in_full(service):
    """413 on the declared length, and while a chunked body of unknown length streams in."""
    host, port = service.removeprefix("http://").split(":")
    declared = (
        f"POST /score HTTP/1.1\r\nHost: test\r\nContent-Type: text/csv\r\n"
        f"Content-Length: {MAX_BYTES + 1}\r\n\r\n"
    ).encode()
    chunked = b"POST /score HTTP/1.1\r\nHost: test\r\nContent-Type: text/csv\r\n"
    chunked += b"Transfer-Encoding: chunked\r\n\r\n"
    chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
    for start, more in ((declared, b""), (chunked, chunk)):
        with socket.create_connection((host, int(port)), timeout=60) as sock:
            sock.sendall(start)
            answer = b""
            for _ in range(MAX_BYTES // 65536 + 4):
                if more:
                    try:
                        sock.sendall(more)
                    except OSError:  # refused and closed while we were still sending
                        break
            answer = read_answer(sock)
        assert answer.startswith(b"HTTP/1.1 413"), answer
        assert f"the limit is {MAX_BYTES} bytes".encode() in answer or b"over the limit" in answer


def customer_row(customer_id: str, genre="Male", age="30", income="50", score="50") -> dict:
    return dict(zip(HEADER, [customer_id, genre, age, income, score], strict=True))


@pytest.mark.parametrize("content_type", ["application/json", "text/csv"])
def test_an_out_of_range_number_is_a_quarantined_row_and_the_others_are_scored(
    service, content_type
):
    rows = [customer_row("1", income="1e200"), customer_row("2"), customer_row("3", score="1e400")]
    if content_type == "text/csv":
        body = pd.DataFrame(rows).to_csv(index=False).encode()
    else:
        body = json.dumps(rows).replace('"1e200"', "1e200").encode()  # a JSON number
    status, answer = post(service, body, content_type)
    assert status == 422
    assert [s["customer_id"] for s in answer["scored"]] == ["2"]
    assert [(q["row"], q["reason"]) for q in answer["quarantined"]] == [
        (1, "annual_income_k out of range (magnitude above 1e+15)"),
        (3, "spending_score is not a number"),
    ]


def test_a_request_whose_every_row_is_invalid_gets_each_row_and_its_reason(service):
    rows = [customer_row("1", age="-4"), customer_row("2", score="")]
    status, answer = post(service, json.dumps(rows).encode())
    assert status == 422
    assert (answer["rows_in"], answer["rows_scored"], answer["rows_quarantined"]) == (2, 0, 2)
    assert answer["scored"] == []
    assert [(q["row"], q["customer_id"], q["reason"]) for q in answer["quarantined"]] == [
        (1, "1", "age not between 0 and 120"),
        (2, "2", "spending_score missing"),
    ]


def test_wide_bodies_are_refused_before_a_table_is_built_with_a_short_message(service):
    wide = {f"extra_{i}": "1" for i in range(20_000)}
    started = time.monotonic()
    status, answer = post(service, json.dumps([{**customer_row("1"), **wide}]).encode())
    assert status == 413
    assert f"more than {MAX_COLUMNS} different fields" in answer["error"]
    csv = ",".join(wide) + "\n" + ",".join(wide.values()) + "\n"
    status, answer = post(service, csv.encode(), "text/csv")
    assert status == 413
    assert f"the header has 20000 columns; the limit is {MAX_COLUMNS}" in answer["error"]
    assert len(answer["error"]) < 500
    # refused before any table work: the same worker answers the next request at once
    assert time.monotonic() - started < 20
    status, _ = post(service, json.dumps([customer_row("9")]).encode())
    assert status == 200


def slow_client(url: str, first: bytes, then: bytes | None, seconds: float) -> tuple[float, bytes]:
    """Send `first`, then (when given) one byte of `then` every 2 s; return when the server answers
    or closes: (seconds since the start, what it sent)."""
    host, port = url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(first)
        sock.settimeout(2)
        while time.monotonic() - started < seconds:
            try:
                answer = sock.recv(4096)
                return time.monotonic() - started, answer
            except TimeoutError:
                if then:
                    try:
                        sock.sendall(then[:1])
                    except OSError:
                        return time.monotonic() - started, b""
                    then = then[1:] or b"x"
    return time.monotonic() - started, b"(still connected)"


def test_slow_clients_are_cut_off(service):
    headers = b"POST /score HTTP/1.1\r\nHost: test\r\n"
    body = (
        b"POST /score HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n["
    )
    limit = BODY_TIMEOUT + 20
    with ThreadPoolExecutor(2) as pool:
        slow_headers = pool.submit(slow_client, service, headers, b"X-Slow: 1" * 100, limit)
        slow_body = pool.submit(slow_client, service, body, None, limit)
        (header_seconds, header_answer), (body_seconds, body_answer) = (
            slow_headers.result(),
            slow_body.result(),
        )
    assert header_answer.startswith(b"HTTP/1.1 408"), header_answer
    assert b"header_timeout_seconds" in header_answer
    assert HEADER_TIMEOUT <= header_seconds < HEADER_TIMEOUT + 10
    assert body_answer.startswith(b"HTTP/1.1 408"), body_answer
    assert BODY_TIMEOUT <= body_seconds < BODY_TIMEOUT + 10


def test_a_token_in_the_environment_is_required_on_score(ran_project, tmp_path):
    port = free_port(8100, 8999)
    url = f"http://127.0.0.1:{port}"
    token = {"CUSTOMER_SEGMENTATION_API_TOKEN": "s3cret"}
    with local_server(make_serve(port), ran_project, url, "/health", env=token) as served:
        body = json.dumps([customer_row("1")]).encode()
        status, answer = post(served, body)
        assert status == 401 and "Authorization: Bearer" in answer["error"]
        assert post(served, body, headers={"Authorization": "Bearer wrong"})[0] == 401
        status, answer = post(served, body, headers={"Authorization": "Bearer s3cret"})
        assert status == 200 and answer["rows_scored"] == 1
        with urllib.request.urlopen(f"{served}/health", timeout=30) as response:
            assert json.load(response)["limits"]["token_required"] is True


blank_or = st.one_of(st.just(""), st.none())
new_customer = st.fixed_dictionaries(
    {
        "Genre": st.one_of(blank_or, st.sampled_from(["Male", "Female", "F", "m"])),
        "Age": st.one_of(blank_or, st.integers(0, 120).map(str)),
        "Annual Income (k$)": st.integers(0, 200).map(str),
        "Spending Score (1-100)": st.integers(1, 100).map(str),
    }
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(new_customer, st.lists(new_customer, min_size=1, max_size=8), st.integers(0, 8))
def test_a_customer_gets_the_same_answer_alone_and_in_any_batch(service, customer, others, at):
    """Blanks are filled with what training learned, never from the batch: a customer's segment and
    distance do not depend on who else is in the request."""
    alone = {"CustomerID": "target", **customer}
    batch = [{"CustomerID": f"other{i}", **other} for i, other in enumerate(others)]
    batch.insert(min(at, len(batch)), alone)
    answers = [post(service, json.dumps(body).encode())[1] for body in ([alone], batch)]
    mine = [[s for s in answer["scored"] if s["customer_id"] == "target"] for answer in answers]
    assert mine[0] == mine[1] and len(mine[0]) == 1, answers


def test_requests_scored_together_get_the_answers_they_get_alone(service, ran_project):
    """Concurrent requests are scored in one pipeline run per worker when they can be: the answers
    are those of each request alone, including shared ids, missing columns and invalid rows."""
    shipped = pd.read_csv(ran_project / "data/01_raw/new_customers.csv", dtype=str)
    records = shipped.to_dict("records")
    bodies = [json.dumps(records[i : i + 5]).encode() for i in range(0, 40, 5)]
    bodies += [json.dumps(records[:3]).encode()]  # the same ids as the first request
    bodies += [json.dumps([{k: v for k, v in r.items() if k != "Age"} for r in records[:4]])]
    bodies = [b if isinstance(b, bytes) else b.encode() for b in bodies]
    alone = [post(service, body) for body in bodies]
    for _ in range(3):
        with ThreadPoolExecutor(len(bodies)) as pool:
            together = list(pool.map(lambda body: post(service, body), bodies))
        assert together == alone


def test_the_api_documents_its_bodies_and_answers_and_its_docs_work_offline(service):
    with urllib.request.urlopen(f"{service}/openapi.json", timeout=30) as response:
        document = json.load(response)
    score = document["paths"]["/score"]["post"]
    assert set(score["requestBody"]["content"]) == {"application/json", "text/csv"}
    assert {"200", "400", "401", "408", "413", "415", "422"} <= set(score["responses"])
    assert "ScoreAnswer" in document["components"]["schemas"]
    with urllib.request.urlopen(f"{service}/docs", timeout=30) as response:
        page = response.read().decode()
    assets = [part.split('"')[1] for part in page.split("src=")[1:] + page.split("href=")[1:]]
    assert assets and all(asset.startswith("/") for asset in assets), assets  # nothing remote
    for asset in assets:
        with urllib.request.urlopen(f"{service}{asset}", timeout=30) as response:
            assert response.status == 200 and len(response.read()) > 0
