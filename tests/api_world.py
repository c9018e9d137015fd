"""A small two-county world for the API tests: synthetic bureau files loaded by the ETL, one match run,
and a token for every role — own and other county / enterprise."""
from dataclasses import dataclass, field

from app.auth import issue_token
from etl.load import load_files
from etl.synth import generate
from graph import matching as matching_queries
from graph import views
from graph.maintenance import clear_graph
from matching.run import MatchParams, MatchRunner

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
    files: dict = field(default_factory=dict)


def build_world(driver, settings, folder) -> World:
    """Generate, load and match the two counties; create the tokens."""
    clear_graph(driver, settings.neo4j_database)
    paths = generate(folder, households=600, enterprises=30, projects=6, counties=[OWN_COUNTY, OTHER_COUNTY], seed=11,
                     progress=False)
    result = load_files(list(paths.values()), driver, settings, progress=False)
    assert not result.failed_files
    MatchRunner(driver, settings, progress=None).run([OWN_COUNTY, OTHER_COUNTY], MatchParams(top_k=5))
    world = World(files=paths)
    by_county = {}
    for county in (OWN_COUNTY, OTHER_COUNTY):
        records = [r for r in matching_queries.county_enterprises(driver, [county], settings.neo4j_database)]
        recs, _ = views.search_recommendations(driver, {"county_code": county, "assigned": True}, 0, 100000,
                                               settings.neo4j_database)
        with_recs = sorted({r["credit_code"] for r in recs} & {e["credit_code"] for e in records})
        by_county[county] = (with_recs[0], recs[0]["household_id"])
    world.own_enterprise, world.own_household = by_county[OWN_COUNTY]
    world.other_enterprise, world.other_household = by_county[OTHER_COUNTY]
    roles = {
        "admin": dict(role="admin"), "analyst": dict(role="analyst"),
        "bureau_own": dict(role="bureau", county_code=OWN_COUNTY),
        "bureau_other": dict(role="bureau", county_code=OTHER_COUNTY),
        "enterprise_own": dict(role="enterprise", credit_code=world.own_enterprise),
        "enterprise_other": dict(role="enterprise", credit_code=world.other_enterprise),
    }
    for name, scope in roles.items():
        world.tokens[name] = issue_token(driver, settings, name=f"test {name}", **scope)
    return world
