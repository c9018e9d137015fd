"""What-ifs and concentration on the analyst export's tables (services/analyst_data.read_county): pandas and
networkx only — no Cypher, no driver, nothing written. Notebooks 03 and 04 call these and plot the results.

Households appear only under their export pseudonym (`household_ref`, "A…"); enterprises by credit code.

- `partner_links`: who depends on whom now — each household's open partnerships (履约中, 待确认) and the places the
  current run planned for it (assigned recommendations of the current run).
- `partner_graph` / `single_points_of_failure` / `close_enterprise`: the household–enterprise graph (networkx);
  an enterprise is a single point of failure for the households whose only partner it is.
- `concentration`: the share of active partnerships the top enterprises hold (and the HHI).
- `places_table` / `capacity_cut`: places per enterprise and mechanism (core.mechanisms), and which planned
  households lose their place when every enterprise's capacity is cut by a share (the lowest ranked first).
- `wider_radius`: unplaced households whose binding constraint is distance that an enterprise with places left
  would reach if the mechanisms' radii were wider.
"""
from collections.abc import Iterable

import networkx as nx
import numpy as np
import pandas as pd

from core.codes import Mechanism, PartnershipStatus
from core.mechanisms import CAPACITY

EARTH_RADIUS_KM = 6371.0088
OPEN = PartnershipStatus.codes(*PartnershipStatus.open())
IN_FORCE = PartnershipStatus.IN_FORCE.value
# Mechanisms searched by distance, with the default radius of matching/rules.py (equity: inside the county).
DISTANCE_MECHANISMS = (Mechanism.EMPLOYMENT.value, Mechanism.CONTRACT_PURCHASE.value, Mechanism.LAND_LEASE.value,
                       Mechanism.ECOMMERCE.value)
DISTANCE_BINDING = "distance"


def _truthy(values: pd.Series) -> pd.Series:
    """Booleans from a column that may hold True/False, 1/0 or "true"/"false"."""
    return values.map(lambda value: str(value).strip().lower() in ("true", "1", "yes", "是")
                      if value is not None and not (isinstance(value, float) and np.isnan(value)) else False)


def current_plan(recommendations: pd.DataFrame) -> pd.DataFrame:
    """The current run's assigned recommendations (the places the plan holds): household_ref, credit_code,
    mechanism, rank, score."""
    if recommendations is None or recommendations.empty:
        return pd.DataFrame(columns=["household_ref", "credit_code", "mechanism", "rank", "score"])
    rows = recommendations
    if "current" in rows:
        rows = rows[_truthy(rows["current"])]
    rows = rows[_truthy(rows["assigned"])]
    return rows[["household_ref", "credit_code", "mechanism", "rank", "score"]].reset_index(drop=True)


def partner_links(partnerships: pd.DataFrame, recommendations: pd.DataFrame | None = None,
                  statuses: Iterable[str] = OPEN) -> pd.DataFrame:
    """One row per household and enterprise it depends on now: `source` "partnership" (an open ledger row, by
    default 履约中 or 待确认) or "planned" (the current run assigned it); a pair both ways counts once (partnership)."""
    statuses = list(statuses)
    held = partnerships[partnerships["status"].isin(statuses)][["household_ref", "credit_code"]].assign(
        source="partnership")
    planned = current_plan(recommendations)[["household_ref", "credit_code"]].assign(source="planned")
    links = pd.concat([held, planned], ignore_index=True).dropna(subset=["household_ref", "credit_code"])
    return links.drop_duplicates(["household_ref", "credit_code"], keep="first").reset_index(drop=True)


def partner_graph(links: pd.DataFrame) -> nx.Graph:
    """The bipartite household–enterprise graph: nodes ("h", ref) and ("e", credit code), `bipartite` 0 / 1."""
    graph = nx.Graph()
    households = [("h", ref) for ref in links["household_ref"].unique()]
    enterprises = [("e", code) for code in links["credit_code"].unique()]
    graph.add_nodes_from(households, bipartite=0)
    graph.add_nodes_from(enterprises, bipartite=1)
    graph.add_edges_from((("h", h), ("e", e)) for h, e in zip(links["household_ref"], links["credit_code"]))
    return graph


def single_points_of_failure(graph: nx.Graph) -> pd.DataFrame:
    """Per enterprise: households linked, households whose only partner it is (`sole`: they would have none left
    if it closed), their share, and the enterprises it shares households with (`shares_with`, from the weighted
    projection onto enterprises). Sorted by `sole`, most first."""
    enterprises = [node for node, side in graph.nodes(data="bipartite") if side == 1]
    projection = nx.bipartite.weighted_projected_graph(graph, enterprises) if enterprises else nx.Graph()
    rows = []
    for node in enterprises:
        neighbours = list(graph.neighbors(node))
        sole = sum(1 for household in neighbours if graph.degree(household) == 1)
        rows.append({"credit_code": node[1], "households": len(neighbours), "sole": sole,
                     "sole_share": sole / len(neighbours) if neighbours else 0.0,
                     "shares_with": projection.degree(node) if node in projection else 0})
    frame = pd.DataFrame(rows, columns=["credit_code", "households", "sole", "sole_share", "shares_with"])
    return frame.sort_values(["sole", "households", "credit_code"], ascending=[False, False, True]).reset_index(drop=True)


def close_enterprise(links: pd.DataFrame, credit_code: str) -> pd.DataFrame:
    """The households that would be left with no partner (none in force or awaiting, none planned) if the enterprise
    closed: household_ref and how it depended on it (`source`)."""
    counts = links.groupby("household_ref")["credit_code"].nunique()
    theirs = links[links["credit_code"] == credit_code]
    lost = theirs[theirs["household_ref"].map(counts) == 1]
    return lost[["household_ref", "source"]].sort_values("household_ref").reset_index(drop=True)


def concentration(partnerships: pd.DataFrame, top: int = 5, statuses: Iterable[str] = (IN_FORCE,)) -> dict:
    """How concentrated the active partnerships (default 履约中) are: total, enterprises holding them, the share
    of the `top` enterprises, the Herfindahl–Hirschman index (0–1) and the table of enterprises by count."""
    active = partnerships[partnerships["status"].isin(list(statuses))]
    counts = active.groupby("credit_code").size().sort_values(ascending=False, kind="stable")
    total = int(counts.sum())
    shares = counts / total if total else counts.astype(float)
    table = pd.DataFrame({"credit_code": counts.index, "partnerships": counts.to_numpy(),
                          "share": shares.to_numpy()})
    return {"total": total, "enterprises": int(len(counts)), "top": top,
            "top_share": float(shares.iloc[:top].sum()) if total else 0.0,
            "hhi": float((shares ** 2).sum()) if total else 0.0, "table": table}


def places_table(enterprises: pd.DataFrame) -> pd.DataFrame:
    """Places (households) per enterprise and mechanism, from each mechanism's capacity column (core.mechanisms:
    jobs, households, 亩 of land at 3 亩 a household). A `places_<mechanism name>` (the export's `places_employment`
    …) or `places_<code>` column, when present, is taken as is."""
    rows = []
    for mechanism, capacity in CAPACITY.items():
        given = next((name for name in (f"places_{mechanism.name.lower()}", f"places_{mechanism.value}")
                      if name in enterprises), None)
        if given:
            places = pd.to_numeric(enterprises[given], errors="coerce").fillna(0).astype(int).to_numpy()
        elif capacity.field in enterprises:
            places = capacity.places_array(pd.to_numeric(enterprises[capacity.field], errors="coerce").to_numpy())
        else:
            continue
        rows.append(pd.DataFrame({"credit_code": enterprises["credit_code"].to_numpy(),
                                  "mechanism": mechanism.value, "places": places}))
    if not rows:
        return pd.DataFrame(columns=["credit_code", "mechanism", "places"])
    table = pd.concat(rows, ignore_index=True)
    return table[table["places"] > 0].reset_index(drop=True)


def place_use(places: pd.DataFrame, partnerships: pd.DataFrame, recommendations: pd.DataFrame | None) -> pd.DataFrame:
    """Per enterprise and mechanism: places, open partnerships (履约中, 待确认), planned by the current run, and
    the places left (never below 0)."""
    held = (partnerships[partnerships["status"].isin(OPEN)].groupby(["credit_code", "mechanism"]).size()
            .rename("open"))
    planned = current_plan(recommendations).groupby(["credit_code", "mechanism"]).size().rename("planned")
    use = places.set_index(["credit_code", "mechanism"])[["places"]].join(held, how="outer").join(planned, how="outer")
    use = use.fillna(0).astype(int)
    use["left"] = (use["places"] - use["open"] - use["planned"]).clip(lower=0)
    return use.reset_index()


def capacity_cut(places: pd.DataFrame, partnerships: pd.DataFrame, recommendations: pd.DataFrame,
                 cut: float) -> pd.DataFrame:
    """The planned households that lose their place when every enterprise's places of every mechanism are cut by
    the share `cut` (0.2 = 20 %, rounded down to whole places). Open partnerships keep theirs (they are contracts);
    what is left of the cut places goes to the planned households best ranked first (lowest rank number, then
    highest score), so the lowest ranked lose theirs. Columns: household_ref, credit_code, mechanism, rank."""
    if not 0 <= cut <= 1:
        raise ValueError("cut is a share between 0 and 1")
    plan = current_plan(recommendations)
    use = place_use(places, partnerships, recommendations).set_index(["credit_code", "mechanism"])
    remaining = np.floor(use["places"] * (1 - cut) + 1e-9).astype(int)
    room = (remaining - use["open"]).clip(lower=0)
    plan = plan.assign(score=pd.to_numeric(plan["score"], errors="coerce"),
                       rank=pd.to_numeric(plan["rank"], errors="coerce"))
    plan = plan.sort_values(["credit_code", "mechanism", "rank", "score", "household_ref"],
                            ascending=[True, True, True, False, True])
    plan["order"] = plan.groupby(["credit_code", "mechanism"]).cumcount()
    keys = pd.MultiIndex.from_frame(plan[["credit_code", "mechanism"]])
    plan["room"] = room.reindex(keys).fillna(0).astype(int).to_numpy()
    lost = plan[plan["order"] >= plan["room"]]
    return lost[["household_ref", "credit_code", "mechanism", "rank"]].reset_index(drop=True)


def capacity_cut_curve(places: pd.DataFrame, partnerships: pd.DataFrame, recommendations: pd.DataFrame,
                       cuts: Iterable[float] = (0.1, 0.2, 0.3, 0.5)) -> pd.DataFrame:
    """Planned households losing their place per cut (and the planned total)."""
    planned = len(current_plan(recommendations))
    return pd.DataFrame([{"cut": cut, "planned": planned,
                          "lose_place": int(capacity_cut(places, partnerships, recommendations, cut)
                                            ["household_ref"].nunique())} for cut in cuts])


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distances (km), broadcasting."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(value, dtype=float)) for value in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def household_positions(households: pd.DataFrame, regions: pd.DataFrame) -> pd.DataFrame:
    """household_ref with lon / lat of its village (regions: code, lon, lat); households without one are dropped."""
    villages = regions[["code", "lon", "lat"]].rename(columns={"code": "village_code"})
    placed = households[["household_ref", "village_code"]].merge(villages, on="village_code", how="left")
    placed[["lon", "lat"]] = placed[["lon", "lat"]].apply(pd.to_numeric, errors="coerce")
    return placed.dropna(subset=["lon", "lat"]).reset_index(drop=True)


def wider_radius(unplaced: pd.DataFrame, positions: pd.DataFrame, enterprises: pd.DataFrame, use: pd.DataFrame,
                 limits_km: dict[str, float], extra_km: float,
                 mechanisms: Iterable[str] = DISTANCE_MECHANISMS) -> pd.DataFrame:
    """Unplaced households whose binding constraint is distance that an enterprise with places left (`use`, from
    `place_use`) would reach if each mechanism's radius (`limits_km`, mechanism → km) were `extra_km` wider.
    One row per household reached: the nearest enterprise that still has a place (closest households first, a place
    given once), its mechanism and distance (km). The households' own eligibility beyond distance (labour, land,
    products) is not re-checked beyond the diagnosis: when `unplaced` has each mechanism's reason (`reason_employment`
    …), only the mechanisms whose reason is distance count. An upper bound all the same (the places would be
    planned anew)."""
    columns = ["household_ref", "credit_code", "mechanism", "distance_km"]
    reason_columns = {code: f"reason_{Mechanism(code).name.lower()}" for code in mechanisms}
    kept = ["household_ref", *(column for column in reason_columns.values() if column in unplaced)]
    stuck = unplaced[unplaced["binding"] == DISTANCE_BINDING][kept].drop_duplicates("household_ref")
    stuck = stuck.merge(positions[["household_ref", "lon", "lat"]], on="household_ref").reset_index(drop=True)
    open_places = use[(use["left"] > 0) & use["mechanism"].isin(list(mechanisms))][["credit_code", "mechanism", "left"]]
    offers = open_places.merge(enterprises[["credit_code", "lon", "lat"]], on="credit_code")
    offers[["lon", "lat"]] = offers[["lon", "lat"]].apply(pd.to_numeric, errors="coerce")
    offers = offers.dropna(subset=["lon", "lat"]).reset_index(drop=True)
    if stuck.empty or offers.empty:
        return pd.DataFrame(columns=columns)
    distance = haversine_km(stuck["lat"].to_numpy()[:, None], stuck["lon"].to_numpy()[:, None],
                            offers["lat"].to_numpy()[None, :], offers["lon"].to_numpy()[None, :])
    limit = offers["mechanism"].map(lambda code: limits_km.get(code, 0.0) + extra_km).to_numpy(dtype=float)
    # A mechanism whose own reason for the household is something else (no labour, no land …) stays out of reach.
    allowed = np.ones(distance.shape, bool)
    for j, code in enumerate(offers["mechanism"]):
        column = reason_columns.get(code)
        if column in stuck:
            allowed[:, j] = (stuck[column] == DISTANCE_BINDING).to_numpy(dtype=bool)
    reach = np.where((distance <= limit[None, :]) & allowed, distance, np.inf)
    left = offers["left"].to_numpy(dtype=int).copy()
    rows = []
    # Closest households first, each to the nearest enterprise that still has a place: no place is given twice.
    for h in np.argsort(reach.min(axis=1), kind="stable"):
        for e in np.argsort(reach[h], kind="stable"):
            if not np.isfinite(reach[h, e]):
                break
            if left[e] > 0:
                left[e] -= 1
                rows.append((stuck["household_ref"].iat[h], offers["credit_code"].iat[e], offers["mechanism"].iat[e],
                             float(reach[h, e])))
                break
    return pd.DataFrame(rows, columns=columns).sort_values("household_ref").reset_index(drop=True)


def wider_radius_curve(unplaced: pd.DataFrame, positions: pd.DataFrame, enterprises: pd.DataFrame,
                       use: pd.DataFrame, limits_km: dict[str, float],
                       extras_km: Iterable[float] = (0, 5, 10, 20, 30)) -> pd.DataFrame:
    """Households reached per extra radius (and the distance-bound total)."""
    bound = int(unplaced.loc[unplaced["binding"] == DISTANCE_BINDING, "household_ref"].nunique())
    return pd.DataFrame([{"extra_km": extra, "distance_bound": bound,
                          "reached": int(len(wider_radius(unplaced, positions, enterprises, use, limits_km, extra)))}
                         for extra in extras_km])
