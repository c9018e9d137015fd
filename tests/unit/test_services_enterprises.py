"""Offers per mechanism from an enterprise record (no database): capacity is counted in households."""
from dataclasses import asdict

from app.api.schemas import EnterpriseOut, Offer as OfferOut, PartnershipOut
from core.codes import Mechanism, PartnershipStatus
from core.mechanisms import LAND_MU_PER_HOUSEHOLD
from services.enterprises import PUBLIC_FIELDS, Offer, offers_of, present_enterprise
from services.ledger import ROW_FIELDS
from services.principal import Principal

IN_FORCE, AWAITING = PartnershipStatus.IN_FORCE, PartnershipStatus.AWAITING_CONFIRMATION
DONE = PartnershipStatus.COMPLETED


def record(**values) -> dict:
    return {"credit_code": "91433123MA4L000001", "name": "凤凰腊肉厂", "mechanisms": [], "open_partnerships": [],
            "assigned": [], **values}


def partnership(mechanism: Mechanism, status: PartnershipStatus) -> dict:
    return {"mechanism": mechanism.value, "status": status.value}


def test_thirty_mu_of_land_lease_is_ten_places():
    assert LAND_MU_PER_HOUSEHOLD == 3.0
    [offer] = offers_of(record(mechanisms=[Mechanism.LAND_LEASE.value], land_wanted_mu=30.0))
    assert offer == Offer(mechanism=Mechanism.LAND_LEASE, capacity=10, capacity_amount=30.0, unit="亩", in_force=0,
                          awaiting_confirmation=0, assigned_current=0, remaining=10)


def test_remaining_is_places_minus_in_force_and_awaiting():
    lease = Mechanism.LAND_LEASE
    [offer] = offers_of(record(
        mechanisms=[lease.value], land_wanted_mu=30,
        open_partnerships=[partnership(lease, IN_FORCE)] * 3 + [partnership(lease, AWAITING)] * 2
        + [partnership(Mechanism.EMPLOYMENT, IN_FORCE)],
        assigned=[lease.value, lease.value, Mechanism.EMPLOYMENT.value]))
    assert (offer.capacity, offer.in_force, offer.awaiting_confirmation, offer.assigned_current, offer.remaining) == (
        10, 3, 2, 2, 5)


def test_remaining_never_goes_below_zero_and_closed_partnerships_do_not_count():
    lease = Mechanism.LAND_LEASE
    [offer] = offers_of(record(mechanisms=[lease.value], land_wanted_mu=7.5,  # 2 places (floor of 2.5)
                               open_partnerships=[partnership(lease, IN_FORCE)] * 3 + [partnership(lease, DONE)]))
    assert (offer.capacity, offer.capacity_amount, offer.in_force, offer.remaining) == (2, 7.5, 3, 0)


def test_other_mechanisms_count_one_unit_per_household():
    offers = offers_of(record(mechanisms=[Mechanism.EMPLOYMENT.value, Mechanism.CONTRACT_PURCHASE.value,
                                          Mechanism.EQUITY.value, Mechanism.ECOMMERCE.value],
                              jobs_offered=12, contract_households=40, equity_households=None,
                              ecommerce_households=float("nan")))
    assert [(o.mechanism, o.capacity, o.capacity_amount, o.unit) for o in offers] == [
        (Mechanism.EMPLOYMENT, 12, 12.0, "人"), (Mechanism.CONTRACT_PURCHASE, 40, 40.0, "户"),
        (Mechanism.EQUITY, 0, 0.0, "户"), (Mechanism.ECOMMERCE, 0, 0.0, "户")]


def test_an_unknown_mechanism_offers_nothing():
    [offer] = offers_of(record(mechanisms=["not a mechanism"]))
    assert (offer.capacity, offer.remaining, offer.unit) == (0, 0, "")


def test_an_offer_fits_the_api_schema():
    [offer] = offers_of(record(mechanisms=[Mechanism.LAND_LEASE.value], land_wanted_mu=30))
    dumped = OfferOut(**asdict(offer)).model_dump()
    assert dumped["capacity"] == 10 and dumped["capacity_amount"] == 30 and dumped["unit"] == "亩"
    assert set(OfferOut.model_fields) == set(asdict(offer))


def test_presented_fields_are_the_schemas_fields():
    assert set(PUBLIC_FIELDS) == set(EnterpriseOut.model_fields)
    personal = {"household_id", "household_ref", "head_name", "head_name_masked", "phone"}
    assert set(ROW_FIELDS) == set(PartnershipOut.model_fields) - personal


def test_analysts_see_no_contact_person():
    full = record(contact="张三", phone="13900000000", phone_masked="139****0000")
    analyst = present_enterprise(Principal("t", "a", "analyst"), full)
    assert analyst["contact"] is None and analyst["phone"] == "139****0000"
    bureau = present_enterprise(Principal("t", "b", "bureau", "433123000000"), full)
    assert bureau["contact"] == "张三" and bureau["phone"] == "13900000000"
    assert "open_partnerships" not in bureau and "phone_masked" not in bureau
