"""The segment explorer: `make app`, then http://127.0.0.1:8501 (README: Segment explorer).

A Streamlit app over what `kedro run` saved, read through the Data Catalog of the environment picked in
the sidebar (`make app ENV=cards` preselects one), at the newest run or a run version picked there.

Pages: the segments as cards; one segment (profile, plots, a searchable and sortable customer table,
"Download CSV" of its customers); how k was chosen; scoring an uploaded CSV or Excel file with the
saved model and the scoring pipeline's own validation; and, where they were saved, the comparison of
algorithms and of tracked runs, the drift of the last scored batch and the segment migration.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from customer_segmentation.app import charts
from customer_segmentation.app.outputs import NoRunYet, RunOutputs, quiet_runner_logs
from customer_segmentation.errors import DataValidationError
from customer_segmentation.exports import safe_frame
from customer_segmentation.schema import schema_from_dict

SEGMENTED = "segmented_customers_parquet"
WORKBOOK = "segments_workbook"  # not saved by the Spark environments
WHOLE_RUN_FIGURES = ("segment_sizes_plot", "profile_heatmap_plot", "segment_scatter_plot")
# every figure's caption in words (a figure not listed is captioned by its name in words)
CAPTIONS = {
    "segment_sizes_plot": "Customers per segment",
    "profile_heatmap_plot": "Each segment against everyone, column by column (z-scores)",
    "segment_scatter_plot": "The customers on two columns, coloured by segment",
    "elbow_plot": "Within-segment spread (WCSS) by number of segments, with the bend",
    "k_scores_plot": "Every criterion by number of segments; the chosen number marked",
}


def caption(name: str) -> str:
    return CAPTIONS.get(name, name.removesuffix("_plot").replace("_", " ").capitalize())


def arguments() -> argparse.Namespace:
    """`streamlit run explorer.py -- --env cards --project path` (both optional)."""
    parser = argparse.ArgumentParser(prog="explorer")
    parser.add_argument("--env", default=None)
    parser.add_argument("--project", default=".")
    return parser.parse_known_args(sys.argv[1:])[0]


@st.cache_resource(show_spinner="Reading the run through the Kedro Data Catalog ...")
def open_run(project: str, env: str, version: str | None) -> RunOutputs:
    quiet_runner_logs()
    return RunOutputs(project, env=env, version=version)


@st.cache_data(show_spinner=False)
def load(_outputs: RunOutputs, name: str, key: tuple[str, str]) -> object:
    """A saved dataset, read once per (environment, run version)."""
    return _outputs.load(name)


@st.cache_data(show_spinner=False)
def workbook(_outputs: RunOutputs, key: tuple[str, str]) -> bytes:
    """The run's segments.xlsx, byte for byte as the catalog saved it."""
    return _outputs.file_bytes(WORKBOOK)


def read(outputs: RunOutputs, name: str) -> object:
    return load(outputs, name, (outputs.env, outputs.version))


def environments(project: Path) -> list[str]:
    found = sorted(p.name for p in (project / "conf").iterdir() if p.is_dir() and p.name != "base")
    return ["local", *(name for name in found if name != "local")]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def profile_table(outputs: RunOutputs, segment: pd.Series) -> pd.DataFrame:
    """The segment against the population, one row per numeric feature."""
    population = read(outputs, "segment_profiles_json")["population"]["mean"]
    rows = [
        {
            "feature": feature,
            "segment mean": segment[f"mean_{feature}"],
            "population mean": population.get(feature),
            "difference": segment[f"diff_{feature}"],
            "z (difference in population SDs)": segment[f"z_{feature}"],
        }
        for feature in (c.removeprefix("z_") for c in segment.index if c.startswith("z_"))
    ]
    return pd.DataFrame(rows)


def z_chart(outputs: RunOutputs, segment: pd.Series) -> None:
    """The segment's profile as z-scores, on the x range every card shares, bars labelled."""
    schema = schema_from_dict(read(outputs, "column_schema"))
    chart = charts.z_chart(outputs.segment_profiles, int(segment["segment_id"]), schema)
    st.altair_chart(chart, width="stretch")


def overview(outputs: RunOutputs) -> None:
    profiles = outputs.segment_profiles
    st.title("Customer segments")
    selection = read(outputs, "k_selection")
    left, right = st.columns(2)
    left.metric("Customers", f"{int(profiles['size'].sum()):,}")
    right.metric("Segments", len(profiles))
    st.caption(f"{selection.get('reason', '')} Run {outputs.version}, environment {outputs.env}.")
    columns = st.columns(2)
    for position, (_, segment) in enumerate(profiles.iterrows()):
        with columns[position % 2].container(border=True, key=f"card_{segment['segment_id']}"):
            st.subheader(f"{segment['segment_id']} · {segment['segment_name']}")
            size, share = st.columns(2)
            size.metric("Customers", f"{int(segment['size']):,}")
            share.metric("Share", f"{segment['share']:.1%}")
            st.markdown(f"**Suggested action:** {segment['suggested_action']}")
            st.caption("Profile against everyone (the same scale on every card)")
            z_chart(outputs, segment)
            if st.button("Open segment", key=f"open_{segment['segment_id']}"):
                st.session_state["segment_id"] = int(segment["segment_id"])
                st.switch_page(PAGES["segment"])
    if outputs.exists(WORKBOOK):
        st.download_button(
            "Download segments.xlsx",
            workbook(outputs, (outputs.env, outputs.version)),
            file_name="segments.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            help="A summary sheet, one sheet per segment with its customers, and the profiles: "
            "for the CRM or a colleague",
        )
    for name in WHOLE_RUN_FIGURES:
        if outputs.exists(name):
            st.image(read(outputs, name), caption=caption(name))


def segment_page(outputs: RunOutputs) -> None:
    profiles = outputs.segment_profiles.set_index("segment_id")
    ids = list(profiles.index)
    chosen = st.session_state.get("segment_id", ids[0])
    segment_id = st.selectbox(
        "Segment",
        ids,
        index=ids.index(chosen) if chosen in ids else 0,
        format_func=lambda i: f"{i} · {profiles.loc[i, 'segment_name']}",
    )
    st.session_state["segment_id"] = segment_id
    segment = profiles.loc[segment_id]
    st.title(segment["segment_name"])
    st.markdown(
        f"**{int(segment['size']):,} customers ({segment['share']:.1%})** · "
        f"Suggested action: {segment['suggested_action']}"
    )
    profile = profile_table(outputs, segment)
    schema = schema_from_dict(read(outputs, "column_schema"))
    st.dataframe(charts.readable(profile, schema), hide_index=True)
    customers = read(outputs, SEGMENTED)
    members = customers[customers["segment_id"] == segment_id]
    numeric = [c for c in profile["feature"] if c in members]
    if numeric:
        st.subheader("Distributions: this segment against everyone")
        feature = st.radio("Feature", numeric, horizontal=True)
        bins = pd.cut(customers[feature], 20)
        both = pd.concat(
            {
                "this segment": bins[members.index].value_counts(normalize=True, sort=False),
                "everyone": bins.value_counts(normalize=True, sort=False),
            },
            axis=1,
        )
        both.index = [round(interval.mid, 1) for interval in both.index]
        st.bar_chart(both, stack=False, height=260, x_label=feature, y_label="share of customers")
    st.subheader("Customers")
    query = st.text_input("Search (any column contains)", key="search")
    shown = members
    if query:
        text = members.astype(str)
        hit = text.apply(lambda column: column.str.contains(query, case=False, regex=False))
        shown = members[hit.any(axis=1)]
    st.dataframe(shown, hide_index=True)
    st.download_button(
        "Download CSV",
        safe_frame(shown).to_csv(index=False).encode("utf-8"),  # no cell runs as a formula
        file_name=f"segment_{segment_id}_{slug(segment['segment_name'])}.csv",
        mime="text/csv",
        help="This segment's customers (as filtered by the search) for a campaign",
    )
    # last on the page: once it shows the new count, the table and the download above are updated
    st.caption(f"{len(shown):,} of {len(members):,} customers; click a column header to sort.")


def k_page(outputs: RunOutputs) -> None:
    selection = read(outputs, "k_selection")
    st.title(f"How k = {selection['k']} was chosen")
    st.info(selection.get("reason", ""))
    picks = selection.get("picks", {})
    if picks:
        verdicts = selection.get("criteria") or {}
        rows = []
        for criterion, k in picks.items():
            verdict = verdicts.get(criterion, {})
            rows.append(
                {
                    "criterion": criterion.replace("_", " "),
                    "best k": k,
                    "runner-up": verdict.get("runner_up"),
                    "noise (±1 s.e.)": verdict.get("noise"),
                    "vote": "votes" if verdict.get("decides", k is not None) else "abstains",
                }
            )
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    for name in ("elbow_plot", "k_scores_plot"):
        if outputs.exists(name):
            st.image(read(outputs, name), caption=caption(name))
    if outputs.exists("k_metrics"):
        st.dataframe(read(outputs, "k_metrics"), hide_index=True)


def score_page(outputs: RunOutputs) -> None:
    st.title("Score new customers")
    st.markdown(
        "Upload a CSV or Excel file of new customers with the columns the model was trained on. "
        "It is checked like `kedro run --pipelines scoring` checks a file; nothing is saved."
    )
    upload = st.file_uploader("Customer file", type=["csv", "xlsx"])
    if upload is None:
        return
    try:
        raw = outputs.read_upload(upload.name, upload.getvalue())
        result = outputs.score(raw, upload.name)
    except DataValidationError as error:
        st.error(f"{upload.name} cannot be scored:")
        st.code(str(error), language=None, wrap_lines=True)
        return
    st.success(result.quality.get("accounting", ""))
    st.subheader(f"Scored customers ({len(result.customers):,})")
    st.dataframe(result.customers, hide_index=True)
    st.download_button(
        "Download scored CSV",
        safe_frame(result.customers).to_csv(index=False).encode("utf-8"),
        file_name=f"scored_{Path(upload.name).stem}.csv",
        mime="text/csv",
    )
    if len(result.quarantine):
        st.subheader(f"Quarantined rows ({len(result.quarantine):,}), with reasons")
        st.dataframe(result.quarantine, hide_index=True)


def monitoring_page(outputs: RunOutputs) -> None:
    st.title("Comparisons and monitoring")
    shown = False
    if outputs.exists("algorithm_comparison"):
        shown = True
        st.subheader("Clustering algorithms compared")
        st.dataframe(read(outputs, "algorithm_comparison"), hide_index=True)
    if outputs.exists("experiment_comparison"):
        shown = True
        st.subheader("Tracked runs compared (`kedro run --pipelines experiments`)")
        st.dataframe(read(outputs, "experiment_comparison"), hide_index=True)
    if outputs.exists("drift_report"):
        shown = True
        drift = read(outputs, "drift_report")
        st.subheader(f"Drift of the last scored batch: {drift.get('status', '?')}")
        if outputs.exists("drift_plot"):
            st.image(read(outputs, "drift_plot"))
        with st.expander("drift_report.json"):
            st.json(drift)
    if outputs.exists("segment_migration_plot"):
        shown = True
        st.subheader("Since the previous segmentation")
        st.plotly_chart(read(outputs, "segment_migration_plot"))
    if not shown:
        st.info("Nothing saved yet: `kedro run --pipelines experiments` compares tracked runs.")


PAGES: dict[str, st.Page] = {}


def page(outputs: RunOutputs, render: Callable[[RunOutputs], None], title: str, path: str):
    return st.Page(lambda: render(outputs), title=title, url_path=path, default=path == "segments")


def main() -> None:
    st.set_page_config(page_title="Customer segments", layout="wide")
    args = arguments()
    project = Path(args.project).resolve()
    names = environments(project)
    env = st.sidebar.selectbox(
        "Environment", names, index=names.index(args.env) if args.env in names else 0
    )
    try:
        newest = open_run(str(project), env, None)
    except NoRunYet as error:
        st.title("No segments yet")
        st.warning(f"Nothing to explore for the environment '{env}' yet: run the workflow first.")
        st.code("make run" if env == "local" else f"kedro run --env {env}", language="bash")
        st.code(str(error), language=None, wrap_lines=True)
        st.stop()
    # the complete runs, listed afresh on every page view: a run that completed since shows up
    versions = newest.run_versions()
    version = st.sidebar.selectbox("Run version", versions, help="complete runs, newest first")
    outputs = newest if version == newest.version else open_run(str(project), env, version)
    st.sidebar.caption(f"Model: {outputs.version} · environment {outputs.env}")
    PAGES.update(
        segments=page(outputs, overview, "Segments", "segments"),
        segment=page(outputs, segment_page, "Segment", "segment"),
        k=page(outputs, k_page, "How k was chosen", "k"),
        score=page(outputs, score_page, "Score a file", "score"),
        monitoring=page(outputs, monitoring_page, "Comparisons and drift", "monitoring"),
    )
    st.navigation(list(PAGES.values())).run()


main()
