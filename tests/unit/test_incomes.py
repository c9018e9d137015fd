"""The income history's rule (graph/incomes.py with_observation): date order, no repeated value in a row."""
from graph.incomes import with_observation


def test_a_first_observation_and_a_change_are_recorded_a_repeat_is_not():
    assert with_observation([], [], "2020-12-31", 3000) == (["2020-12-31"], [3000.0])
    assert with_observation(["2020-12-31"], [3000.0], "2021-12-31", 3600) == (["2020-12-31", "2021-12-31"],
                                                                             [3000.0, 3600.0])
    assert with_observation(["2020-12-31"], [3000.0], "2021-12-31", 3000) is None


def test_an_observation_of_a_recorded_date_replaces_its_value():
    assert with_observation(["2020-12-31", "2021-12-31"], [3000.0, 3600.0], "2021-12-31", 3600) is None
    assert with_observation(["2020-12-31", "2021-12-31"], [3000.0, 3600.0], "2021-12-31", 3700) == (
        ["2020-12-31", "2021-12-31"], [3000.0, 3700.0])
    assert with_observation(["2020-12-31", "2021-12-31"], [3000.0, 3600.0], "2021-12-31", 3000) == (
        ["2020-12-31"], [3000.0]), "a corrected value equal to the one before: no change then"


def test_an_older_extract_takes_its_place_by_date():
    assert with_observation(["2021-12-31"], [3600.0], "2020-12-31", 3000) == (["2020-12-31", "2021-12-31"],
                                                                             [3000.0, 3600.0])
    assert with_observation(["2021-12-31"], [3600.0], "2020-12-31", 3600) == (["2020-12-31"], [3600.0]), \
        "the same value seen earlier: first seen then"
