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
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from tests.conftest import kedro, latest, versions
from tests.servers import TELEMETRY_OFF, free_port, local_server

pytestmark = pytest.mark.slow

FAST = "model_selection.stability_resamples=0"  # as the shared ran project
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (DEBUG|INFO) \S+: ")


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


def test_the_readme_commands_in_order_in_one_folder(ran_copy):
    project = ran_copy  # `kedro run` done
    (first,) = complete_runs(project)
    kedro(project, "run", "--env", "cards", "--params", FAST)
    third = kedro(project, "run", "--params", FAST, env={"COLUMNS": "80"})  # a narrow terminal
    kedro(project, "run", "--env", "transactions", "--params", FAST)
    scoring = kedro(project, "run", "--pipelines", "scoring")

    # each environment wrote under its own data root; neither compared itself with another's run
    cards = read_json(project / "data/cards/08_reporting/segment_matching.json")
    assert cards["pairs"] == [] and cards["status"].startswith("no previous complete run")
    assert read_json(project / "data/transactions/08_reporting/segment_matching.json")[
        "status"
    ].startswith("no previous complete run")
    assert (
        "Credit-card" in latest(project / "data/cards/08_reporting/segment_report.html").read_text()
    )

    # the third run compared itself with the first, never with the cards run between them
    matching = read_json(project / "data/08_reporting/segment_matching.json")
    assert matching["status"] == "compared" and matching["previous_version"] == first
    assert matching["customers_in_both"] == 1995
    assert matching["matched_on"] == ["age", "annual_income_k", "spending_score"]

    # scoring in the default environment used the default environment's newest complete run
    runs = complete_runs(project)
    assert len(runs) == 3  # first, third, scoring
    assert f"segment_model {runs[1]}" in scoring.stdout
    scored = pd.read_csv(latest(project / "data/07_model_output/scored_customers.csv"))
    assert scored["segment_name"].notna().all() and len(scored) > 0
    record = read_json(project / "data/08_reporting/run_record.json")
    assert (
        record["pipelines"] == ["scoring"] and record["read_versions"]["segment_model"] == runs[1]
    )

    # a default run logs no warning, one record per line, whatever the terminal's width
    lines = third.stdout.splitlines()
    assert not [line for line in lines if not LOG_LINE.match(line)]
    assert max(len(line) for line in lines) > 120

    listed = kedro(project, "registry", "list").stdout
    for name in ("customer_table", "order_log", "customer_features", "order_log.scoring"):
        assert f"- {name}\n" in listed


def health(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/health", timeout=30) as response:
        return json.load(response)


def test_a_stopped_run_stays_invisible_and_the_service_follows_complete_runs(ran_copy, tmp_path):
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
        models = project / "data/06_models/segment_model.pkl"
        deadline = time.monotonic() + 300
        while not (len(versions(models)) == 2 and latest(models).exists()):
            assert run.poll() is None and time.monotonic() < deadline, run.stdout.read()
            time.sleep(0.05)
        run.send_signal(signal.SIGTERM)  # right after the new model is saved
        output, _ = run.communicate(timeout=120)
        assert run.returncode != 0
        assert "RunInterrupted: the run was stopped by SIGTERM" in output
        assert "Traceback" not in output

        assert complete_runs(project) == [first]  # the stopped run wrote no record
        assert not (project / "data/.run.lock").exists()
        killed = mlflow.search_runs(
            experiment_names=["customer_segmentation"],
            filter_string=f"attributes.start_time >= {int(started)}",
        )
        assert set(killed["status"]) == {"FAILED"}

        scoring = kedro(project, "run", "--pipelines", "scoring")
        assert f"segment_model {first}" in scoring.stdout
        assert f"segment_profiles {first}" in scoring.stdout
        scored = pd.read_csv(latest(project / "data/07_model_output/scored_customers.csv"))
        assert scored["segment_name"].notna().all() and scored["segment_id"].max() == 5
        assert RunOutputs(project).run_versions() == [first]
        assert health(url)["model_version"] == first

        kedro(project, "run", "--params", four)  # completes: the newest complete run from now on
        newest = RunOutputs(project).run_versions()[0]
        assert newest not in (first, versions(models)[1].name)
        deadline = time.monotonic() + 120
        while health(url)["model_version"] != newest:
            assert time.monotonic() < deadline, "the service never served the new run"
            time.sleep(0.5)
        assert len(health(url)["segments"]) == 4


def test_a_second_run_in_one_environment_stops_at_once_another_environment_runs(ran_copy):
    project = ran_copy
    first = start_kedro(project, "run", "--params", FAST)
    lock = project / "data/.run.lock"
    deadline = time.monotonic() + 120
    while not lock.exists():
        assert first.poll() is None and time.monotonic() < deadline, first.stdout.read()
        time.sleep(0.05)
    second = kedro(project, "run", "--pipelines", "data_processing", check=False)
    log = second.stdout + second.stderr
    assert second.returncode != 0
    assert "RunInProgressError: Another run is writing the environment 'local'" in log
    assert f"pid {first.pid}" in log and "Traceback" not in log
    # another environment has its own data root: it runs meanwhile
    kedro(project, "run", "--env", "cards", "--pipelines", "data_processing")
    output, _ = first.communicate(timeout=300)
    assert first.returncode == 0, output
    assert len(complete_runs(project)) == 2 and not lock.exists()
    assert len(complete_runs(project, "data/cards")) == 1
