"""Builders for small bureau files in every format the ETL accepts (test data, written by hand)."""
import csv
from pathlib import Path

import openpyxl
import xlwt

from etl.values import CREDIT_ALPHABET

VILLAGE = "433123101201"  # 凤凰县 (433123) township 101 village 201
OTHER_VILLAGE = "433123101202"
COUNTY = "433123000000"  # 凤凰县
OTHER_COUNTY = "433124000000"  # 花垣县, the neighbouring county
OTHER_COUNTY_VILLAGE = "433124102301"  # 花垣县 township 102 village 301


def id_number(prefix17: str) -> str:
    """A valid 18-character ID number from its first 17 digits."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return prefix17 + "10X98765432"[sum(int(d) * w for d, w in zip(prefix17, weights)) % 11]


def credit_code(prefix17: str) -> str:
    """A credit code with a correct GB 32100 check character."""
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(CREDIT_ALPHABET.index(char) * weight for char, weight in zip(prefix17, weights))
    return prefix17 + CREDIT_ALPHABET[(31 - total % 31) % 31]


def write_table(path: Path, header: list[str], rows: list[list], *, encoding: str = "utf-8",
                title: str | None = None) -> Path:
    """Write header and rows as CSV (any encoding), XLSX or XLS, with an optional title row above."""
    lines = ([[title] + [""] * (len(header) - 1)] if title else []) + [header] + [[("" if v is None else v) for v in r] for r in rows]
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with open(path, "w", newline="", encoding=encoding) as handle:
            csv.writer(handle).writerows(lines)
    elif suffix == ".xlsx":
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = "户信息"
        for line in lines:
            sheet.append(line)
        workbook.save(path)
    elif suffix == ".xls":
        workbook = xlwt.Workbook(encoding="utf-8")
        sheet = workbook.add_sheet("Sheet1")
        for r, line in enumerate(lines):
            for c, value in enumerate(line):
                sheet.write(r, c, value)
        workbook.save(str(path))
    else:
        raise ValueError(suffix)
    return path


HOUSEHOLD_HEADER = ["户编号", "户主姓名", "户主证件号码", "县", "乡镇", "行政村", "行政区划代码", "贫困户属性",
                    "主要致贫原因", "其他致贫原因", "家庭人口数", "人均纯收入（元）", "耕地面积（亩）", "林地面积（亩）",
                    "主要产业（产品）", "联系电话"]


def household_row(number: int, *, village: str = VILLAGE, cause: str = "因病", arable="2.5", products="猕猴桃、黄金茶",
                  name: str = "张三丰") -> list:
    """One valid household row."""
    head_id = id_number(f"433123198{number % 10}0101{number:03d}"[:17])
    return [f"4331231012010{number:03d}", name, head_id, "凤凰县", "廖家桥镇", "菖蒲塘村", village, "一般贫困户",
            cause, "缺技术", 3, 3200, arable, 1, products, "13800001234"]


MEMBER_HEADER = ["户编号", "人编号", "姓名", "证件号码", "与户主关系", "文化程度", "健康状况", "劳动技能", "务工地"]


def member_row(household: int, position: int, *, skill: str = "普通劳动力", id_override: str | None = None) -> list:
    """One valid member row of household `household`."""
    number = id_override or id_number(f"4331231985{position:02d}01{household:03d}"[:17])
    return [f"4331231012010{household:03d}", f"M{household:03d}{position}", "李小华", number, "之子", "初中", "健康", skill, "乡内"]


ENTERPRISE_HEADER = ["统一社会信用代码", "企业名称", "主体类型", "行政区划代码", "经度", "纬度", "所属产业", "收购产品",
                     "联结方式", "用工需求（人）", "订单收购带动户数", "流转土地需求（亩）", "入股分红带动户数"]


def enterprise_row(number: int, *, code: str | None = None, region: str = "433123101000") -> list:
    """One valid enterprise row."""
    code = code or credit_code(f"91433123MA4L{number:05d}")
    return [code, f"凤凰县第{number}猕猴桃专业合作社", "农民专业合作社", region, "109.6", "27.95", "猕猴桃", "猕猴桃",
            "就业务工、订单收购", 15, 30, 0, 0]


PARTNERSHIP_HEADER = ["联结编号", "户编号", "统一社会信用代码", "联结方式", "开始日期", "年增收（元）", "状态"]


def household_id(number: int) -> str:
    """The 户编号 that household_row / member_row give household `number`."""
    return f"4331231012010{number:03d}"


def partnership_row(ledger_id: str, household: int, code: str, *, mechanism: str = "订单收购",
                    start: str = "2019-03-01", gain: str = "2000", status: str = "履约中") -> list:
    """One valid ledger row (PARTNERSHIP_HEADER) linking household `household` to enterprise `code`."""
    return [ledger_id, household_id(household), code, mechanism, start, gain, status]


VILLAGE_HEADER = ["行政区划代码", "行政村", "乡镇", "县", "经度", "纬度", "是否贫困村"]


def village_row(code: str = VILLAGE, *, name: str = "菖蒲塘村", township: str = "廖家桥镇", county: str = "凤凰县",
                lon: str = "109.62", lat: str = "27.99") -> list:
    """One valid village row (VILLAGE_HEADER)."""
    return [code, name, township, county, lon, lat, "是"]


PROJECT_HEADER = ["项目编号", "项目名称", "行政区划代码", "产业类别", "资金来源", "资金规模（万元）",
                  "实施主体统一社会信用代码", "联结方式", "建设年度"]


def project_row(number: int, *, region: str = COUNTY, implementer: str = "") -> list:
    """One valid project row (PROJECT_HEADER)."""
    return [f"XM2019{number:04d}", f"猕猴桃产业基地建设项目{number}", region, "猕猴桃", "财政专项扶贫资金", "120",
            implementer, "订单收购", "2019"]
