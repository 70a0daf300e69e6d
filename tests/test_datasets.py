"""The project's catalog datasets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, DatasetError, Version
from matplotlib.figure import Figure

from customer_segmentation.datasets import (
    FigureDataset,
    IndexedParquetDataset,
    RawCustomersDataset,
)
from customer_segmentation.errors import InputFileError
from tests.conftest import config_loader


def test_raw_customers_are_read_as_text(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("CustomerID,Age\n007,45k\n8,\n")
    frame = RawCustomersDataset(filepath=str(path)).load()
    assert frame["CustomerID"].tolist() == ["007", "8"]
    assert frame["Age"].iloc[0] == "45k" and frame["Age"].isna().iloc[1]


AWKWARD_EXPORT = (
    b"\xef\xbb\xbfCustomerID,Genre,Age,Note\r\n"  # byte-order mark, Windows line ends
    b'1,Female, 34 ,"a, b"\r\n'  # spaces kept, a quoted separator
    b"2,NA,null,\r\n"  # missing-value words: text here, missing by the schema's placeholder list
    b"\r\n"  # a blank line
    b'3,#N/A,N/A,"two\r\nlines"\r\n'
    b"4,  ,  ,None\r\n"
)


def test_the_columnar_reader_reads_what_the_default_parser_reads(tmp_path):
    """The pyarrow engine is used for speed; it must not change a single cell."""
    path = tmp_path / "export.csv"
    path.write_bytes(AWKWARD_EXPORT)
    columnar = RawCustomersDataset(filepath=str(path)).load()
    default = RawCustomersDataset(filepath=str(path), load_args={"engine": "c"}).load()
    pd.testing.assert_frame_equal(columnar, default)
    assert columnar["Age"].tolist()[0] == " 34 " and columnar["Note"].iloc[0] == "a, b"
    assert columnar["Genre"].tolist()[1:3] == ["NA", "#N/A"]  # the file's words, for the schema
    assert columnar["Note"].isna().tolist() == [False, True, False, False]  # only the empty cell


def test_options_the_columnar_reader_refuses_fall_back_to_the_default_parser(tmp_path):
    """Kedro-Viz previews a raw file with `nrows`, which the pyarrow engine does not take."""
    path = tmp_path / "export.csv"
    path.write_bytes(AWKWARD_EXPORT)
    preview = RawCustomersDataset(filepath=str(path)).preview(nrows=2)
    assert preview["data"][0] == ["1", "Female", " 34 ", "a, b"]
    assert len(preview["data"]) == 2 and preview["data"][1][:3] == ["2", "NA", "null"]
    assert pd.isna(preview["data"][1][3])


def test_indexed_parquet_keeps_a_text_index(tmp_path):
    ids = pd.Index(["007", "8", "C-12"], dtype="str", name="customer_id")
    features = pd.DataFrame({"income": [0.5, -1.0, 2.25], "score": np.zeros(3)}, index=ids)
    dataset = IndexedParquetDataset(filepath=str(tmp_path / "features.parquet"))
    dataset.save(features)
    pd.testing.assert_frame_equal(dataset.load(), features)


def test_empty_file_loads_as_an_empty_table(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert RawCustomersDataset(filepath=str(path)).load().columns.empty


def raw_entry(path, **load_args) -> DataCatalog:
    """A catalog with one raw customer entry, as conf/base/catalog_01_raw.yml declares it."""
    entry = {"type": "customer_segmentation.datasets.RawCustomersDataset", "filepath": str(path)}
    return DataCatalog.from_config({"customers_raw": {**entry, "load_args": load_args}})


def test_missing_file_says_where_it_was_looked_for(tmp_path):
    with pytest.raises(InputFileError, match=r"(?s)nowhere\.csv: no such file.*Your own customer"):
        raw_entry(tmp_path / "nowhere.csv")["customers_raw"].load()


def test_wrong_encoding_names_the_line_and_the_option(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("CustomerID,City\n1,Paris\n2,Zürich\n".encode("latin-1"))
    with pytest.raises(InputFileError) as error:
        raw_entry(path)["customers_raw"].load()
    message = str(error.value)
    assert message.startswith(f"{path}: the file is not valid utf-8 text.")
    assert "line 3, byte 4: b'\\xfc'" in message and "load_args: {encoding: cp1252}" in message
    assert isinstance(error.value, DatasetError)  # kedro passes it on unwrapped
    frame = raw_entry(path, encoding="latin-1")["customers_raw"].load()
    assert frame["City"].tolist() == ["Paris", "Zürich"]


def test_wrong_number_of_fields_names_the_line_and_the_separator(tmp_path):
    path = tmp_path / "fields.csv"
    path.write_text("CustomerID,Age\n1,30\n2,4,5\n")
    with pytest.raises(InputFileError, match=r"line 3 has 3 fields, the header has 2") as error:
        raw_entry(path)["customers_raw"].load()
    assert "line 3: '2,4,5'" in str(error.value) and "sep" in str(error.value)
    semicolons = tmp_path / "semicolons.csv"
    semicolons.write_text("CustomerID;Income\n1;45,5\n")
    frame = raw_entry(semicolons, sep=";")["customers_raw"].load()
    assert frame["Income"].tolist() == ["45,5"]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        # one field more on the first data line (an unquoted comma, a trailing comma): pandas would
        # take the first column as the index and shift every column
        ("CustomerID,Genre,Age\n1,Male,30,\n2,Female,40\n", "line 2 has 4 fields, the header has 3"),
        # a short line: pandas would pad it with blanks
        ("CustomerID,Genre,Age\n1,Male,30\n2,Female\n", "line 3 has 2 fields, the header has 3"),
        # after a blank line and a quoted line break, the line is still the file's own
        ('CustomerID,Genre,Age\n1,Male,30\n\n2,"Fe\nmale",40\n3,Male,50,x\n',
         "line 6 has 4 fields, the header has 3"),
    ],
)  # fmt: skip
def test_a_line_with_another_number_of_fields_is_named_never_shifted_or_padded(
    tmp_path, text, error
):
    path = tmp_path / "export.csv"
    path.write_text(text)
    with pytest.raises(InputFileError, match=error):
        raw_entry(path)["customers_raw"].load()


def test_rows_keep_the_physical_line_they_are_on(tmp_path, parameters):
    from customer_segmentation.pipelines.data_processing.nodes import (  # noqa: PLC0415
        standardise_columns,
    )

    path = tmp_path / "customers.csv"
    path.write_text(
        "CustomerID,Genre,Age,Annual Income (k$),Spending Score (1-100)\n"
        "1,Male,19,15,39\n"
        "\n"  # a blank line: line 3
        '2,"Fe\nmale",21,15,81\n'  # a quoted line break: lines 4 and 5
        "3,Female,35,70,50\n"  # line 6
    )
    raw = raw_entry(path)["customers_raw"].load()
    standardised = standardise_columns(raw, parameters["data_processing"])
    assert standardised["source_line"].tolist() == [2, 4, 6]


ORDER_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
ORDER_LINE = "1001,A,a,10,01/05/2025 10:00,2.00,1,United Kingdom\n"


def order_log_entry(path) -> DataCatalog:
    """The order log as conf/base/catalog_order_log.yml reads it, on an in-memory DuckDB."""
    entry = config_loader()["catalog"]["order_lines_raw"]
    entry = {**entry, "filepath": str(path), "connection": {"backend": "duckdb"}}
    return DataCatalog.from_config({"order_lines_raw": entry})


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        # one field more on the first data line: DuckDB would guess a one-column dialect
        ([ORDER_LINE.replace(",a,", ",a,x,"), ORDER_LINE], "line 2 has 9 fields, the header has 8"),
        # a short line: never padded into a "missing customer id"
        ([ORDER_LINE, "1002,B,b,1,01/05/2025 10:00,2.00\n", ORDER_LINE],
         "line 3 has 6 fields, the header has 8"),
        # beyond the rows DuckDB samples to detect the dialect: found while reading
        ([ORDER_LINE] * 30_000 + [ORDER_LINE.replace(",1,United", ",1,x,United")],
         "line 30002 has 9 fields, the header has 8"),
    ],
)  # fmt: skip
def test_an_order_log_line_with_another_number_of_fields_is_named(tmp_path, lines, error):
    path = tmp_path / "order_lines.csv"
    path.write_text(ORDER_HEADER + "".join(lines))
    with pytest.raises(InputFileError, match=error) as raised:
        order_log_entry(path)["order_lines_raw"].load()
    assert str(raised.value).startswith(f"{path}: ") and "load_args: {delim: ';'}" in str(
        raised.value
    )


def test_order_lines_keep_the_physical_line_they_are_on(tmp_path, parameters):
    from customer_segmentation.pipelines.customer_features.nodes import (  # noqa: PLC0415
        standardise_order_lines,
    )

    path = tmp_path / "order_lines.csv"
    path.write_text(
        ORDER_HEADER
        + ORDER_LINE  # line 2
        + "\n"  # a blank line: line 3
        + '1002,B,"two\nlines",1,01/05/2025 10:00,2.00,2,France\n'  # lines 4 and 5
        + "\n\n"  # lines 6 and 7
        + ORDER_LINE.replace("1001", "1003")  # line 8
    )
    raw = order_log_entry(path)["order_lines_raw"].load()
    lines = standardise_order_lines(raw, parameters["customer_features"]).to_pandas()
    assert lines["source_line"].tolist() == [2, 4, 8]
    assert lines["invoice"].tolist() == ["1001", "1002", "1003"]
    assert lines["description"].tolist()[1] == "two\nlines"
    plain = tmp_path / "plain.csv"  # no blank line: the positions are the lines, nothing re-read
    plain.write_text(ORDER_HEADER + ORDER_LINE * 3)
    raw = order_log_entry(plain)["order_lines_raw"].load()
    numbered = standardise_order_lines(raw, parameters["customer_features"]).to_pandas()
    assert numbered["source_line"].tolist() == [2, 3, 4]


def test_figure_dataset_saves_png_versions_and_loads_their_bytes(tmp_path):
    figure = Figure()
    figure.subplots().plot([1, 3, 2])
    dataset = FigureDataset(filepath=str(tmp_path / "a_plot.png"), version=Version(None, None))
    dataset.save(figure)
    png = dataset.load()
    assert png.startswith(b"\x89PNG")
    assert len(list((tmp_path / "a_plot.png").iterdir())) == 1
