"""The declared column schema: read and check it once; every pipeline asks it.

A user describes their customer table in `data_processing.columns` (one entry per column) and chooses
the clustering features in `data_processing.features`; nothing in the code names a column of the
default data. `schema_from_params` turns those parameters into a `Schema` or stops with a
`DataValidationError` that names the parameter and the allowed values.

```yaml
columns:
  - {name: customer_id, role: id, source: [CustomerID]}
  - name: balance                # the standard name used everywhere after data_processing
    role: numeric                # id | numeric | categorical
    source: [BALANCE, Balance]   # header(s) in the file; default: the name itself
    label: balance               # words for plots, names and the report; default: the name
    unit: $                      # optional, shown in axis labels
    range: {min: 0, max: null}   # numeric: values outside are quarantined
    missing: quarantine          # impute_median | impute_mode | quarantine (numeric)
  - name: card_tier
    role: categorical
    source: [CARD_TIER]
    values: {gold: Gold, classic: Classic}  # accepted spellings -> canonical value; {} accepts any
    missing: impute_mode         # impute_mode | quarantine | keep (an explicit "Unknown" category)
    missing_tokens: [n.a.]       # more text meaning "no value" in this column (see PLACEHOLDERS)
```

Text that exports write for "no value" (`PLACEHOLDERS`, compared trimmed and case-insensitively) is
a missing value in every declared column; an id of `0` is one too. A column's `missing_tokens` adds
to the list; a spelling the column declares in `values` is never a placeholder for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from customer_segmentation.errors import DataValidationError

ROLES = ("id", "numeric", "categorical")
# What spreadsheets, BI tools and databases write into an export for "no value": read as missing in
# every declared column and in the order log's customer id and country (compared trimmed, ignoring
# case). README: "Placeholder values".
PLACEHOLDERS = (
    "(blank)", "null", "na", "n/a", "#n/a", "#na", "<na>", "-", "none", "nan", "unknown", "guest",
)  # fmt: skip
# ... and for ids only: an id of 0 is "no customer" in many exports (in a numeric column it is a value).
ID_PLACEHOLDERS = ("0",)


def placeholder_tokens(role: str, extra: Any = (), spellings: Mapping[str, str] | None = None):
    """The placeholder tokens of a column with `role` (lower case, trimmed): the project's list, the
    column's own `extra` tokens, less any spelling it declares as a value."""
    extra = [extra] if isinstance(extra, str) else list(extra or [])
    tokens = {*PLACEHOLDERS, *(ID_PLACEHOLDERS if role == "id" else ()), *extra}
    tokens = {str(t).strip().casefold() for t in tokens} - set(spellings or {})
    return sorted(tokens)


TRANSFORMS = ("none", "log1p", "yeo-johnson")
MISSING_POLICIES = {
    "id": ("quarantine",),
    "numeric": ("impute_median", "impute_mode", "quarantine"),
    "categorical": ("impute_mode", "quarantine", "keep"),
}
DEFAULT_MISSING = {"id": "quarantine", "numeric": "quarantine", "categorical": "quarantine"}
UNKNOWN_CATEGORY = "Unknown"
# Columns the project adds; a source header with one of these names would be overwritten.
RESERVED_COLUMNS = (
    "source_line", "reason", "step", "segment_id", "segment_name", "distance_to_centroid",
)  # fmt: skip


@dataclass(frozen=True)
class Column:
    """One declared column: its standard name, role, source headers, words, and rules."""

    name: str
    role: str
    source: tuple[str, ...]
    label: str
    unit: str | None = None
    required: bool = True
    min: float | None = None
    max: float | None = None
    values: dict[str, str] = field(default_factory=dict)
    missing: str = "quarantine"
    missing_tokens: tuple[str, ...] = ()

    @property
    def placeholders(self) -> list[str]:
        """Text read as a missing value in this column (`placeholder_tokens`)."""
        return placeholder_tokens(self.role, self.missing_tokens, self.values)

    @property
    def axis_label(self) -> str:
        """'balance ($)': the label with its unit, for plot axes and tables."""
        return f"{self.label} ({self.unit})" if self.unit else self.label

    @property
    def has_range(self) -> bool:
        return self.min is not None or self.max is not None

    @property
    def canonical_values(self) -> list[str]:
        """The allowed categories (sorted), or [] when any value is accepted."""
        return sorted(set(self.values.values()))


@dataclass(frozen=True)
class Schema:
    """The declared columns (in declaration order), the clustering features and their transforms."""

    columns: tuple[Column, ...]
    features: tuple[str, ...]
    transforms: dict[str, str]

    @property
    def id_column(self) -> str:
        return next(c.name for c in self.columns if c.role == "id")

    @property
    def numeric(self) -> list[str]:
        return [c.name for c in self.columns if c.role == "numeric"]

    @property
    def categorical(self) -> list[str]:
        return [c.name for c in self.columns if c.role == "categorical"]

    @property
    def numeric_features(self) -> list[str]:
        return [f for f in self.features if f in self.numeric]

    @property
    def categorical_features(self) -> list[str]:
        return [f for f in self.features if f in self.categorical]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def label(self, name: str) -> str:
        """The human label of a declared column (its name for anything else)."""
        return self.column(name).label if name in self.names else name

    def axis_label(self, name: str) -> str:
        """The label with its unit, e.g. 'balance ($)' (the name for undeclared columns)."""
        return self.column(name).axis_label if name in self.names else name

    def transform(self, feature: str) -> str:
        return self.transforms.get(feature, "none")

    def source_mapping(self) -> dict[str, str]:
        """Source header (trimmed) -> standard name, for every declared column."""
        return {header: c.name for c in self.columns for header in c.source}

    def present_in(self, columns: list[str]) -> Schema:
        """The schema of a table with these columns: optional declared columns it lacks left out."""
        kept = tuple(c for c in self.columns if c.name in columns or c.required)
        return Schema(columns=kept, features=self.features, transforms=self.transforms)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the `column_schema` dataset); `schema_from_dict` reads it back."""
        return {
            "columns": [{**asdict(c), "source": list(c.source)} for c in self.columns],
            "features": list(self.features),
            "transforms": dict(self.transforms),
        }


def per_column(entries: Any) -> dict[str, dict[str, Any]]:
    """Per-column settings written as a list of `{column: <name>, ...}` (a list, so an environment's
    list replaces the base one instead of merging into it) as {name: settings}; a mapping
    {name: settings} is taken as it is."""
    if isinstance(entries, Mapping):
        return {str(k): dict(v) for k, v in entries.items()}
    return {
        str(entry["column"]): {k: v for k, v in entry.items() if k != "column"}
        for entry in entries or []
    }


def schema_from_dict(document: Mapping[str, Any]) -> Schema:
    """A Schema from its `to_dict` form (already checked when it was written)."""
    return Schema(
        columns=tuple(
            Column(
                **{
                    **c,
                    "source": tuple(c["source"]),
                    "missing_tokens": tuple(c.get("missing_tokens", ())),
                }
            )
            for c in document["columns"]
        ),
        features=tuple(document["features"]),
        transforms=dict(document["transforms"]),
    )


def _fail(parameter: str, expected: str, found: object) -> DataValidationError:
    return DataValidationError(
        f"parameter data_processing.{parameter}: expected {expected}, found {found!r}"
    )


def _column(position: int, entry: Any) -> Column:
    where = f"columns[{position}]"
    if not isinstance(entry, Mapping) or not entry.get("name"):
        raise _fail(where, "a mapping with at least 'name' and 'role'", entry)
    name = str(entry["name"])
    where = f"columns[{position}] ({name})"
    known = {
        "name", "role", "source", "label", "unit", "required", "range", "values", "missing",
        "missing_tokens",
    }  # fmt: skip
    unknown = sorted(set(entry) - known)
    if unknown:
        raise _fail(f"{where}", f"only the keys {', '.join(sorted(known))}", unknown)
    role = entry.get("role")
    if role not in ROLES:
        raise _fail(f"{where}.role", f"one of {', '.join(ROLES)}", role)
    source = entry.get("source") or [name]
    source = [source] if isinstance(source, str) else list(source)
    missing = entry.get("missing") or DEFAULT_MISSING[role]
    if missing not in MISSING_POLICIES[role]:
        raise _fail(
            f"{where}.missing",
            f"one of {', '.join(MISSING_POLICIES[role])} for a {role} column",
            missing,
        )
    bounds = entry.get("range") or {}
    if bounds and role != "numeric":
        raise _fail(f"{where}.range", "a range on numeric columns only", bounds)
    if not isinstance(bounds, Mapping) or set(bounds) - {"min", "max"}:
        raise _fail(f"{where}.range", "{min: <number or null>, max: <number or null>}", bounds)
    low, high = bounds.get("min"), bounds.get("max")
    for bound in (low, high):
        if bound is not None and not isinstance(bound, int | float):
            raise _fail(f"{where}.range", "numbers or null", bounds)
    if low is not None and high is not None and low > high:
        raise _fail(f"{where}.range", "min ≤ max", bounds)
    values = entry.get("values") or {}
    if values and role != "categorical":
        raise _fail(f"{where}.values", "accepted spellings on categorical columns only", values)
    return Column(
        name=name,
        role=role,
        source=tuple(str(s).strip() for s in source),
        label=str(entry.get("label") or name),
        unit=None if entry.get("unit") is None else str(entry["unit"]),
        required=bool(entry.get("required", True)),
        min=None if low is None else float(low),
        max=None if high is None else float(high),
        values={str(k).strip().casefold(): str(v) for k, v in values.items()},
        missing=missing,
        missing_tokens=tuple(_tokens(f"{where}.missing_tokens", entry.get("missing_tokens"))),
    )


def _tokens(where: str, tokens: Any) -> list[str]:
    """A column's extra placeholder tokens: a list of texts (or one text)."""
    tokens = [] if tokens is None else [tokens] if isinstance(tokens, str) else tokens
    if not isinstance(tokens, list | tuple) or not all(isinstance(t, str | int) for t in tokens):
        raise _fail(where, "a list of texts", tokens)
    return [str(t).strip() for t in tokens]


def schema_from_params(params: Mapping[str, Any]) -> Schema:
    """Check `columns`, `features` and `transforms` of the data_processing parameters; return the Schema."""
    entries = params.get("columns")
    if not entries or not isinstance(entries, list | tuple):
        raise _fail("columns", "a non-empty list of column declarations (see README)", entries)
    columns = tuple(_column(i, entry) for i, entry in enumerate(entries))
    names = [c.name for c in columns]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise _fail("columns", "each column declared once", f"repeated: {', '.join(repeated)}")
    reserved = [n for n in names if n in RESERVED_COLUMNS]
    if reserved:
        raise _fail("columns", f"names other than {', '.join(RESERVED_COLUMNS)}", reserved)
    ids = [c.name for c in columns if c.role == "id"]
    if len(ids) != 1:
        raise _fail("columns", "exactly one column with role: id", ids or "no id column")
    headers = [h for c in columns for h in c.source]
    shared = sorted({h for h in headers if headers.count(h) > 1})
    if shared:
        raise _fail("columns", "each source header mapped to one column", shared)
    usable = [c.name for c in columns if c.role != "id"]
    features = params.get("features")
    features = [features] if isinstance(features, str) else list(features or [])
    unknown = [f for f in features if f not in usable]
    if not features or unknown or len(set(features)) != len(features):
        raise DataValidationError(
            "parameter data_processing.features: expected a non-empty list (no repeats) drawn from "
            f"the declared numeric and categorical columns ({', '.join(usable)}), found {features!r}"
            + (f" (not declared: {', '.join(unknown)})" if unknown else "")
        )
    transforms = dict(params.get("transforms") or {})
    numeric = {c.name for c in columns if c.role == "numeric"}
    numeric_features = [f for f in features if f in numeric]
    for feature, transform in transforms.items():
        if transform not in TRANSFORMS:
            raise _fail(f"transforms.{feature}", f"one of {', '.join(TRANSFORMS)}", transform)
        if feature not in numeric_features:
            raise _fail(
                f"transforms.{feature}",
                f"a numeric feature ({', '.join(numeric_features) or 'none declared'})",
                feature,
            )
    return Schema(columns=columns, features=tuple(features), transforms=transforms)
