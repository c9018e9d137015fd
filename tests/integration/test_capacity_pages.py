"""The land-lease capacity on the enterprise's API detail and web page: 30 亩 wanted at 3 亩 per household
is 10 places, and the partnerships in force or awaiting confirmation take places, not 亩.

Fixtures: test_settings, neo4j_driver and make_app from tests/integration/conftest.py.
"""
import re

import pytest

from core.codes import Mechanism, PartnershipStatus
from etl.load import load_files
from graph.maintenance import clear_graph
from services.context import Context
from services.tokens import issue_token
from tests.support.bureau_files import (ENTERPRISE_HEADER, HOUSEHOLD_HEADER, PARTNERSHIP_HEADER, credit_code,
                                        enterprise_row, household_row, partnership_row, write_table)

LEASE = Mechanism.LAND_LEASE
FREE = credit_code("91433123MA4L00701")   # wants 30 亩, no partnerships yet
BUSY = credit_code("91433123MA4L00702")   # wants 30 亩, 2 households in force and 1 awaiting confirmation


def land_lease_enterprise(number: int, code: str) -> list:
    """An enterprise row that leases land only: 30 亩 wanted."""
    row = enterprise_row(number, code=code)
    values = dict(zip(ENTERPRISE_HEADER, row))
    values.update({"联结方式": LEASE.label, "用工需求（人）": 0, "订单收购带动户数": 0, "流转土地需求（亩）": 30,
                   "入股分红带动户数": 0})
    return [values[column] for column in ENTERPRISE_HEADER]


@pytest.fixture(scope="module")
def land_graph(neo4j_driver, test_settings, tmp_path_factory):
    """Five households and the two land-lease enterprises loaded through the ETL; a token for each party."""
    folder = tmp_path_factory.mktemp("land")
    clear_graph(neo4j_driver, test_settings.neo4j_database)
    in_force, awaiting = PartnershipStatus.IN_FORCE.label, PartnershipStatus.AWAITING_CONFIRMATION.label
    files = [
        write_table(folder / "贫困户.csv", HOUSEHOLD_HEADER, [household_row(n) for n in range(1, 6)]),
        write_table(folder / "企业.csv", ENTERPRISE_HEADER,
                    [land_lease_enterprise(701, FREE), land_lease_enterprise(702, BUSY)]),
        write_table(folder / "联结台账.csv", PARTNERSHIP_HEADER, [
            partnership_row("LZ-1", 1, BUSY, mechanism=LEASE.label, status=in_force),
            partnership_row("LZ-2", 2, BUSY, mechanism=LEASE.label, status=in_force),
            partnership_row("LZ-3", 3, BUSY, mechanism=LEASE.label, status=awaiting)]),
    ]
    result = load_files(files, neo4j_driver, test_settings, progress=False)
    assert not result.failed_files and not result.rows_rejected, result.problems
    ctx = Context(neo4j_driver, test_settings)
    return {"admin": issue_token(ctx, "admin", "capacity admin"),
            "free": issue_token(ctx, "enterprise", "capacity free", credit_code=FREE),
            "busy": issue_token(ctx, "enterprise", "capacity busy", credit_code=BUSY)}


@pytest.fixture(scope="module")
def land_app(land_graph, make_module_app):
    return make_module_app(job_workers_enabled=False)


def lease_offer(client, code: str, token: str) -> dict:
    response = client.get(f"/api/v1/enterprises/{code}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return next(offer for offer in response.get_json()["offers"] if offer["mechanism"] == LEASE)


def test_the_api_counts_thirty_mu_as_ten_places(land_app, land_graph):
    offer = lease_offer(land_app.test_client(), FREE, land_graph["admin"])
    assert offer == {"mechanism": LEASE, "capacity": 10, "capacity_amount": 30, "unit": "亩", "in_force": 0,
                     "awaiting_confirmation": 0, "assigned_current": 0, "remaining": 10}


def test_partnerships_take_places_not_mu(land_app, land_graph):
    offer = lease_offer(land_app.test_client(), BUSY, land_graph["busy"])  # the enterprise itself may look too
    assert (offer["capacity"], offer["in_force"], offer["awaiting_confirmation"], offer["remaining"]) == (10, 2, 1, 7)


def _sign_in(client, token: str) -> None:
    form = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert client.post("/login", data={"token": token, "csrf_token": csrf}).status_code == 302


def _lease_row(page: str) -> list[str]:
    """The cells of the land-lease row of the offers table."""
    row = next(row for row in re.findall(r"<tr>(.*?)</tr>", page, re.S) if LEASE.label in row)
    return re.findall(r"<td>(.*?)</td>", row)


def test_the_enterprise_page_shows_ten_places(land_app, land_graph):
    client = land_app.test_client()
    _sign_in(client, land_graph["free"])
    page = client.get("/enterprise")
    assert page.status_code == 200
    mechanism, capacity, in_force, awaiting, assigned, remaining = _lease_row(page.get_data(as_text=True))
    assert capacity == "30 亩（10 户）" and (in_force, awaiting, remaining) == ("0", "0", "10")


def test_the_busy_enterprise_page_shows_seven_left(land_app, land_graph):
    client = land_app.test_client()
    _sign_in(client, land_graph["busy"])
    cells = _lease_row(client.get("/enterprise").get_data(as_text=True))
    assert cells[1] == "30 亩（10 户）" and cells[2:4] == ["2", "1"] and cells[5] == "7"
