"""Coverage in one vocabulary: every active household is in exactly one of four states.

- 履约中 (confirmed): it has a partnership in force;
- 待确认 (awaiting): none in force, but one awaiting confirmation (an enterprise accepted, the bureau has not
  confirmed yet);
- 已规划 (planned): neither, but its county's current match run assigned it a pairing that still holds
  (not declined);
- 未覆盖 (uncovered): none of these.

The first that holds decides, so the four numbers add up to the households. The state is stored on each
household (`coverage_state`) and counted per region (graph/readstate.py); pages, the API and the run page
use these terms and these figures only.
"""
from dataclasses import dataclass

from core.codes import CoverageState


LABELS = {state: state.label for state in CoverageState}
DESCRIPTIONS = {
    CoverageState.CONFIRMED: "有履约中的利益联结",
    CoverageState.AWAITING: "无履约中的联结，有企业已接受、待商务局确认的联结",
    CoverageState.PLANNED: "无上述联结，本县当前匹配方案已为其安排企业（尚未接受或确认）",
    CoverageState.UNCOVERED: "以上都没有：既无联结，当前匹配方案也未能安排",
}
# The order in which the states are shown (and decided: the first that holds).
ORDER = (CoverageState.CONFIRMED, CoverageState.AWAITING, CoverageState.PLANNED, CoverageState.UNCOVERED)
VALUES = tuple(state.value for state in ORDER)

GLOSSARY = ("每户只属于以下一种状态，四项相加等于户数：" + "；".join(
    f"{LABELS[state]}——{DESCRIPTIONS[state]}" for state in ORDER)
    + "。匹配方案只是安排：企业接受并经商务局确认后才成为履约中的联结。")


def state_of(covered: bool, pending: bool, planned: bool) -> CoverageState:
    """The household's state from its flags (the first that holds decides)."""
    if covered:
        return CoverageState.CONFIRMED
    if pending:
        return CoverageState.AWAITING
    if planned:
        return CoverageState.PLANNED
    return CoverageState.UNCOVERED


@dataclass(frozen=True)
class Coverage:
    """A region's (or a run's) four figures; they add up to `households`."""

    households: int
    confirmed: int
    awaiting: int
    planned: int

    @property
    def uncovered(self) -> int:
        return max(self.households - self.confirmed - self.awaiting - self.planned, 0)

    def count(self, state: CoverageState) -> int:
        return {CoverageState.CONFIRMED: self.confirmed, CoverageState.AWAITING: self.awaiting,
                CoverageState.PLANNED: self.planned, CoverageState.UNCOVERED: self.uncovered}[state]

    def rate(self, state: CoverageState) -> float | None:
        return round(self.count(state) / self.households, 4) if self.households else None

    def as_dict(self) -> dict:
        """The figures with the API's names: households, covered (= confirmed), pending (= awaiting), planned,
        uncovered, and a rate of each (coverage_rate = confirmed's)."""
        return {"households": self.households, "covered": self.confirmed, "confirmed": self.confirmed,
                "pending": self.awaiting, "awaiting": self.awaiting, "planned": self.planned,
                "uncovered": self.uncovered, "coverage_rate": self.rate(CoverageState.CONFIRMED),
                "awaiting_rate": self.rate(CoverageState.AWAITING), "planned_rate": self.rate(CoverageState.PLANNED),
                "uncovered_rate": self.rate(CoverageState.UNCOVERED)}


def coverage(households: int, confirmed: int, awaiting: int, planned: int) -> Coverage:
    return Coverage(int(households or 0), int(confirmed or 0), int(awaiting or 0), int(planned or 0))
