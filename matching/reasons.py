"""Reasons in Chinese for recommended pairs: the largest score contributions, with their figures."""
import numpy as np
import pandas as pd

from core.codes import Mechanism, PovertyCause
from matching.candidates import Pairs
from matching.features import Enterprises, Households, industry_names
from matching.rules import MECHANISMS
from matching.scoring import FEATURES

REASONS_PER_PAIR = 3


def _feature_texts(feature: int, pairs: Pairs, households: Households, enterprises: Enterprises) -> np.ndarray:
    """The reason text of one feature (FEATURES index) for each of the pairs (object array)."""
    h, e, m, n = pairs.household, pairs.enterprise, pairs.mechanism, len(pairs)
    if feature == 0:
        return pd.Series(pairs.distance_km).map(lambda km: f"距离 {km:.1f} 公里").to_numpy()
    if feature == 1:
        overlap = pd.Series(households.industry_mask[h] & (enterprises.industry_mask[e] | enterprises.bought_mask[e]))
        names = {mask: "、".join(industry_names(mask)) for mask in overlap.unique()}
        return ("产业匹配：" + overlap.map(names)).to_numpy()
    if feature == 2:
        mechanism_code = np.array(MECHANISMS)[m]
        ordinary, skilled, weak = households.ordinary[h], households.skilled[h], households.weak[h]
        capacity = np.column_stack([enterprises.capacity[code] for code in MECHANISMS])[e, m]
        labour_text = pd.Series([f"{o} 名普通劳动力、{s} 名技能劳动力" for o, s in zip(ordinary, skilled)], dtype=object)
        return np.where(
            (mechanism_code == Mechanism.EMPLOYMENT) & (ordinary + skilled == 0),
            pd.Series(weak).map(lambda w: f"{w} 名弱劳动力，可在扶贫车间就近务工").to_numpy(),
            (labour_text + pd.Series(capacity).map(lambda c: f"，企业用工缺口 {c} 人")).to_numpy(),
        )
    if feature == 3:
        return pd.Series(households.land_mu[h]).map(lambda mu: f"耕地/林地 {mu:.1f} 亩").to_numpy()
    if feature == 4:
        cause = pd.Series(households.main_cause[h]).map(lambda code: PovertyCause.label_of(code, "其他"))
        tier_text = pd.Series(households.need_tier[h]).map({2: "困难程度高，优先保障", 1: "重点帮扶对象", 0: "一般帮扶对象"})
        return ("致贫原因：" + cause + "；" + tier_text).to_numpy()
    if feature == 5:
        return np.full(n, "缺劳力或缺土地，入股分红可保底增收", dtype=object)
    if feature == 6:
        return np.full(n, "企业已在本村带动农户", dtype=object)
    if feature == 7:
        return np.full(n, "户已加入合作社，便于组织", dtype=object)
    if feature == 8:
        return pd.Series(enterprises.partner_count[e]).map(lambda k: f"企业已带动 {k:.0f} 户，履约有保障").to_numpy()
    project = pd.Series(households.industry_mask[h] & enterprises.project_mask[e])
    project_names = {mask: "、".join(industry_names(mask)) for mask in project.unique()}
    return ("企业在本县实施产业项目：" + project.map(project_names)).to_numpy()


def _shown_texts(pairs: Pairs, contributions: np.ndarray, households: Households, enterprises: Enterprises) -> np.ndarray:
    """Per pair (row), the texts of its largest non-zero contributions, largest first, then None.

    Only the texts shown are formatted (at most REASONS_PER_PAIR of the FEATURES per pair): a province run
    gives reasons to millions of pairs."""
    order = np.argsort(-contributions, axis=1)[:, :REASONS_PER_PAIR]
    values = np.take_along_axis(contributions, order, axis=1)
    texts = np.full(order.shape, None, dtype=object)
    for feature in range(len(FEATURES)):
        rows, slots = np.nonzero((order == feature) & (values > 0))
        if len(rows):
            texts[rows, slots] = _feature_texts(feature, pairs.take(rows), households, enterprises)
    return texts  # values are sorted, so a row's shown texts come first


def reasons(pairs: Pairs, contributions: np.ndarray, households: Households, enterprises: Enterprises) -> list[list[str]]:
    """For each pair, the texts of its largest non-zero contributions, largest first."""
    if len(pairs) == 0:
        return []
    texts = _shown_texts(pairs, contributions, households, enterprises)
    return [[text for text in row if text is not None] for row in texts.tolist()]


def reason_texts(pairs: Pairs, contributions: np.ndarray, households: Households, enterprises: Enterprises) -> np.ndarray:
    """For each pair, its reasons (see `reasons`) as one text, a reason per line: as they are stored.

    Joined column by column (numpy adds object arrays element-wise in C): a list per pair cost a province
    run more than formatting the texts."""
    if len(pairs) == 0:
        return np.empty(0, dtype=object)
    texts = _shown_texts(pairs, contributions, households, enterprises)
    shown = texts != None  # noqa: E711 (element-wise)
    texts[~shown] = ""
    joined = texts[:, 0]
    for column in range(1, texts.shape[1]):
        joined = joined + np.where(shown[:, column], "\n", "").astype(object) + texts[:, column]
    return joined
