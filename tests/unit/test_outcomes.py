"""The outcomes computation (matching/outcomes.py) on small hand-made tables whose answers are known."""
from datetime import date

import pandas as pd
import pytest

from matching import outcomes
from matching.outcomes import county_report, labour_category, stratified_effect

TODAY = date(2026, 12, 1)
YEARS = 365 / 365.25  # 2020-12-31 to 2021-12-31 in years: changes are per year


def _effect(rows, **kwargs):
    """stratified_effect of (change, treated, stratum) rows."""
    frame = pd.DataFrame(rows, columns=["change", "treated", "stratum"])
    return stratified_effect(frame["change"], frame["treated"].astype(object), frame["stratum"], **kwargs)


def test_no_effect_gives_zero_with_an_interval_around_it():
    rows = [(500, True, "a"), (700, True, "a"), (500, False, "a"), (700, False, "a"), (600, False, "a"),
            (100, True, "b"), (300, False, "b"), (-100, False, "b")]
    result = _effect(rows)
    assert result["estimate"] == pytest.approx(0.0)
    assert result["low"] < 0 < result["high"]
    assert (result["partnered_n"], result["comparable_n"], result["strata_used"]) == (3, 5, 2)
    assert result["strata_without_comparables"] == 0 and result["partnered_left_out"] == 0


def test_a_positive_effect_is_the_treated_weighted_mean_of_the_strata_differences():
    rows = [(1100, True, "a"), (1300, True, "a"), (1200, True, "a"), (100, False, "a"), (300, False, "a"),
            (800, True, "b"), (400, False, "b"), (400, False, "b")]
    result = _effect(rows)
    # a: 1200 − 200 = 1000 with 3 partnered; b: 800 − 400 = 400 with 1: (3·1000 + 1·400) / 4
    assert result["estimate"] == pytest.approx(850.0)
    assert result["partnered_mean_change"] == pytest.approx((3 * 1200 + 800) / 4)
    assert result["comparable_mean_change"] == pytest.approx((3 * 200 + 400) / 4)
    assert result["low"] > 0 and result["low"] <= 850 <= result["high"]


def test_constant_differences_give_a_point_interval():
    rows = [(1000, True, "a"), (1000, True, "a"), (0, False, "a"), (0, False, "a")]
    result = _effect(rows, bootstrap=200)
    assert result["estimate"] == result["low"] == result["high"] == pytest.approx(1000.0)


def test_strata_without_comparables_are_left_out_and_counted():
    rows = [(900, True, "a"), (100, False, "a"), (5000, True, "lonely"), (7000, True, "lonely"),
            (50, None, "a")]  # neither partnered nor comparable: ignored
    result = _effect(rows)
    assert result["estimate"] == pytest.approx(800.0), "only stratum a counts"
    assert result["strata_without_comparables"] == 1 and result["partnered_left_out"] == 2
    assert result["partnered_n"] == 3 and result["comparable_n"] == 1
    assert result["small"], "fewer than five on either side"


def test_nothing_to_compare_gives_no_estimate():
    result = _effect([(100, False, "a")])
    assert result["estimate"] is None and result["low"] is None and result["partnered_n"] == 0


def test_labour_categories():
    assert labour_category([0, 1, 2, 5, None]).tolist() == ["0", "1", "2+", "2+", "0"]


def _household(household_id, tier, labourers, values, dates=("2020-12-31", "2021-12-31")):
    return {"household_id": household_id, "county_code": "433123000000", "need_tier": tier, "labourers": labourers,
            "income_dates": list(dates)[:len(values)], "income_values": list(values)}


def _partnership(pid, household_id, mechanism="01", start="2021-06-01", status="01", end=None, gain=3000.0,
                 enterprise_type="05", township="433123001000", township_name="甲镇"):
    return {"partnership_id": pid, "household_id": household_id, "mechanism": mechanism,
            "enterprise_type": enterprise_type, "township_code": township, "township_name": township_name,
            "start_date": start, "end_date": end, "status": status, "income_gain": gain}


def _county():
    households = [
        # stratum tier 1, one labourer: partnered +1500 and +1700 a year, comparables +500 and +700
        _household("H1", 1, 1, [4000, 5500]), _household("H2", 1, 1, [4000, 5700]),
        _household("H3", 1, 1, [4000, 4500]), _household("H4", 1, 1, [4000, 4700]),
        # stratum tier 2, no labourer: partnered +900 (land lease), no comparable at all
        _household("H5", 2, 0, [3000, 3900]),
        # had a partnership before its first observation: neither partnered nor comparable
        _household("H6", 1, 1, [4000, 9000]),
        # a terminated partnership in the window: neither
        _household("H7", 1, 1, [4000, 8000]),
        # one observation only: not in the comparison
        _household("H8", 1, 1, [4000]),
    ]
    partnerships = [
        _partnership("P1", "H1", start="2021-03-01"),
        _partnership("P2", "H2", start="2021-09-01", status="02", end="2021-12-01", gain=2000.0,
                     enterprise_type="01", township="433123002000", township_name="乙镇"),
        _partnership("P5", "H5", mechanism="03", start="2021-05-01", gain=600.0),
        _partnership("P6", "H6", start="2019-05-01", end="2020-05-01", status="02", gain=1000.0),
        _partnership("P7", "H7", start="2021-04-01", status="03", end="2021-10-01", gain=5000.0),
        _partnership("P8", "H8", start="2021-04-01", status="04", gain=None),  # awaiting: not formed
    ]
    return pd.DataFrame(partnerships), pd.DataFrame(households)


def test_county_report_compares_partnered_with_comparable_households():
    partnerships, households = _county()
    report = county_report(partnerships, households, TODAY, bootstrap=300)
    comparison = report["comparison"]
    assert comparison["estimate"] == pytest.approx(1000.0 / YEARS), "(1500 + 1700) / 2 − (500 + 700) / 2"
    assert comparison["partnered_n"] == 3 and comparison["partnered_left_out"] == 1
    assert comparison["strata_without_comparables"] == 1 and comparison["comparable_n"] == 2
    assert report["income_history"]["with_two_observations"] == 7
    assert report["income_history"]["first_dates"] == ["2020-12-31"]
    assert report["totals"]["formed"] == 5 and report["awaiting"] == 1
    assert report["method"] == outcomes.METHOD and "分层" in report["method"] and "bootstrap" in report["method"]


def test_tables_per_dimension_with_labels_durations_and_gains():
    partnerships, households = _county()
    report = county_report(partnerships, households, TODAY, bootstrap=100)
    tables = {dimension["key"]: {row["key"]: row for row in dimension["rows"]} for dimension in report["dimensions"]}
    assert set(tables) == {"mechanism", "enterprise_type", "township", "start_year"}
    employment = tables["mechanism"]["01"]
    assert employment["label"] == "就业务工" and employment["formed"] == 4
    assert employment["in_force"] == 1 and employment["ended"] == 3 and employment["in_force_share"] == 0.25
    # ended: P2 91 days, P6 366 days, P7 183 days → median 183; P1 in force since 2021-03-01
    assert employment["duration_median_days"] == 183 and employment["duration_n"] == 3
    assert employment["elapsed_median_days"] == (TODAY - date(2021, 3, 1)).days
    assert employment["gain_mean"] == pytest.approx((3000 + 2000 + 1000 + 5000) / 4)
    assert employment["gain_median"] == pytest.approx(2500) and employment["gain_n"] == 4
    assert employment["small"], "four partnerships: shown, flagged"
    assert employment["comparison"]["estimate"] == pytest.approx(1000.0 / YEARS)
    lease = tables["mechanism"]["03"]
    assert lease["label"] == "土地流转" and lease["comparison"]["estimate"] is None
    assert lease["comparison"]["strata_without_comparables"] == 1
    assert tables["enterprise_type"]["01"]["label"] == "国家级龙头企业"
    assert tables["enterprise_type"]["01"]["comparison"]["estimate"] == pytest.approx((1700 - 600) / YEARS)
    assert {row["label"] for row in tables["township"].values()} == {"甲镇", "乙镇"}
    assert set(tables["start_year"]) == {"2019", "2021"} and tables["start_year"]["2021"]["label"] == "2021 年"


def test_an_empty_county_gives_an_empty_report():
    report = county_report(pd.DataFrame(), pd.DataFrame(), TODAY)
    assert report["totals"]["formed"] == 0 and report["comparison"]["estimate"] is None
    assert all(not dimension["rows"] for dimension in report["dimensions"])
