"""Runs you can trust, as a user meets them: the README's commands in one project folder, a run
stopped half-way, two runs at once, and the servers that read the runs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from tests.conftest import FAST, kedro, latest, versions
from tests.servers import TELEMETRY_OFF, free_port, local_server

pytestmark = pytest.mark.slow

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (DEBUG|INFO) \S+: ")
# MLflow's own lines when it creates a new tracking store (its logger keeps its own format)
MLFLOW_LINE = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d INFO mlflow\.")


def read_json(path: Path) -> dict:
    return json.loads(latest(path).read_text())


def complete_runs(project: Path, root: str = "data") -> list[str]:
    """Versions of the complete runs of a data root, oldest first."""
    return [v.name for v in versions(project / root / "08_reporting/run_record.json")]


def start_kedro(project: Path, *args: str) -> subprocess.Popen:
    """`kedro <args>` started in the background in `project`, its output kept."""
    return subprocess.Popen(
        [sys.executable, "-m", "kedro", *args],
        cwd=project,
        env={**os.environ, **TELEMETRY_OFF},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_the_readme_commands_in_order_in_one_folder(sequence_project):
    project = sequence_project  # kedro run; --env cards; kedro run; --env transactions; scoring
    logs = project.parent / "logs"
    first, third, scoring_run = complete_runs(project)

    # each environment wrote under its own data root; neither compared itself with another's run
    cards = read_json(project / "data/cards/08_reporting/segment_matching.json")
    assert cards["pairs"] == [] and cards["status"].startswith("no previous complete run")
    assert read_json(project / "data/transactions/08_reporting/segment_matching.json")[
        "status"
    ].startswith("no previous complete run")
    assert (
        "Credit-card" in latest(project / "data/cards/08_reporting/segment_report.html").read_text()
    )
    assert len(complete_runs(project, "data/cards")) == 1

    # the third run compared itself with the first, never with the cards run between them
    matching = read_json(project / "data/08_reporting/segment_matching.json")
    assert matching["status"] == "compared" and matching["previous_version"] == first
    assert matching["customers_in_both"] == 1995
    assert matching["matched_on"] == ["age", "annual_income_k", "spending_score"]

    # scoring in the default environment used the default environment's newest complete run
    assert f"segment_model {third}" in (logs / "5.txt").read_text()
    scored = pd.read_csv(latest(project / "data/07_model_output/scored_customers.csv"))
    assert scored["segment_name"].notna().all() and len(scored) > 0
    record = read_json(project / "data/08_reporting/run_record.json")
    assert record["run_version"] == scoring_run and record["pipelines"] == ["scoring"]
    assert record["read_versions"]["segment_model"] == third

    # a default run logs no warning, one record per line, in a terminal 80 columns wide
    lines = (logs / "3.txt").read_text().splitlines()
    assert not [line for line in lines if not (LOG_LINE.match(line) or MLFLOW_LINE.match(line))]
    assert max(len(line) for line in lines) > 120


def test_the_registry_lists_every_workflow_whatever_the_environment(ran_project):
    listed = kedro(ran_project, "registry", "list").stdout
    for name in ("customer_table", "order_log", "customer_features", "order_log.scoring"):
        assert f"- {name}\n" in listed


def wait_while_running(run: subprocess.Popen, done: Callable[[], bool], seconds: float = 300):
    """Wait until `done()`, failing if the run ends first or it takes longer than `seconds`."""
    deadline = time.monotonic() + seconds
    while not done():
        assert run.poll() is None and time.monotonic() < deadline, run.stdout.read()
        time.sleep(0.05)


def health(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/health", timeout=30) as response:
        return json.load(response)


def test_a_stopped_run_stays_invisible_a_second_run_waits_and_the_service_follows(
    ran_copy, tmp_path
):
    from customer_segmentation.app.outputs import RunOutputs  # noqa: PLC0415

    project = ran_copy
    (first,) = complete_runs(project)
    port = free_port(8100, 8999)
    command = [sys.executable, "-m", "customer_segmentation.app.service", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with local_server(command, project, url, "/health", tmp_path / "service.log") as url:
        assert health(url)["model_version"] == first
        four = f"{FAST},model_selection.k_policy=fixed,model_selection.k=4"
        started = time.time() * 1000
        run = start_kedro(project, "run", "--params", four)
        lock = project / "data/.run.lock"
        wait_while_running(run, lock.exists)

        # meanwhile: a second run in the same environment stops at once; another environment runs
        cards = start_kedro(project, "run", "--env", "cards", "--pipelines", "data_processing")
        second = kedro(project, "run", "--pipelines", "data_processing", check=False)
        log = second.stdout + second.stderr
        assert second.returncode != 0
        assert "RunInProgressError: Another run is writing the environment 'local'" in log
        assert f"pid {run.pid}" in log and "Traceback" not in log

        models = project / "data/06_models/segment_model.pkl"
        wait_while_running(run, lambda: len(versions(models)) == 2 and latest(models).exists())
        run.send_signal(signal.SIGTERM)  # right after the new model is saved
        output, _ = run.communicate(timeout=120)
        assert run.returncode != 0
        assert "RunInterrupted: the run was stopped by SIGTERM" in output
        assert "Traceback" not in output
        assert cards.wait(timeout=300) == 0
        assert len(complete_runs(project, "data/cards")) == 1

        assert complete_runs(project) == [first]  # the stopped run wrote no record
        assert not lock.exists()
        killed = mlflow.search_runs(
            experiment_names=["customer_segmentation"],
            filter_string=f"attributes.start_time >= {int(started)} and tags.environment = 'local'",
        )
        assert set(killed["status"]) == {"FAILED"}

        scoring = kedro(project, "run", "--pipelines", "scoring")
        assert f"segment_model {first}" in scoring.stdout
        assert f"segment_profiles {first}" in scoring.stdout
        scored = pd.read_csv(latest(project / "data/07_model_output/scored_customers.csv"))
        assert scored["segment_name"].notna().all() and scored["segment_id"].max() == 5
        assert RunOutputs(project).run_versions() == [first]
        assert health(url)["model_version"] == first

        # a run that completes and saves a segment model (clustering again on the first run's k
        # and features) is the newest complete run from now on, for the service too
        kedro(project, "run", "--pipelines", "clustering")
        newest = RunOutputs(project).run_versions()[0]
        assert newest not in (first, versions(models)[1].name)
        deadline = time.monotonic() + 120
        while health(url)["model_version"] != newest:
            assert time.monotonic() < deadline, "the service never served the new run"
            time.sleep(0.5)
        assert len(health(url)["segments"]) == 5
