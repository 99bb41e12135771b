"""Bad transaction files fail with file, row, column, value and expectation; nothing is half-read."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from critmin.pricing.reference_price import read_normalisation_csv
from critmin.pricing.transactions import (
    TransactionFileError,
    parse_transactions,
    read_fx_csv,
    read_transactions_csv,
)

HEADER = "date,material,stage,specification,volume_t,price,currency,incoterm,buyer,seller,reporter\n"
GOOD = "2026-06-01,gallium,refine,4N,2,400000,USD,CIF Rotterdam,b1,s1,A\n"
MATERIALS = {"gallium", "ndpr-oxide"}
AS_OF = date(2026, 6, 30)


def _err(body: str, **kw: object) -> TransactionFileError:
    with pytest.raises(TransactionFileError) as info:
        parse_transactions(HEADER + body, "deals.csv", materials=MATERIALS, as_of=AS_OF, **kw)  # type: ignore[arg-type]
    return info.value


@pytest.mark.parametrize(
    ("bad_row", "column", "value", "expected"),
    [
        ("2026-06-02,unobtainium,refine,4N,2,1,USD,FOB,b,s,B\n", "material", "unobtainium", "known material"),
        ("2026-06-02,gallium,refine,4N,-2,1,USD,FOB,b,s,B\n", "volume_t", "-2", "positive number of tonnes"),
        ("2026-06-02,gallium,refine,4N,2,1,,FOB,b,s,B\n", "currency", "", "3-letter"),
        ("2026-06-02,gallium,refine,4N,2,1,EUR,FOB,b,s,B\n", "currency", "EUR", "rate in the FX table"),
        ("2026-07-02,gallium,refine,4N,2,1,USD,FOB,b,s,B\n", "date", "2026-07-02", "on or before"),
        ("02/06/2026x,gallium,refine,4N,2,1,USD,FOB,b,s,B\n", "date", "02/06/2026x", "ISO date"),
        ("2026-06-02,gallium,refine,4N,2,abc,USD,FOB,b,s,B\n", "price", "abc", "positive price"),
        ("2026-06-02,gallium,refine,4N,2,1,USD,FOB,b,s,\n", "reporter", "", "non-empty reporter"),
    ],
)
def test_bad_rows_name_file_row_column_value(bad_row: str, column: str, value: str, expected: str) -> None:
    err = _err(GOOD + GOOD.replace("b1", "b2") + bad_row)
    assert (err.file, err.row, err.column, err.value) == ("deals.csv", 4, column, value)
    assert expected in err.expected
    assert f"deals.csv row 4, column {column}" in str(err)


def test_missing_column_and_extra_field() -> None:
    with pytest.raises(TransactionFileError, match="row 1, column reporter"):
        parse_transactions(HEADER.replace(",reporter", "") + "x\n", "f.csv", materials=MATERIALS, as_of=AS_OF)
    err = _err(GOOD.rstrip("\n") + ",extra\n")
    assert err.row == 2 and err.column == "(extra)"


def test_good_file_reads_all_rows_and_fx(tmp_path: Path) -> None:
    fx_file = tmp_path / "fx.csv"
    fx_file.write_text("currency,usd_per_unit\neur,1.08\n")
    fx = read_fx_csv(fx_file)
    assert fx.rate("EUR") == 1.08 and fx.rate("USD") == 1.0 and fx.rate("JPY") is None
    deals = tmp_path / "deals.csv"
    deals.write_text(HEADER + GOOD + GOOD.replace("USD", "EUR"))
    txs = read_transactions_csv(deals, materials=MATERIALS, as_of=AS_OF, fx=fx)
    assert [t.currency for t in txs] == ["USD", "EUR"] and txs[0].volume_t == 2


def test_bad_fx_and_differentials(tmp_path: Path) -> None:
    fx_file = tmp_path / "fx.csv"
    fx_file.write_text("currency,usd_per_unit\nEUR,-1\n")
    with pytest.raises(TransactionFileError, match=r"fx\.csv row 2, column usd_per_unit"):
        read_fx_csv(fx_file)
    diff = tmp_path / "diff.csv"
    diff.write_text("material,stage,kind,name,usd_per_t\ngallium,refine,grade,5N,-10\n")
    with pytest.raises(TransactionFileError, match=r"diff\.csv row 2, column kind"):
        read_normalisation_csv(diff)
    diff.write_text("material,stage,kind,name,usd_per_t\ngallium,refine,base,4N|CIF Rotterdam,\n")
    norm = read_normalisation_csv(diff)
    assert norm.base_for("gallium", "refine") is not None and norm.base_for("gallium", "mine") is None
