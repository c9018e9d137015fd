"""Principals and scope rules without a database; and services never load Flask."""
import subprocess
import sys

import pytest

from core.settings import PROJECT_ROOT
from services.errors import Forbidden, NotFound
from services.principal import ROLE_NAMES, ROLES, Principal, Role, require_role, scoped_county
from services.regions import check_scope, coverage_of

OWN, OTHER = "433123000000", "433122000000"
BUREAU = Principal("tok_b", "凤凰县商务局", Role.BUREAU, county_code=OWN)
ANALYST = Principal("tok_a", "分析员", Role.ANALYST)
ENTERPRISE = Principal("tok_e", "腊肉厂", Role.ENTERPRISE, credit_code="91433123MA4L000001")


def test_roles_and_names():
    assert ROLES == ("bureau", "enterprise", "analyst", "admin")
    assert set(ROLE_NAMES) == set(ROLES) and ROLE_NAMES["bureau"] == "商务局"
    assert BUREAU.actor == "bureau:tok_b"


def test_a_bureau_lists_only_its_own_county():
    assert scoped_county(BUREAU, None) == OWN and scoped_county(BUREAU, OWN) == OWN
    with pytest.raises(Forbidden) as refused:
        scoped_county(BUREAU, OTHER)
    assert refused.value.code == "outside_jurisdiction"
    assert scoped_county(ANALYST, None) is None and scoped_county(ANALYST, OTHER) == OTHER


def test_in_county_limits_only_bureaus():
    assert BUREAU.in_county(OWN) and not BUREAU.in_county(OTHER) and not BUREAU.in_county(None)
    assert ANALYST.in_county(OTHER) and ENTERPRISE.in_county(None)


def test_require_role_names_the_role_in_chinese():
    require_role(BUREAU, Role.BUREAU, Role.ADMIN)
    with pytest.raises(Forbidden) as refused:
        require_role(ENTERPRISE, Role.BUREAU, Role.ADMIN)
    assert refused.value.code == "forbidden_role" and refused.value.message.startswith("企业账号无权")


def test_a_bureau_sees_regions_of_its_county_only():
    check_scope(BUREAU, OWN)
    check_scope(BUREAU, "433123101000")
    for code in (OTHER, "433100000000", "430000000000"):
        with pytest.raises(NotFound):
            check_scope(BUREAU, code)
    check_scope(ANALYST, "430000000000")


def test_coverage_figures():
    # the four coverage states (core/coverage.py) add up to the households; the old keys stay
    assert coverage_of({"households": 8, "covered": 2, "pending": 1, "planned": 3}) == {
        "households": 8, "covered": 2, "confirmed": 2, "pending": 1, "awaiting": 1, "planned": 3, "uncovered": 2,
        "coverage_rate": 0.25, "awaiting_rate": 0.125, "planned_rate": 0.375, "uncovered_rate": 0.25}
    shown = coverage_of({"households": 8, "covered": 2, "pending": 1})
    assert shown["planned"] == 0 and shown["uncovered"] == 5
    assert coverage_of(None)["coverage_rate"] is None


def test_services_load_no_flask():
    code = ("import pkgutil, importlib, sys, services\n"
            "for module in pkgutil.iter_modules(services.__path__):\n"
            "    importlib.import_module(f'services.{module.name}')\n"
            "assert not [m for m in sys.modules if m == 'flask' or m.startswith(('flask.', 'flask_', 'werkzeug'))], "
            "sorted(m for m in sys.modules if 'flask' in m or 'werkzeug' in m)\n")
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, check=True, timeout=120)
