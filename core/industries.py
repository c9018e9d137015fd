"""Industry vocabulary: a controlled list of industries with the product names that mean them.

Households list products (猕猴桃, 椪柑, 黄金茶 …), enterprises their industry and the products
they buy; both resolve to these codes so that matching compares like with like.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Industry:
    """One industry: stable code, Chinese name, other names and product names."""

    code: str
    name: str
    aliases: tuple[str, ...]
    land_based: bool = True  # needs arable / forest land from households


INDUSTRIES: tuple[Industry, ...] = (
    Industry("kiwi", "猕猴桃", ("奇异果", "红心猕猴桃", "猕猴桃种植")),
    Industry("citrus", "柑橘", ("椪柑", "柑桔", "脐橙", "蜜桔", "冰糖橙", "柚子", "柑橘种植")),
    Industry("tea", "茶叶", ("茶", "黄金茶", "保靖黄金茶", "古丈毛尖", "毛尖", "绿茶", "黑茶", "安化黑茶", "莓茶")),
    Industry("oil_tea", "油茶", ("茶油", "山茶油", "油茶林")),
    Industry("tobacco", "烟叶", ("烤烟", "烟草")),
    Industry("herbs", "中药材", ("药材", "黄精", "百合", "金银花", "杜仲", "玉竹", "茯苓", "天麻")),
    Industry("cattle", "湘西黄牛", ("黄牛", "肉牛", "养牛", "牛")),
    Industry("pig", "生猪", ("养猪", "猪", "黑猪", "湘西黑猪")),
    Industry("goat", "山羊", ("羊", "养羊", "黑山羊")),
    Industry("poultry", "家禽", ("土鸡", "鸡", "鸭", "养鸡", "蛋鸡")),
    Industry("aquatic", "水产", ("鱼", "稻花鱼", "养鱼", "稻田养鱼")),
    Industry("rice", "优质稻", ("水稻", "稻谷", "大米", "富硒米")),
    Industry("vegetable", "蔬菜", ("高山蔬菜", "辣椒", "蔬菜种植")),
    Industry("fruit", "水果", ("葡萄", "黄桃", "李子", "杨梅", "西瓜")),
    Industry("bamboo", "竹木", ("楠竹", "竹笋", "林木", "竹")),
    Industry("edible_fungi", "食用菌", ("香菇", "木耳", "菌菇")),
    Industry("tourism", "乡村旅游", ("旅游", "民宿", "农家乐"), land_based=False),
    Industry("processing", "农产品加工", ("加工", "来料加工", "手工加工", "食品加工"), land_based=False),
    Industry("handicraft", "民族手工艺", ("苗绣", "土家织锦", "手工艺", "刺绣"), land_based=False),
    Industry("ecommerce", "电子商务", ("电商", "网店", "直播带货"), land_based=False),
    Industry("labour", "劳务输出", ("劳务", "务工"), land_based=False),
)

_BY_SPELLING = {spelling: industry.code for industry in INDUSTRIES for spelling in (industry.code, industry.name, *industry.aliases)}
BY_CODE = {industry.code: industry for industry in INDUSTRIES}


def industry_code(text: str) -> str | None:
    """The industry code for a product or industry name, or None if it is not in the vocabulary."""
    return _BY_SPELLING.get(text.strip())
