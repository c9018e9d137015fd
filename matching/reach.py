"""Which counties' enterprises a county's households can reach."""
from core import geography
from matching.candidates import haversine_km

NEIGHBOUR_MARGIN_KM = 40.0  # a county's own extent beyond its centroid


def neighbour_counties(county_codes: list[str], radius_km: float) -> list[str]:
    """The counties whose centre lies within radius_km (+ margin) of any of the given counties."""
    table = geography.divisions()
    counties = table[table["level"] == "county"]
    chosen = counties[counties["code"].isin(county_codes)]
    if chosen.empty:
        return list(county_codes)
    distance = haversine_km(chosen["lat"].to_numpy()[:, None], chosen["lon"].to_numpy()[:, None],
                            counties["lat"].to_numpy()[None, :], counties["lon"].to_numpy()[None, :])
    near = (distance <= radius_km + 2 * NEIGHBOUR_MARGIN_KM).any(axis=0)
    return sorted(set(counties["code"][near]) | set(county_codes))
