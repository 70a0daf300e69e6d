"""Row-level checks of standardised customers: numeric coercion, gender spelling, pandera ranges.

Each check returns the reasons per failing row, so the node can quarantine rows instead of dropping them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pandera.pandas as pa

NUMERIC_COLUMNS = ("age", "annual_income_k", "spending_score")


def normalise_gender(gender: pd.Series, spellings: dict[str, str]) -> pd.Series:
    """Map spellings ("F", "female ", "MALE") to canonical values; unknown spellings keep their text."""
    key = gender.astype("string").str.strip().str.casefold()
    canonical = key.map({str(k).casefold(): v for k, v in spellings.items()})
    return canonical.where(canonical.notna(), gender.astype("string").str.strip()).astype(object)


def coerce_numeric(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse text as numbers; return (numbers with NaN for blanks and non-numbers, mask of non-numbers)."""
    text = values.astype("string").str.strip()
    numbers = pd.to_numeric(text, errors="coerce").astype(float)
    not_numeric = text.notna() & (text != "") & numbers.isna()
    return numbers, not_numeric.fillna(False).astype(bool)


def build_schema(params: dict[str, Any], columns: list[str]) -> pa.DataFrameSchema:
    """Pandera schema for the typed columns present: ranges from `valid_ranges`, allowed genders."""
    checks: dict[str, pa.Column] = {}
    for column in NUMERIC_COLUMNS:
        if column not in columns:
            continue
        bounds = params["valid_ranges"][column]
        column_checks = []
        if bounds.get("min") is not None:
            column_checks.append(pa.Check.ge(bounds["min"]))
        if bounds.get("max") is not None:
            column_checks.append(pa.Check.le(bounds["max"]))
        checks[column] = pa.Column(float, column_checks, nullable=True)
    if "gender" in columns:
        allowed = sorted(set(params["gender_values"].values()))
        checks["gender"] = pa.Column(object, pa.Check.isin(allowed), nullable=True)
    return pa.DataFrameSchema(checks, strict=False)


def describe_range(bounds: dict[str, Any]) -> str:
    """'between 0 and 120', 'at least 0' or 'at most 100'."""
    low, high = bounds.get("min"), bounds.get("max")
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    return f"at least {low:g}" if low is not None else f"at most {high:g}"


def schema_failures(customers: pd.DataFrame, params: dict[str, Any]) -> dict[object, list[str]]:
    """Run the pandera schema lazily; return {row label: [reason, ...]} for every failing row."""
    schema = build_schema(params, list(customers.columns))
    try:
        schema.validate(customers, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return _reasons_from_failure_cases(errors.failure_cases, params)
    return {}


def _reasons_from_failure_cases(
    cases: pd.DataFrame, params: dict[str, Any]
) -> dict[object, list[str]]:
    reasons: dict[object, list[str]] = {}
    allowed = ", ".join(sorted(set(params["gender_values"].values())))
    for case in cases.dropna(subset=["index"]).itertuples():
        if case.column == "gender":
            reason = f"gender not one of {allowed}"
        else:
            reason = f"{case.column} not {describe_range(params['valid_ranges'][case.column])}"
        row_reasons = reasons.setdefault(case.index, [])
        if reason not in row_reasons:
            row_reasons.append(reason)
    return reasons
