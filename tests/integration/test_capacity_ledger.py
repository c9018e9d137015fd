"""The ledger counts an enterprise's capacity in households (places), not in its own unit.

An enterprise that wants 30 亩 by land lease (3 亩 a household) has 10 places: ten recommendations
can be accepted (待确认) and confirmed (履约中); the eleventh answers `no_capacity`. Open
partnerships hold places; a declined acceptance gives its place back.
Loaded through the ETL from bureau files, recommended as a match run writes them, acted on
at the graph.ledger level.
"""
import pytest

from core.codes import Mechanism, PartnershipStatus, RecommendationStatus
from core.mechanisms import LAND_MU_PER_HOUSEHOLD
from etl.load import load_files
from graph import ledger, matching, views
from tests.support import bureau_files as bf

LAND_WANTED_MU = 30
PLACES = int(LAND_WANTED_MU // LAND_MU_PER_HOUSEHOLD)  # 10
HOUSEHOLDS = PLACES + 1
ENTERPRISE = bf.credit_code("91433123MA4L00077")
RUN = "run-capacity-ledger"
NOW, TODAY = "2024-05-01T08:00:00+00:00", "2024-05-01"


def _rec_id(number: int) -> str:
    """A recommendation's id: its run, its household and its rank."""
    return f"{RUN}-{bf.household_id(number)}-1"


@pytest.fixture
def land_lease_world(graph_db, test_settings, tmp_path):
    """One enterprise wanting 30 亩 by land lease only, 11 households, a current recommendation for each."""
    households = bf.write_table(tmp_path / "households.csv", bf.HOUSEHOLD_HEADER,
                                [bf.household_row(number) for number in range(1, HOUSEHOLDS + 1)])
    enterprises = bf.write_table(tmp_path / "enterprises.csv", bf.ENTERPRISE_HEADER, [[
        ENTERPRISE, "凤凰县土地流转示范合作社", "农民专业合作社", "433123101000", "109.6", "27.95", "猕猴桃", "",
        Mechanism.LAND_LEASE.label, 0, 0, LAND_WANTED_MU, 0,
    ]])
    result = load_files([households, enterprises], graph_db, test_settings, progress=False,
                        report_path=tmp_path / "report.csv")
    assert [(f.rows_loaded, f.rows_rejected) for f in result.files] == [(HOUSEHOLDS, 0), (1, 0)]
    rows = [{"household_id": bf.household_id(number), "credit_code": ENTERPRISE, "county_code": bf.COUNTY,
             "mechanism": Mechanism.LAND_LEASE.value, "rank": 1, "score": 0.9, "rule_score": 0.9,
             "distance_km": 1.5, "reasons": ["土地流转"], "assigned": True}
            for number in range(1, HOUSEHOLDS + 1)]
    matching.write_recommendations(graph_db, RUN, rows)
    matching.make_run_current(graph_db, RUN, [bf.COUNTY])
    return graph_db


def _accept(driver, number: int) -> dict:
    """The enterprise accepts (待确认)."""
    return ledger.accept_recommendation(driver, _rec_id(number), False, "enterprise", NOW, TODAY)


def _confirm(driver, number: int) -> dict:
    """The bureau confirms (履约中)."""
    return ledger.accept_recommendation(driver, _rec_id(number), True, "bureau", NOW, TODAY)


def _open_partnerships(driver) -> list[dict]:
    return views.enterprise_detail(driver, ENTERPRISE)["open_partnerships"]


def test_the_enterprise_is_stored_with_its_land_in_mu(land_lease_world):
    record = views.enterprise_detail(land_lease_world, ENTERPRISE)
    assert record["land_wanted_mu"] == LAND_WANTED_MU
    assert record["mechanisms"] == [Mechanism.LAND_LEASE.value]


def test_30_mu_of_land_lease_takes_10_households_in_accept_and_confirm(land_lease_world):
    driver = land_lease_world
    for number in range(1, PLACES + 1):
        assert _accept(driver, number)["status"] == PartnershipStatus.AWAITING_CONFIRMATION
    with pytest.raises(ledger.LedgerConflict) as refused:
        _accept(driver, HOUSEHOLDS)
    assert refused.value.code == "no_capacity"

    for number in range(1, PLACES + 1):
        assert _confirm(driver, number)["status"] == PartnershipStatus.IN_FORCE
    with pytest.raises(ledger.LedgerConflict) as refused:
        _confirm(driver, HOUSEHOLDS)
    assert refused.value.code == "no_capacity"

    statuses = [partnership["status"] for partnership in _open_partnerships(driver)]
    assert statuses == [PartnershipStatus.IN_FORCE.value] * PLACES
    assert views.recommendation(driver, _rec_id(HOUSEHOLDS))["status"] == RecommendationStatus.PROPOSED
    assert views.recommendation(driver, _rec_id(1))["status"] == RecommendationStatus.CONFIRMED


def test_a_declined_acceptance_gives_its_place_back(land_lease_world):
    driver = land_lease_world
    for number in range(1, PLACES + 1):
        _accept(driver, number)
    ledger.decline_recommendation(driver, _rec_id(3), "土地不连片", "enterprise", "enterprise", NOW)
    assert _accept(driver, HOUSEHOLDS)["status"] == PartnershipStatus.AWAITING_CONFIRMATION
    assert len(_open_partnerships(driver)) == PLACES
    assert ledger.declined_pairs(driver, [bf.COUNTY])[0]["reason"] == "土地不连片"


def test_simultaneous_accepts_never_exceed_the_places(land_lease_world):
    """Eleven enterprise users accepting at once: the places are taken one at a time, never 11 of 10."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    driver = land_lease_world
    start = Barrier(HOUSEHOLDS)

    def accept(number: int) -> str:
        start.wait()
        try:
            return _accept(driver, number)["status"]
        except ledger.LedgerConflict as conflict:
            return conflict.code

    with ThreadPoolExecutor(max_workers=HOUSEHOLDS) as pool:
        outcomes = list(pool.map(accept, range(1, HOUSEHOLDS + 1)))
    assert sorted(outcomes).count(PartnershipStatus.AWAITING_CONFIRMATION.value) == PLACES
    assert outcomes.count("no_capacity") == 1
    assert len(_open_partnerships(driver)) == PLACES
