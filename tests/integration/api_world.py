"""A small two-county world for the API tests: synthetic bureau files loaded by the ETL, one match run,
and a token for every role — own and other county / enterprise."""
from dataclasses import dataclass, field

from devtools.synth import generate
from etl.load import load_files
from graph import jobs, views
from graph.maintenance import clear_graph
from matching.run import MatchParams, MatchRunner
from services.context import Context
from services.jobs import new_job
from services.tokens import issue_token

OWN_COUNTY = "433123000000"    # 凤凰县
OTHER_COUNTY = "433122000000"  # 泸溪县


@dataclass
class World:
    """Ids and tokens the tests use."""

    tokens: dict[str, str] = field(default_factory=dict)
    own_enterprise: str = ""
    other_enterprise: str = ""
    own_household: str = ""
    other_household: str = ""
    ids: dict[str, str] = field(default_factory=dict)  # own_rec, other_rec, own_partnership, … own_run, own_upload
    files: dict = field(default_factory=dict)


def build_world(driver, settings, folder) -> World:
    """Generate, load and match the two counties; create the tokens."""
    clear_graph(driver, settings.neo4j_database)
    paths = generate(folder, households=600, enterprises=30, projects=6, counties=[OWN_COUNTY, OTHER_COUNTY], seed=11,
                     progress=False)
    result = load_files(list(paths.values()), driver, settings, progress=False)
    assert not result.failed_files
    matched = MatchRunner(driver, settings, progress=None).run([OWN_COUNTY, OTHER_COUNTY], MatchParams(top_k=5))
    world = World(files=paths)
    database = settings.neo4j_database
    # The real run as a completed job of the own county (the run page and its API read it).
    job = {**new_job("match", OWN_COUNTY, "test", {"counties": [OWN_COUNTY, OTHER_COUNTY], "top_k": 5}),
           "job_id": matched["run_id"]}
    jobs.enqueue_job(driver, job, database)
    jobs.update_job(driver, job["job_id"], {"status": "completed", "progress": 1.0}, database)
    world.ids["own_match_run"] = matched["run_id"]
    for side, county in (("own", OWN_COUNTY), ("other", OTHER_COUNTY)):
        recs, _ = views.search_recommendations(driver, {"county_code": county}, 0, 100000, database)
        # An enterprise tied to this county only (its recommendations and partnerships stay inside it),
        # so "the other county" is unambiguous in the authorisation matrix.
        enterprise = next(code for code in sorted({r["credit_code"] for r in recs})
                          if views.enterprise_counties(driver, code, database) == {county}
                          and views.search_partnerships(driver, {"credit_code": code}, 0, 1, database)[1] > 0)
        rec = next(r for r in recs if r["credit_code"] == enterprise and not r["confirmed"])
        partnership = views.search_partnerships(driver, {"credit_code": enterprise}, 0, 1, database)[0][0]
        project = views.search_projects(driver, {"county_code": county}, 0, 1, database)[0][0]
        households, _ = views.search_households(driver, {"county_code": county}, None, None, "household_id", 0, 1,
                                                database)
        setattr(world, f"{side}_enterprise", enterprise)
        setattr(world, f"{side}_household", households[0]["household_id"])
        run = new_job("match", county, "test", {"counties": [county], "top_k": 5})
        upload = new_job("upload", county, "test", {"path": "/nonexistent/upload.csv", "filename": "x.csv",
                                                   "counties": [county]})
        for job in (run, upload):  # finished already, so no background work disturbs the tests
            jobs.enqueue_job(driver, job, database)
            jobs.update_job(driver, job["job_id"], {"status": "failed", "error": "fixture", "progress": 0.0}, database)
        world.ids.update({f"{side}_rec": rec["rec_id"], f"{side}_partnership": partnership["partnership_id"],
                          f"{side}_project": project["project_id"], f"{side}_run": run["job_id"],
                          f"{side}_upload": upload["job_id"], f"{side}_county": county,
                          f"{side}_project_implementer": project.get("implementer_credit_code") or ""})
    roles = {
        "admin": dict(role="admin"), "analyst": dict(role="analyst"),
        "bureau_own": dict(role="bureau", county_code=OWN_COUNTY),
        "bureau_other": dict(role="bureau", county_code=OTHER_COUNTY),
        "enterprise_own": dict(role="enterprise", credit_code=world.own_enterprise),
        "enterprise_other": dict(role="enterprise", credit_code=world.other_enterprise),
    }
    ctx = Context(driver, settings)
    for name, scope in roles.items():
        world.tokens[name] = issue_token(ctx, name=f"test {name}", **scope)
    return world
