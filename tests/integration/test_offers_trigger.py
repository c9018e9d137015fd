"""An enterprise's offer change re-plans only the counties it reaches: three counties, two neighbours (凤凰县,
花垣县) and one far away (长沙县, about 340 km), matched together; an enterprise of 凤凰县 changes its offer;
the queued job, run by a job runner as the web workers run it, recomputes exactly the two neighbours, and the
far county keeps its current run."""
import time

import pytest

from devtools import synth
from etl.load import load_files
from graph import jobs as queue
from graph.maintenance import clear_graph
from jobs.runner import JobRunner
from matching.run import MatchParams, MatchRunner
from services import offers
from services.context import Context
from services.principal import Principal

NEAR = ["433123000000", "433124000000"]  # 凤凰县, 花垣县: about 70 km apart
FAR = "430121000000"  # 长沙县
HOME = NEAR[0]


@pytest.fixture(scope="module")
def in_process(test_settings):
    """Runs in this process or the job's child, without a Dask cluster (three small counties)."""
    return test_settings.model_copy(update={"match_cluster": "inprocess"})


@pytest.fixture(scope="module")
def three_counties(neo4j_driver, in_process, tmp_path_factory):
    """The three counties loaded and matched together once: the baseline every county's current run comes from."""
    clear_graph(neo4j_driver, in_process.neo4j_database)
    paths = synth.generate(tmp_path_factory.mktemp("three"), households=450, enterprises=18, projects=3,
                           counties=[*NEAR, FAR], seed=5, progress=False)
    result = load_files(list(paths.values()), neo4j_driver, in_process, progress=False)
    assert not result.failed_files and not result.rows_rejected
    baseline = MatchRunner(neo4j_driver, in_process, progress=None).run([*NEAR, FAR], MatchParams())
    assert baseline["status"] == "completed" and sorted(baseline["counties"]) == sorted([*NEAR, FAR])
    return baseline


def _current_runs(driver) -> dict[str, str]:
    records, _, _ = driver.execute_query("MATCH (c:Region {level: 'county'}) WHERE c.current_run IS NOT NULL "
                                         "RETURN c.code AS code, c.current_run AS run")
    return {record["code"]: record["run"] for record in records}


def _lists(driver, county: str, run_id: str) -> int:
    records, _, _ = driver.execute_query("MATCH (l:RecommendationList {county_code: $county, run_id: $run}) "
                                         "RETURN count(l) AS n", county=county, run=run_id)
    return records[0]["n"]


def test_an_offer_change_re_plans_only_the_counties_it_reaches(three_counties, neo4j_driver, in_process):
    ctx = Context(neo4j_driver, in_process)
    records, _, _ = neo4j_driver.execute_query(
        "MATCH (e:Enterprise {county_code: $county}) WHERE e.lon IS NOT NULL "
        "RETURN e.credit_code AS code, coalesce(e.jobs_offered, 0) AS jobs ORDER BY code LIMIT 1", county=HOME)
    code, jobs = records[0]["code"], records[0]["jobs"]
    assert [county["code"] for county in offers.reached_counties(ctx, HOME)] == NEAR
    assert [county["code"] for county in offers.reached_counties(ctx, FAR)] == [FAR]
    before = _current_runs(neo4j_driver)
    assert before == {county: three_counties["run_id"] for county in [*NEAR, FAR]}
    far_lists = _lists(neo4j_driver, FAR, three_counties["run_id"])
    assert far_lists > 0

    enterprise = Principal(token_id="tok-offer-test", name="凤凰县测试企业", role="enterprise", credit_code=code)
    result = offers.update_offer(ctx, enterprise, code, {"jobs_offered": jobs + 5})
    job = result["job"]
    assert result["changed"] == ["jobs_offered"] and job["counties"] == NEAR and not job["reused"]
    stored = queue.get_job(neo4j_driver, job["job_id"])
    assert stored["status"] == "queued" and stored["county_code"] == HOME

    runner = JobRunner(in_process, lambda: neo4j_driver)
    runner.step()  # claims the job and starts it in a child process, as a web worker's poller does
    assert runner.child is not None
    deadline = time.monotonic() + 300
    while queue.get_job(neo4j_driver, job["job_id"])["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
    runner.child.wait(timeout=60)
    runner.step()
    finished = queue.get_job(neo4j_driver, job["job_id"])
    assert finished["status"] == "completed", finished
    run = finished["run"]
    assert run["requested_counties"] == NEAR
    assert sorted(run["counties"]) == NEAR, "both counties that reach the enterprise were recomputed"
    assert run["unchanged_counties"] == []
    after = _current_runs(neo4j_driver)
    assert after == {NEAR[0]: job["job_id"], NEAR[1]: job["job_id"], FAR: three_counties["run_id"]}
    assert _lists(neo4j_driver, FAR, three_counties["run_id"]) == far_lists
    assert _lists(neo4j_driver, FAR, job["job_id"]) == 0, "nothing of the far county was planned again"

    # Nothing changed since: the same change again queues nothing.
    again = offers.update_offer(ctx, enterprise, code, {"jobs_offered": jobs + 5})
    assert again["changed"] == [] and again["job"] is None
    queued, _, _ = neo4j_driver.execute_query("MATCH (j:Job {status: 'queued'}) RETURN count(j) AS n")
    assert queued[0]["n"] == 0
