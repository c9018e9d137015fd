"""A county's outcomes (帮扶成效), as last computed and stored (services/outcomes.py)."""
from app.api import api, dump, tag
from app.api.schemas import CountyPath, OutcomesOut
from app.auth import current_principal, requires
from app.extensions import neo4j_ext
from services import outcomes

TAGS = tag("帮扶成效 outcomes", "各县的帮扶成效：联结数、时长、年增收，联结户与可比未联结户的收入变化对比")


@api.get("/counties/<code>/outcomes", tags=TAGS, responses={200: OutcomesOut})
@requires("bureau", "analyst", "admin")
def get_outcomes(path: CountyPath):
    """本县的帮扶成效（最近一次计算的结果）/ the county's outcomes as last computed.

    按联结方式、企业类型、乡镇与开始年份：形成的联结数、时长（已结束联结的中位数与履约中占比）、台账年增收（均值、中位数、
    条数），以及联结户与同县、同需要程度、同劳动力类别的未联结户的每人每年收入变化之差（分层估计与 95% 区间）；method
    为方法说明。由 `flask outcomes refresh`、样例加载与成效页的“重新计算”计算并存储，读取时不重新计算；尚未计算时只有
    county_code、county_name 与 method。商务局只能读本县。"""
    return dump(OutcomesOut(**outcomes.county_outcomes(neo4j_ext.context, current_principal(), path.code)))
