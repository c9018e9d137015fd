"""The match level: a recommendation's score in words (高 / 中 / 低), measured against its county's scored
candidate pairs. One definition for matching (matching/reasons.py computes it), the API and the pages."""

HIGH, MIDDLE, LOW = "高", "中", "低"
LEVELS = (HIGH, MIDDLE, LOW)
# 高 from this quantile of the county's scores (the best 20 %), 中 from the median (the best 50 %).
HIGH_QUANTILE, MIDDLE_QUANTILE = 0.8, 0.5

EXPLANATION = ("匹配度按本县全部可行组合的得分分级：高 = 前 20%，中 = 前 50%，低 = 其余；"
               "理由列出得分最主要的因素（最多 3 条，最主要的在前）")
EXPLANATION_EN = ("match level among all feasible pairs of the county: 高 high = the best 20 %, 中 medium = the best "
                  "50 %, 低 low = the rest; the reasons are the score's largest factors, largest first")
