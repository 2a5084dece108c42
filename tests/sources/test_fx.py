"""FX: the ECB client against its emulator, parsing real-format CSV, gap filling in dbt."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest

from pipelines.connectors import fx, pipeline
from pipelines.connectors.framework import Window
from pipelines.connectors.fx import first_rate_day
from sources.ecb import EcbClient, parse_rates_csv
from sources.emulators.ecb import BASE_RATES, rate
from sources.http import SchemaError

# The shape the ECB Data Portal returns for format=csvdata (columns trimmed to the ones that matter
# plus a few of the attribute columns that follow them).
REAL_FORMAT = """KEY,FREQ,CURRENCY,CURRENCY_DENOM,EXR_TYPE,EXR_SUFFIX,TIME_PERIOD,OBS_VALUE,OBS_STATUS,OBS_CONF
EXR.D.USD.EUR.SP00.A,D,USD,EUR,SP00,A,2025-03-03,1.0465,A,F
EXR.D.USD.EUR.SP00.A,D,USD,EUR,SP00,A,2025-03-04,1.0557,A,F
EXR.D.NOK.EUR.SP00.A,D,NOK,EUR,SP00,A,2025-03-03,11.7085,A,F
"""


def test_rates_csv_is_parsed_by_header_with_decimal_values() -> None:
    rows = parse_rates_csv(REAL_FORMAT)
    assert rows[0] == {
        "currency": "USD",
        "rate_date": date(2025, 3, 3),
        "units_per_eur": Decimal("1.0465"),
    }
    assert {r["currency"] for r in rows} == {"USD", "NOK"}


def test_a_csv_without_the_observation_columns_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="OBS_VALUE"):
        parse_rates_csv("KEY,CURRENCY,TIME_PERIOD\nx,USD,2025-03-03\n")


def test_the_client_fetches_several_currencies_in_one_request_and_skips_euro(stack) -> None:
    client = EcbClient(stack.server.base_url)
    rows = client.rates(["usd", "NOK", "EUR"], date(2025, 3, 1), date(2025, 3, 9))
    assert stack.server.count(r"/service/data/EXR/") == 1
    days = sorted({r["rate_date"] for r in rows})
    assert date(2025, 3, 1) not in days and date(2025, 3, 8) not in days  # weekends
    assert len(days) == 5
    usd = {r["rate_date"]: r["units_per_eur"] for r in rows if r["currency"] == "USD"}
    assert float(usd[date(2025, 3, 3)]) == rate("USD", date(2025, 3, 3))


def test_no_published_rates_is_an_empty_answer_not_an_error(stack) -> None:
    client = EcbClient(stack.server.base_url)
    assert client.rates(["USD"], date(2025, 3, 8), date(2025, 3, 9)) == []  # a weekend: 404
    assert client.rates(["EUR"], date(2025, 3, 3), date(2025, 3, 4)) == []  # nothing to fetch


def test_a_bad_currency_code_is_rejected_naming_it(stack) -> None:
    with pytest.raises(SchemaError, match="'US DOLLAR'"):
        EcbClient(stack.server.base_url).rates(["US DOLLAR"], date(2025, 3, 3), date(2025, 3, 4))


def test_rates_are_fetched_from_the_start_of_the_windows_week_and_month_plus_a_carry_week() -> None:
    # Tue 2025-03-11: its ISO week starts Mon 03-10, its month on Sat 03-01 (the earlier one)
    assert first_rate_day(date(2025, 3, 11)) == date(2025, 2, 22)
    # Mon 2025-06-02: its ISO week starts that day, its month on Sun 06-01
    assert first_rate_day(date(2025, 6, 2)) == date(2025, 5, 25)
    # Thu 2025-05-01: the week (Mon 04-28) starts before the month
    assert first_rate_day(date(2025, 5, 1)) == date(2025, 4, 21)


def test_an_empty_currency_key_returns_every_published_currency_in_one_request(stack) -> None:
    client = EcbClient(stack.server.base_url)
    before = stack.server.count(r"/service/data/EXR/")
    rows = client.all_rates(date(2025, 3, 3), date(2025, 3, 4))
    assert stack.server.count(r"/service/data/EXR/") - before == 1
    assert {r["currency"] for r in rows} == set(BASE_RATES)
    key = lambda r: (r["currency"], r["rate_date"])  # noqa: E731
    asked = client.rates(sorted(BASE_RATES), date(2025, 3, 3), date(2025, 3, 4))
    assert sorted(rows, key=key) == sorted(asked, key=key)


def test_fx_lands_every_currency_from_the_first_rate_day_without_the_warehouse(
    stack, tmp_path
) -> None:
    config = fx.SOURCE.config({"FX_BASE_URL": stack.server.base_url})
    window = Window(date(2025, 3, 11), date(2025, 3, 12))
    landed = pipeline.extract(fx.SOURCE, config, window, "run", root=tmp_path)
    rows = pa.concat_tables(landed.batches("rates")).to_pylist()
    assert {r["currency"] for r in rows} == set(BASE_RATES)
    days = sorted({r["rate_date"] for r in rows})
    # first_rate_day is Sat 02-22: the first publication day after it is Mon 02-24
    assert (days[0], days[-1]) == (date(2025, 2, 24), date(2025, 3, 11))
    assert all(r["_partition_date"] == r["rate_date"] for r in rows)
