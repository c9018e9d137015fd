"""Reasons in Chinese for recommended pairs: the largest score contributions, with their figures."""
import numpy as np
import pandas as pd

from core.codes import Mechanism, PovertyCause
from matching.candidates import Pairs
from matching.features import Enterprises, Households, industry_names
from matching.rules import MECHANISMS
from matching.scoring import FEATURES

REASONS_PER_PAIR = 3


def _texts(pairs: Pairs, households: Households, enterprises: Enterprises) -> np.ndarray:
    """One candidate reason text per feature for every pair (pairs × FEATURES, object array)."""
    h, e, m = pairs.household, pairs.enterprise, pairs.mechanism
    n = len(h)
    texts = np.empty((n, len(FEATURES)), dtype=object)
    texts[:, 0] = pd.Series(pairs.distance_km).map(lambda km: f"距离 {km:.1f} 公里").to_numpy()
    overlap = pd.Series(households.industry_mask[h] & (enterprises.industry_mask[e] | enterprises.bought_mask[e]))
    names = {mask: "、".join(industry_names(mask)) for mask in overlap.unique()}
    texts[:, 1] = ("产业匹配：" + overlap.map(names)).to_numpy()
    mechanism_code = np.array(MECHANISMS)[m]
    ordinary, skilled, weak = households.ordinary[h], households.skilled[h], households.weak[h]
    capacity = np.column_stack([enterprises.capacity[code] for code in MECHANISMS])[e, m]
    labour_text = pd.Series([f"{o} 名普通劳动力、{s} 名技能劳动力" for o, s in zip(ordinary, skilled)])
    texts[:, 2] = np.where(
        (mechanism_code == Mechanism.EMPLOYMENT) & (ordinary + skilled == 0),
        pd.Series(weak).map(lambda w: f"{w} 名弱劳动力，可在扶贫车间就近务工").to_numpy(),
        (labour_text + pd.Series(capacity).map(lambda c: f"，企业用工缺口 {c} 人")).to_numpy(),
    )
    texts[:, 3] = pd.Series(households.land_mu[h]).map(lambda mu: f"耕地/林地 {mu:.1f} 亩").to_numpy()
    cause = pd.Series(households.main_cause[h]).map(lambda code: PovertyCause.label_of(code, "其他"))
    tier_text = pd.Series(households.need_tier[h]).map({2: "困难程度高，优先保障", 1: "重点帮扶对象", 0: "一般帮扶对象"})
    texts[:, 4] = ("致贫原因：" + cause + "；" + tier_text).to_numpy()
    texts[:, 5] = np.full(n, "缺劳力或缺土地，入股分红可保底增收")
    texts[:, 6] = np.full(n, "企业已在本村带动农户")
    texts[:, 7] = np.full(n, "户已加入合作社，便于组织")
    texts[:, 8] = pd.Series(enterprises.partner_count[e]).map(lambda k: f"企业已带动 {k:.0f} 户，履约有保障").to_numpy()
    project = pd.Series(households.industry_mask[h] & enterprises.project_mask[e])
    project_names = {mask: "、".join(industry_names(mask)) for mask in project.unique()}
    texts[:, 9] = ("企业在本县实施产业项目：" + project.map(project_names)).to_numpy()
    return texts


def reasons(pairs: Pairs, contributions: np.ndarray, households: Households, enterprises: Enterprises) -> list[list[str]]:
    """For each pair, the texts of its largest non-zero contributions, largest first."""
    if len(pairs) == 0:
        return []
    texts = _texts(pairs, households, enterprises)
    order = np.argsort(-contributions, axis=1)[:, :REASONS_PER_PAIR]
    chosen_texts = np.take_along_axis(texts, order, axis=1)
    chosen_values = np.take_along_axis(contributions, order, axis=1)
    return [[text for text, value in zip(row_texts, row_values) if value > 0]
            for row_texts, row_values in zip(chosen_texts.tolist(), chosen_values.tolist())]
