"""Files whose enterprises and projects are located from their address: the regions they are located among
(a villages and a households file) and an enterprise directory as commerce bureaus keep it (no region code)."""
from etl import address
from tests.support import bureau_files as bf

FENGHUANG, BAOJING = "433123000000", "433125000000"  # 凤凰县, 保靖县
LIAOJIAQIAO, TUOJIANG, SHANJIANG = "433123101000", "433123102000", "433123103000"
CHANGPUTANG, HEPING_L, HEPING_T, NANHUA = "433123101201", "433123101202", "433123102201", "433123102202"
LAOJIAZHAI = "433123103201"  # known from the households file only

BUREAU_HEADER = ["企业名称", "统一社会信用代码", "企业类型", "所属行业", "注册地址", "用工需求（人）", "利益联结方式"]
# (row in the file, name, type, registered address); the title is row 1, the header row 2.
DIRECTORY = [
    (3, "凤凰县菖蒲塘猕猴桃专业合作社", "农民专业合作社", "湖南省湘西土家族苗族自治州凤凰县廖家桥镇菖蒲塘村"),
    (4, "凤凰县南华茶业有限公司", "龙头企业", "凤凰县沱江镇南华村5组"),
    (5, "凤凰县廖家桥果业有限公司", "县级龙头企业", "湖南省凤凰县廖家桥镇"),
    (6, "凤凰县和平生猪养殖场", "家庭农场", "凤凰县和平村"),
    (7, "凤凰县和平猕猴桃专业合作社", "合作社", "凤凰县廖家桥镇和平村"),
    (8, "凤凰县阿拉营食品加工厂", "加工企业", "湖南省湘西土家族苗族自治州凤凰县阿拉营镇"),
    (9, "长沙某某电商有限公司", "电商企业", "湖南省长沙市"),
    (10, "凤凰县无名合作社", "合作社", ""),
    (11, "朝阳区某某商贸有限公司", "其他企业", "朝阳区建国路88号"),
    (12, "凤凰县老家寨苗绣扶贫车间", "扶贫车间", "凤凰县山江镇老家寨村"),
    (13, "保靖县黄金茶有限公司", "省级龙头企业", "湖南省保靖县迁陵镇"),
    (14, "凤凰县菖蒲塘果业合作社", "合作社", "凤凰县廖家桥乡菖蒲塘村"),
]


def code(row: int) -> str:
    """The credit code of the directory's enterprise on this row."""
    return bf.credit_code(f"93433123MA4M{row:05d}")


def directory_rows() -> list[list]:
    """The directory's rows (BUREAU_HEADER), no region code: the address says where each enterprise is."""
    return [[name, code(row), kind, "猕猴桃", where, 12, "就业务工、订单收购"] for row, name, kind, where in DIRECTORY]


def region_files(tmp_path):
    """A villages file (townships 廖家桥镇 and 沱江镇, a 和平村 in each) and a households file naming a village no
    villages file lists (山江镇老家寨村: created by the households file, with its township)."""
    villages = bf.write_table(tmp_path / "villages.csv", bf.VILLAGE_HEADER, [
        bf.village_row(CHANGPUTANG), bf.village_row(HEPING_L, name="和平村"),
        bf.village_row(HEPING_T, name="和平村", township="沱江镇"), bf.village_row(NANHUA, name="南华村", township="沱江镇")])
    household = bf.household_row(1, village=LAOJIAZHAI)
    household[4:6] = ["山江镇", "老家寨村"]
    households = bf.write_table(tmp_path / "households.csv", bf.HOUSEHOLD_HEADER, [household])
    return [villages, households]


# row → (region_code, county_code, location_source) of each enterprise located (the region it is LOCATED_IN)
PLACES = {
    3: (CHANGPUTANG, FENGHUANG, address.FROM_VILLAGE),
    4: (NANHUA, FENGHUANG, address.FROM_VILLAGE),
    5: (LIAOJIAQIAO, FENGHUANG, address.FROM_TOWNSHIP),
    6: (FENGHUANG, FENGHUANG, address.FROM_COUNTY),
    7: (HEPING_L, FENGHUANG, address.FROM_VILLAGE),
    8: (FENGHUANG, FENGHUANG, address.FROM_COUNTY),
    12: (LAOJIAZHAI, FENGHUANG, address.FROM_VILLAGE),
    13: (BAOJING, BAOJING, address.FROM_COUNTY),
    14: (CHANGPUTANG, FENGHUANG, address.FROM_VILLAGE),
}
