"""Row-level checks of standardised customers against the declared schema.

Numeric coercion, categorical spellings and a pandera schema for ranges and allowed categories. Each
check returns the reasons per failing row, so the node can quarantine rows instead of dropping them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pandera
import pyarrow as pa
import pyarrow.compute as pc

from customer_segmentation.schema import Column, Schema


def normalise_categorical(values: pd.Series, spellings: dict[str, str]) -> pd.Series:
    """Map spellings ("F", "female ", "MALE") to canonical values; unknown spellings keep their text.

    Blank cells become missing. With no spellings declared every value is kept (trimmed). The
    spellings are looked up once per distinct value, so ten million rows of a few genders cost a
    factorisation, not ten million lookups. The result is pandas text.
    """
    codes, distinct = pd.factorize(values.astype("str"), use_na_sentinel=True)
    text = pd.Series(distinct, dtype="str").str.strip()
    if spellings:
        canonical = text.str.casefold().map(spellings)
        text = canonical.where(canonical.notna(), text)
    text = text.where(text != "")
    return pd.Series(text.array.take(codes, allow_fill=True), index=values.index, name=values.name)


def placeholder_mask(values: pd.Series, tokens: list[str]) -> pd.Series:
    """True where a cell's text, trimmed and in lower case, is one of the placeholder `tokens`
    (`schema.placeholder_tokens`): "(blank)", "N/A", "NULL", ... One columnar pass (Arrow)."""
    if not tokens or not len(values):
        return pd.Series(False, index=values.index)
    text = pa.array(values.astype("string"), from_pandas=True)
    folded = pc.utf8_lower(pc.utf8_trim_whitespace(text))
    found = pc.fill_null(pc.is_in(folded, value_set=pa.array(tokens, pa.string())), False)
    return pd.Series(found.to_numpy(zero_copy_only=False), index=values.index)


# Numbers larger than this are quarantined in every numeric column: beyond 2**53 (9.0e15) a double no
# longer holds every whole number, and a value of 1e200 would overflow the model's squared distances.
MAX_MAGNITUDE = 1e15


def magnitude_reason(column: str) -> str:
    return f"{column} out of range (magnitude above {MAX_MAGNITUDE:g})"


def coerce_numeric(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse text as numbers; return (numbers with NaN for blanks and non-numbers, mask of non-numbers).

    Infinite values ("inf", "1e999") count as non-numbers: no customer has an infinite income. A
    column whose every cell parses is converted in one columnar pass (Arrow); only a column with a
    cell that does not parse goes through the slower per-value parser, which finds those cells.
    """
    text = values.astype("string").str.strip()
    blank = text.isna() | (text == "")
    try:
        parsed = pc.cast(pa.array(text.where(~blank)), pa.float64())
        numbers = pd.Series(parsed.to_numpy(zero_copy_only=False), index=values.index)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        numbers = pd.to_numeric(text, errors="coerce").astype(float)
    not_numeric = (~blank & numbers.isna()) | np.isinf(numbers)
    return numbers.where(~np.isinf(numbers)), not_numeric.fillna(False).astype(bool)


def describe_range(column: Column) -> str:
    """'between 0 and 120', 'at least 0' or 'at most 100'."""
    if column.min is not None and column.max is not None:
        return f"between {column.min:g} and {column.max:g}"
    return f"at least {column.min:g}" if column.min is not None else f"at most {column.max:g}"


def failure_reason(column: Column) -> str:
    """The quarantine reason of a value that breaks the column's rule."""
    if column.role == "categorical":
        return f"{column.name} not one of {', '.join(column.canonical_values)}"
    return f"{column.name} not {describe_range(column)}"


def build_checks(schema: Schema, present: list[str]) -> pandera.DataFrameSchema:
    """Pandera schema for the declared columns present: numeric ranges, allowed categories."""
    checks: dict[str, pandera.Column] = {}
    for column in schema.columns:
        if column.name not in present:
            continue
        if column.role == "numeric" and column.has_range:
            rules = []
            if column.min is not None:
                rules.append(pandera.Check.ge(column.min))
            if column.max is not None:
                rules.append(pandera.Check.le(column.max))
            checks[column.name] = pandera.Column(float, rules, nullable=True)
        elif column.role == "categorical" and column.values:
            checks[column.name] = pandera.Column(
                "str", pandera.Check.isin(column.canonical_values), nullable=True
            )
    return pandera.DataFrameSchema(checks, strict=False)


def schema_failures(customers: pd.DataFrame, schema: Schema) -> dict[object, list[str]]:
    """Run the pandera checks lazily; return {row label: [reason, ...]} for every failing row."""
    checks = build_checks(schema, list(customers.columns))
    try:
        checks.validate(customers[list(checks.columns)], lazy=True)
    except pandera.errors.SchemaErrors as errors:
        reasons: dict[object, list[str]] = {}
        for case in errors.failure_cases.dropna(subset=["index"]).itertuples():
            reason = failure_reason(schema.column(case.column))
            row_reasons = reasons.setdefault(case.index, [])
            if reason not in row_reasons:
                row_reasons.append(reason)
        return reasons
    return {}
