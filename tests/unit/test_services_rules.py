"""Small rules of the use cases that need no database: file types, ledger changes, ledger conflicts."""
import pytest

from core.codes import PartnershipStatus
from graph.ledger import LedgerConflict
from services.errors import Conflict, Invalid, NotFound, Unsupported
from services.jobs import MATCH, UPLOAD, kind_of, new_job
from services.ledger import check_changes
from services.recommendations import _service_error
from services.uploads import check_file_type


def test_only_table_files_are_accepted():
    assert check_file_type("贫困户.XLSX") == ".xlsx" and check_file_type("a.csv") == ".csv"
    for name in ("notes.pdf", "noext", "x.exe"):
        with pytest.raises(Unsupported) as refused:
            check_file_type(name)
        assert refused.value.code == "unsupported_file_type"


def test_ledger_changes_are_checked():
    assert check_changes({"status": PartnershipStatus.COMPLETED, "income_gain": 3600}) == {
        "status": PartnershipStatus.COMPLETED.value, "income_gain": 3600}
    for bad, code in (({"status": "99"}, "invalid_status"), ({"household_id": "x"}, "unknown_field"),
                      ({"income_gain": -1}, "invalid_income_gain")):
        with pytest.raises(Invalid) as refused:
            check_changes(bad)
        assert refused.value.code == code


def test_ledger_conflicts_become_service_errors():
    gone = _service_error(LedgerConflict("not_found", "推荐不存在 / no such recommendation"))
    assert isinstance(gone, NotFound) and gone.code == "not_found"
    for code in ("recommendation_closed", "already_partnered", "no_capacity"):
        error = _service_error(LedgerConflict(code, "…"))
        assert isinstance(error, Conflict) and error.code == code


def test_job_records():
    job = new_job(MATCH, "433123000000", "bureau:tok", {"counties": ["433123000000"]})
    assert job["job_id"].startswith("match-") and kind_of(job["job_id"]) == MATCH
    assert kind_of(new_job(UPLOAD, None, "admin:tok", {})["job_id"]) == UPLOAD
    assert job["params"] == '{"counties": ["433123000000"]}'
