"""Synthetic bureau data in the bureaus' own file formats, over real Hunan geography (seeded).

    python -m devtools.synth --preset sample --out var/sample          # one county (凤凰县), ~1,500 households
    python -m devtools.synth --preset province --out var/bench/data    # 1,000,000 households, every Hunan county
    python -m devtools.synth --households 20000 --counties 433123000000,433124000000 --format xlsx --out DIR

Files: villages, households, members, enterprises, projects, partnerships (CSV or XLSX, official
Chinese headers of etl.formats, labels or codes). Partnerships are drawn from a hidden
compatibility (`hidden_compatibility`) that the matching never sees, so that matching
quality can be measured against it.

Test and benchmark tooling: production packages never import it (`flask sample` imports it inside
the command, at the top layer).
"""
import argparse
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.neighbors import BallTree

from core import codes
from core import geography as divisions
from core.codes import (ABLE_SKILLS, LEADING_ENTERPRISES, NEED_CAUSES, EnterpriseType, Education, Health,
                        HouseholdAttribute, HouseholdType, LabourSkill, Mechanism, MonitoringCategory, RiskCause,
                        PartnershipStatus, PovertyCause, PovertyStatus, ProjectStatus, WorkPlace, YesNo)
from core.industries import INDUSTRIES
from core.mechanisms import CAPACITY, MECHANISMS, position
from etl import formats
from etl.values import CREDIT_ALPHABET, CREDIT_WEIGHTS, ID_CHECK_CHARS, ID_WEIGHTS

HUNAN = "430000000000"
XIANGXI_COUNTIES = ["433101000000", "433122000000", "433123000000", "433124000000",
                    "433125000000", "433126000000", "433127000000", "433130000000"]
BASE_YEAR = 2020
EARTH_KM = 6371.0088
# The data dates (数据日期) of the two household extracts of the sample: the current files, and the previous year's
# households (written with previous_year=True into PREVIOUS_YEAR_DIR). Partnerships start from 2016 to the end of
# 2021, so those of 2021 started between the two: their households' incomes rose by about their 年增收.
EXTRACT_DATE = date(2021, 12, 31)
PREVIOUS_EXTRACT_DATE = date(2020, 12, 31)
PREVIOUS_YEAR_DIR = "previous-year"
INCOME_GROWTH = 0.06  # the general yearly growth of households' incomes (mean; each household its own draw)

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅林生福春金海国建荣德志文云成兴贵安永")
STEMS = list("龙凤山水溪河岩坪坝塘桥湾冲寨田林竹茶桃花石泉峰岭坡洞江口阳溪云松柏")
ETHNICITIES = ["汉族", "土家族", "苗族", "侗族", "瑶族", "白族"]

# Typical industries by prefecture (4-digit code prefix); the rest of Hunan uses DEFAULT_INDUSTRIES.
INDUSTRIES_BY_PREFECTURE = {
    "4331": ["kiwi", "citrus", "tea", "oil_tea", "cattle", "herbs", "tobacco", "tourism", "handicraft"],
    "4312": ["oil_tea", "herbs", "tea", "pig", "citrus", "bamboo"],
    "4313": ["tea", "pig", "vegetable", "oil_tea", "edible_fungi"],
    "4305": ["oil_tea", "pig", "rice", "herbs", "tobacco"],
    "4311": ["citrus", "tobacco", "pig", "oil_tea", "vegetable"],
    "4310": ["tea", "tobacco", "pig", "fruit", "oil_tea"],
    "4309": ["tea", "rice", "aquatic", "bamboo"],
    "4308": ["tea", "herbs", "tourism", "fruit"],
}
DEFAULT_INDUSTRIES = ["rice", "pig", "citrus", "oil_tea", "vegetable", "poultry", "aquatic"]
CODE_OF_INDUSTRY_NAME = {industry.code: industry.name for industry in INDUSTRIES}

# Shares of enterprise types and main poverty causes (the draws follow this order: keep it for stable data).
ENTERPRISE_TYPE_SHARES = {
    EnterpriseType.NATIONAL_LEADING: 0.005, EnterpriseType.PROVINCIAL_LEADING: 0.03,
    EnterpriseType.CITY_LEADING: 0.06, EnterpriseType.COUNTY_LEADING: 0.10, EnterpriseType.COOPERATIVE: 0.40,
    EnterpriseType.FAMILY_FARM: 0.12, EnterpriseType.WORKSHOP: 0.14, EnterpriseType.ECOMMERCE: 0.06,
    EnterpriseType.PROCESSING: 0.085,
}
MAIN_CAUSE_SHARES = {
    PovertyCause.ILLNESS: 0.42, PovertyCause.DISABILITY: 0.12, PovertyCause.EDUCATION: 0.06,
    PovertyCause.DISASTER: 0.03, PovertyCause.LACK_OF_LAND: 0.03, PovertyCause.LACK_OF_WATER: 0.01,
    PovertyCause.LACK_OF_SKILLS: 0.10, PovertyCause.LACK_OF_LABOUR: 0.08, PovertyCause.LACK_OF_FUNDS: 0.13,
    PovertyCause.POOR_TRANSPORT: 0.01, PovertyCause.LACK_OF_DRIVE: 0.01,
}
OTHER_CAUSES = PovertyCause.codes(PovertyCause.LACK_OF_SKILLS, PovertyCause.LACK_OF_FUNDS,
                                  PovertyCause.LACK_OF_LABOUR, PovertyCause.ILLNESS)
# Each enterprise type's scale (leading enterprises are bigger); the others are 1.
TYPE_SCALE = {EnterpriseType.NATIONAL_LEADING: 6, EnterpriseType.PROVINCIAL_LEADING: 3.5,
              EnterpriseType.CITY_LEADING: 2, EnterpriseType.COUNTY_LEADING: 1.4}


def _draw(rng: np.random.Generator, shares: dict, n: int) -> np.ndarray:
    """n codes drawn with the given shares."""
    return rng.choice([member.value for member in shares], n, p=list(shares.values()))


@dataclass
class Geography:
    """Townships and villages generated for the chosen counties."""

    villages: pd.DataFrame  # village_code, village, township_code, township, county_code, county, prefecture, lon, lat


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([seed, sum(map(ord, stream))])


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Plausible Chinese personal names (surname + one or two given characters)."""
    surnames = rng.choice(SURNAMES, n)
    first = rng.choice(GIVEN, n)
    second = np.where(rng.random(n) < 0.7, rng.choice(GIVEN, n), "")
    return np.char.add(np.char.add(surnames, first), second)


def _place_names(rng: np.random.Generator, n: int, suffix: str) -> np.ndarray:
    return np.char.add(np.char.add(rng.choice(STEMS, n), rng.choice(STEMS, n)), suffix)


def _offset(lon: np.ndarray, lat: np.ndarray, rng: np.random.Generator, sd_km: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions scattered around the given ones (normal, sd in km)."""
    dlat = rng.normal(0, sd_km, len(lat)) / 111.2
    dlon = rng.normal(0, sd_km, len(lon)) / (111.2 * np.cos(np.radians(lat)))
    return np.round(lon + dlon, 6), np.round(lat + dlat, 6)


def make_geography(counties: list[str], seed: int) -> Geography:
    """Townships (8–20 a county) and villages (8–25 a township) with GB/T 2260-shaped codes."""
    rng = _rng(seed, "geography")
    frames = []
    for county in counties:
        record = divisions.division(county)
        prefecture = divisions.division(divisions.pad_code(county[:4])) or {"name": ""}
        n_townships = int(rng.integers(8, 21))
        township_lon, township_lat = _offset(np.full(n_townships, record["lon"]), np.full(n_townships, record["lat"]), rng, 12)
        township_names = _place_names(rng, n_townships, "镇")
        per_township = rng.integers(8, 26, n_townships)
        t_index = np.repeat(np.arange(n_townships), per_township)
        v_number = np.concatenate([np.arange(1, k + 1) for k in per_township])
        lon, lat = _offset(township_lon[t_index], township_lat[t_index], rng, 4)
        frames.append(pd.DataFrame({
            "village_code": [f"{county[:6]}{t + 1:03d}{v:03d}" for t, v in zip(t_index, v_number)],
            "village": _place_names(rng, len(t_index), "村"),
            "township_code": [f"{county[:6]}{t + 1:03d}000" for t in t_index],
            "township": township_names[t_index],
            "county_code": county, "county": record["name"], "prefecture": prefecture["name"],
            "lon": lon, "lat": lat,
        }))
    villages = pd.concat(frames, ignore_index=True)
    villages["is_poor_village"] = rng.random(len(villages)) < 0.35
    villages["relocation_site"] = rng.random(len(villages)) < 0.02
    return Geography(villages)


def county_industries(county: str) -> list[str]:
    """The industries typical of a county's prefecture."""
    return INDUSTRIES_BY_PREFECTURE.get(county[:4], DEFAULT_INDUSTRIES)


def id_check_chars(first17: np.ndarray) -> np.ndarray:
    """GB 11643 check characters for 17-digit strings, vectorised."""
    digits = np.frombuffer("".join(first17).encode("ascii"), dtype=np.uint8).reshape(-1, 17) - 48
    return ID_CHECK_CHARS[(digits @ ID_WEIGHTS) % 11]


def credit_check_chars(first17: list[str]) -> np.ndarray:
    """GB 32100 check characters for 17-character strings."""
    value = {char: i for i, char in enumerate(CREDIT_ALPHABET)}
    matrix = np.array([[value[c] for c in code] for code in first17], dtype=np.int64)
    return np.array(list(CREDIT_ALPHABET))[(31 - (matrix @ CREDIT_WEIGHTS) % 31) % 31]


def make_households(geography: Geography, n: int, seed: int) -> pd.DataFrame:
    """Household rows (typed; labels are applied when writing)."""
    rng = _rng(seed, "households")
    villages = geography.villages
    weights = rng.gamma(2.0, 1.0, len(villages))
    village = rng.choice(len(villages), n, p=weights / weights.sum())
    v = villages.iloc[village].reset_index(drop=True)
    frame = pd.DataFrame({"village_code": v["village_code"], "county_code": v["county_code"], "county": v["county"],
                          "prefecture": v["prefecture"], "township": v["township"], "village": v["village"]})
    order = np.lexsort((np.arange(n), frame["county_code"].to_numpy()))
    frame = frame.iloc[order].reset_index(drop=True)
    sequence = frame.groupby("county_code").cumcount() + 1
    frame["household_id"] = frame["county_code"].str[:6] + "0" + sequence.map("{:09d}".format)
    frame["household_size"] = np.clip(rng.poisson(2.0, n) + 1, 1, 8)
    frame["main_cause"] = _draw(rng, MAIN_CAUSE_SHARES, n)
    extra = rng.integers(0, 3, n)
    frame["other_causes"] = [list(rng.choice(OTHER_CAUSES, k, replace=False)) for k in extra]
    frame["other_causes"] = [[c for c in others if c != main] for others, main in zip(frame["other_causes"], frame["main_cause"])]
    frame["attribute"] = rng.choice(HouseholdAttribute.codes(), n, p=[0.65, 0.28, 0.07])
    frame["income_per_capita"] = np.round(np.clip(rng.lognormal(np.log(5000), 0.45, n), 1500, 20000), 0)
    frame["poverty_status"] = rng.choice(PovertyStatus.codes(), n, p=[0.15, 0.82, 0.03])
    frame["exit_year"] = np.where(frame["poverty_status"] == PovertyStatus.EXITED, rng.integers(2015, 2021, n), 0)
    mountain = frame["county_code"].str[:4].isin(["4331", "4312", "4313", "4305"]).to_numpy()
    frame["arable_mu"] = np.round(np.where(rng.random(n) < 0.12, 0, rng.lognormal(np.log(2.0), 0.6, n)), 1)
    frame["irrigated_mu"] = np.round(frame["arable_mu"] * rng.uniform(0.2, 0.9, n), 1)
    frame["forest_mu"] = np.round(np.where(rng.random(n) < (0.6 if True else 0.3), rng.lognormal(np.log(3 + 4 * mountain), 0.8), 0), 1)
    frame["orchard_mu"] = np.round(np.where(rng.random(n) < 0.25, rng.uniform(0.3, 3, n), 0), 1)
    frame["water_mu"] = np.round(np.where(rng.random(n) < 0.05, rng.uniform(0.2, 2, n), 0), 1)
    frame["pasture_mu"] = 0.0
    frame["road_distance_km"] = np.round(rng.exponential(1.5, n), 1)
    frame["dilapidated_house"] = rng.random(n) < 0.08
    frame["relocated"] = rng.random(n) < 0.05
    frame["in_cooperative"] = rng.random(n) < 0.3
    frame["has_leading_enterprise"] = rng.random(n) < 0.25
    frame["household_type"] = np.where(rng.random(n) < 0.6, HouseholdType.FORMERLY_POOR.value, None)
    frame["monitoring_category"] = np.where(rng.random(n) < 0.06, rng.choice(MonitoringCategory.codes(), n), None)
    industries = frame["county_code"].map(county_industries)
    product_count = np.where(rng.random(n) < 0.15, 0, rng.integers(1, 3, n))
    frame["industry_codes"] = [list(rng.choice(choices, min(k, len(choices)), replace=False)) for choices, k in
                               zip(industries, product_count)]
    # Households sit at their village's position, as the registry knows them.
    frame["lon"], frame["lat"] = v["lon"].to_numpy()[order], v["lat"].to_numpy()[order]
    frame["diligence"] = rng.normal(0, 1, n)  # hidden: never written
    # 建档立卡 began in 2014; later entrants up to 2019, never after the exit (drawn last: earlier draws unchanged)
    identified = np.where(rng.random(n) < 0.8, 2014, rng.integers(2015, 2020, n))
    exited = frame["exit_year"].to_numpy() > 0
    frame["identification_year"] = np.where(exited, np.minimum(identified, frame["exit_year"]), identified)
    _living_conditions(frame, _rng(seed, "living"))
    return frame


def _living_conditions(frame: pd.DataFrame, rng: np.random.Generator) -> None:
    """Monitoring risks, housing, water and power as the registry records them (a stream of their own, so the
    rest of the data is what it was before these fields were generated)."""
    n = len(frame)
    monitored = frame["monitoring_category"].notna().to_numpy()
    risks = rng.choice(RiskCause.codes(), (n, 2), p=[0.35, 0.1, 0.15, 0.1, 0.05, 0.1, 0.1, 0.03, 0.02])
    second = rng.random(n) < 0.3
    frame["risk_causes"] = [sorted({first, *([other] if both and other != first else [])}) if watched else []
                            for first, other, both, watched in zip(risks[:, 0], risks[:, 1], second, monitored)]
    since = pd.Timestamp("2021-03-01") + pd.to_timedelta(rng.integers(0, 1300, n), unit="D")
    frame["monitoring_since"] = np.where(monitored, since.strftime("%Y-%m-%d"), None)
    removed = monitored & (rng.random(n) < 0.4)
    frame["risk_removed"] = np.where(monitored, removed, None)
    removed_on = since + pd.to_timedelta(rng.integers(90, 500, n), unit="D")
    frame["risk_removed_date"] = np.where(removed, removed_on.strftime("%Y-%m-%d"), None)
    frame["housing_secure"] = rng.random(n) < 0.98
    frame["housing_area_m2"] = np.round(np.clip(rng.lognormal(np.log(95), 0.35, n), 20, 400), 0)
    frame["electricity"] = rng.random(n) < 0.995
    frame["drinking_water_difficult"] = rng.random(n) < 0.03
    frame["drinking_water_safe"] = rng.random(n) < 0.97
    frame["sanitary_toilet"] = rng.random(n) < 0.7


def make_members(households: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Member rows: ages, labour skills, health consistent with each household's cause."""
    rng = _rng(seed, "members")
    sizes = households["household_size"].to_numpy()
    owner = np.repeat(np.arange(len(households)), sizes)
    position = np.arange(len(owner)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    m = len(owner)
    head_age = rng.integers(30, 76, len(households))
    age = np.where(position == 0, head_age[owner],
                   np.where(position == 1, np.clip(head_age[owner] + rng.integers(-5, 4, m), 20, 90),
                            np.where(rng.random(m) < 0.75, np.clip(head_age[owner] - rng.integers(20, 32, m), 0, 60),
                                     np.clip(head_age[owner] + rng.integers(20, 30, m), 60, 95))))
    cause = households["main_cause"].to_numpy()[owner]
    health = np.where(rng.random(m) < 0.08, Health.CHRONIC, Health.HEALTHY)
    first_member = position == 0
    health = np.where(first_member & (cause == PovertyCause.ILLNESS),
                      rng.choice(Health.codes(Health.CHRONIC, Health.SERIOUS_ILLNESS), m), health)
    health = np.where(first_member & (cause == PovertyCause.DISABILITY), Health.DISABLED, health)
    adult = (age >= 16) & (age < 65)
    skill = np.where(rng.random(m) < 0.18, LabourSkill.SKILLED, LabourSkill.ORDINARY)
    skill = np.where(rng.random(m) < 0.12, LabourSkill.WEAK, skill)
    skill = np.where(np.isin(health, Health.codes(Health.SERIOUS_ILLNESS, Health.DISABLED)),
                     rng.choice(LabourSkill.codes(LabourSkill.WEAK, LabourSkill.LOST), m), skill)
    skill = np.where(health == Health.CHRONIC, np.where(rng.random(m) < 0.5, LabourSkill.WEAK, skill), skill)
    skill = np.where(adult, skill, np.where((age >= 65) & (age < 72) & (rng.random(m) < 0.4),
                                            LabourSkill.WEAK, LabourSkill.NONE))
    short_of_labour = (cause == PovertyCause.LACK_OF_LABOUR) & (rng.random(m) < 0.7)
    skill = np.where(short_of_labour & np.isin(skill, LabourSkill.codes(*ABLE_SKILLS)), LabourSkill.WEAK, skill)
    head_male = (rng.random(len(households)) < 0.85).astype(int)
    sex_digit = np.where(position == 0, head_male[owner],
                         np.where(position == 1, 1 - head_male[owner], rng.integers(0, 2, m)))  # 1 = male
    birth = pd.to_datetime((BASE_YEAR - age).astype(str), format="%Y") + pd.to_timedelta(rng.integers(0, 365, m), unit="D")
    county6 = households["county_code"].str[:6].to_numpy()[owner]
    serial = (np.arange(m) // 7 % 500) * 2 + sex_digit
    frame = pd.DataFrame({"household_id": households["household_id"].to_numpy()[owner]})
    frame["member_id"] = frame["household_id"] + (position + 1).astype(str).astype(object)
    frame["position"] = position
    frame["age"] = age
    frame["name"] = _names(rng, m)
    surname = pd.Series(frame["name"].str[0].to_numpy()[np.cumsum(sizes) - sizes][owner])
    frame["name"] = np.where(position == 1, frame["name"], surname + frame["name"].str[1:])
    frame["id_prefix"] = county6 + birth.strftime("%Y%m%d").to_numpy()
    frame["serial"] = serial
    frame = _unique_ids(frame)
    frame["relation"] = np.where(position == 0, "户主", np.where(position == 1, "配偶",
                                 np.where(age < head_age[owner], np.where(sex_digit == 1, "之子", "之女"), "之父母")))
    frame["sex"] = np.where(frame["id_number"].str[16].astype(int) % 2 == 1, "男", "女")
    frame["ethnicity"] = rng.choice(ETHNICITIES, m, p=[0.4, 0.3, 0.2, 0.05, 0.03, 0.02])
    frame["education"] = np.where(age < 6, Education.PRESCHOOL, rng.choice(
        Education.codes(Education.ILLITERATE, Education.PRIMARY, Education.JUNIOR, Education.SENIOR, Education.TERTIARY),
        m, p=[0.12, 0.38, 0.38, 0.09, 0.03]))
    frame["school_status"] = np.where((age >= 6) & (age < 19), "在校生", "非在校生")
    frame["health"] = health
    frame["labour_skill"] = skill
    working = np.isin(skill, LabourSkill.codes(*ABLE_SKILLS)) & (rng.random(m) < 0.6)
    frame["work_status"] = np.where(working, "务工", None)
    frame["work_months"] = np.where(working, rng.integers(3, 13, m), 0)
    frame["work_place"] = np.where(working, rng.choice(WorkPlace.codes(), m, p=[0.2, 0.3, 0.25, 0.25]), None)
    # Insurance from a stream of its own, so the rest is what it was before these columns were generated.
    insured = _rng(seed, "insurance").random((m, 3))
    frame["medical_insurance"] = insured[:, 0] < 0.99
    frame["critical_illness_insurance"] = insured[:, 1] < 0.97
    frame["pension_insurance"] = np.where(age >= 16, insured[:, 2] < 0.9, None)
    frame["id_type"] = "居民身份证"
    return frame.drop(columns=["id_prefix", "serial"])


def _unique_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """ID numbers unique across the data set (serials bumped where two people would collide)."""
    serial = frame["serial"].to_numpy().copy()
    for _ in range(20):
        first17 = frame["id_prefix"].to_numpy() + pd.Series(serial).map("{:03d}".format).to_numpy()
        duplicated = pd.Series(first17).duplicated().to_numpy()
        if not duplicated.any():
            break
        serial[duplicated] = (serial[duplicated] + 2 * (1 + np.arange(duplicated.sum()) % 499)) % 1000
    frame["id_number"] = first17 + id_check_chars(first17.astype(str))
    return frame


def make_enterprises(geography: Geography, counties: list[str], n: int, seed: int) -> pd.DataFrame:
    """Enterprises with types, positions, industries, mechanisms and capacities."""
    rng = _rng(seed, "enterprises")
    villages = geography.villages
    county_of = rng.choice(counties, n)
    frame = pd.DataFrame({"county_code": county_of})
    frame["enterprise_type"] = _draw(rng, ENTERPRISE_TYPE_SHARES, n)
    by_county = {county: villages[villages["county_code"] == county] for county in counties}
    picks = [by_county[c].iloc[int(rng.integers(0, len(by_county[c])))] for c in county_of]
    frame["region_code"] = [p["village_code"] if rng.random() < 0.6 else p["township_code"] for p in picks]
    frame["lon"], frame["lat"] = _offset(np.array([p["lon"] for p in picks]), np.array([p["lat"] for p in picks]), rng, 1.5)
    frame["address"] = [f"{p['county']}{p['township']}{p['village']}" for p in picks]
    main_industry = [rng.choice(county_industries(c)) for c in county_of]
    frame["industry_codes"] = [[i] if t != EnterpriseType.ECOMMERCE else [i, "ecommerce"]
                               for i, t in zip(main_industry, frame["enterprise_type"])]
    # In draw order, duplicates dropped (a set's order would change with the interpreter's string hashing).
    frame["bought_codes"] = [list(dict.fromkeys([i, rng.choice(county_industries(c))]))
                             for i, c in zip(main_industry, county_of)]
    t = frame["enterprise_type"].to_numpy()
    leading = np.isin(t, EnterpriseType.codes(*LEADING_ENTERPRISES))
    scale = np.array([TYPE_SCALE.get(kind, 1.0) for kind in t], dtype=float)

    def of_type(*kinds: EnterpriseType) -> np.ndarray:
        return np.isin(t, EnterpriseType.codes(*kinds))

    offers = {  # which enterprises offer each mechanism (drawn in mechanism order)
        Mechanism.EMPLOYMENT: (leading | of_type(EnterpriseType.WORKSHOP, EnterpriseType.PROCESSING))
        | (rng.random(n) < 0.3),
        Mechanism.CONTRACT_PURCHASE: (leading | of_type(EnterpriseType.COOPERATIVE, EnterpriseType.PROCESSING))
        & (rng.random(n) < 0.8),
        Mechanism.LAND_LEASE: (leading | of_type(EnterpriseType.COOPERATIVE, EnterpriseType.FAMILY_FARM))
        & (rng.random(n) < 0.5),
        Mechanism.EQUITY: (leading | of_type(EnterpriseType.COOPERATIVE)) & (rng.random(n) < 0.45),
        Mechanism.ECOMMERCE: of_type(EnterpriseType.ECOMMERCE, EnterpriseType.COOPERATIVE,
                                     EnterpriseType.PROVINCIAL_LEADING) & (rng.random(n) < 0.7),
    }
    employs = offers[Mechanism.EMPLOYMENT]
    frame["jobs_offered"] = np.where(employs, np.where(t == EnterpriseType.WORKSHOP, rng.integers(8, 20, n),
                                                        np.round(rng.integers(5, 40, n) * scale)), 0).astype(int)
    frame["skill_required"] = np.where(employs & (rng.random(n) < 0.15), LabourSkill.SKILLED.value, None)
    frame["contract_households"] = np.where(offers[Mechanism.CONTRACT_PURCHASE],
                                            np.round(rng.integers(10, 60, n) * scale), 0).astype(int)
    frame["land_wanted_mu"] = np.where(offers[Mechanism.LAND_LEASE],
                                       np.round(rng.integers(30, 300, n) * scale), 0).astype(int)
    frame["equity_households"] = np.where(offers[Mechanism.EQUITY],
                                          np.round(rng.integers(10, 50, n) * scale), 0).astype(int)
    frame["ecommerce_households"] = np.where(offers[Mechanism.ECOMMERCE],
                                             np.round(rng.integers(20, 120, n) * scale), 0).astype(int)
    frame["mechanisms"] = [[m.value for m in MECHANISMS if offers[m][i]] for i in range(n)]
    frame["certified_poverty_products"] = rng.random(n) < 0.3
    frame["quality"] = rng.normal(0, 1, n)  # hidden: never written
    order = np.lexsort((np.arange(n), frame["county_code"].to_numpy()))
    frame = frame.iloc[order].reset_index(drop=True)
    # GB 32100 registration authority: 93 farmers' cooperatives, 52 social organisations (workshops), 91 companies.
    registry = np.where(frame["enterprise_type"] == EnterpriseType.COOPERATIVE, "93",
                        np.where(frame["enterprise_type"] == EnterpriseType.WORKSHOP, "52", "91"))
    organisation = [f"MA{i:07X}".replace("I", "J").replace("O", "P").replace("S", "T").replace("V", "W").replace("Z", "Y")[:9]
                    for i in rng.permutation(n) + 0x100000]
    first17 = [r + c[:6] + o for r, c, o in zip(registry, frame["county_code"], organisation)]
    frame["credit_code"] = [f + ch for f, ch in zip(first17, credit_check_chars(first17))]
    kinds = frame["enterprise_type"].map(codes.EnterpriseType.labels())
    frame["name"] = [f"{county}{_place_names(rng, 1, '')[0]}{CODE_OF_INDUSTRY_NAME[i[0]]}{kind if kind.endswith(('社', '场', '间')) else '有限公司'}"
                     for county, i, kind in zip(frame["county_code"].map(lambda c: divisions.division(c)["name"]), frame["industry_codes"], kinds)]
    frame["contact"] = _names(rng, n)
    frame["phone"] = [f"1{rng.choice(['3', '5', '8'])}{rng.integers(0, 10**9):09d}" for _ in range(n)]
    return frame


def make_projects(enterprises: pd.DataFrame, counties: list[str], n: int, seed: int) -> pd.DataFrame:
    """Industry projects with an implementing enterprise of the same county."""
    rng = _rng(seed, "projects")
    county_of = rng.choice(counties, n)
    frame = pd.DataFrame({"region_code": county_of})
    frame["project_id"] = [f"XM{c[:6]}{i:05d}" for i, c in enumerate(county_of, start=1)]
    industry = [rng.choice(county_industries(c)) for c in county_of]
    frame["industry"] = [CODE_OF_INDUSTRY_NAME[i] for i in industry]
    frame["name"] = [f"{divisions.division(c)['name']}{CODE_OF_INDUSTRY_NAME[i]}产业基地建设项目" for c, i in zip(county_of, industry)]
    frame["address"] = [f"{divisions.division(c)['name']}{CODE_OF_INDUSTRY_NAME[i]}产业基地" for c, i in zip(county_of, industry)]
    frame["fund_source"] = rng.choice(["财政专项扶贫资金", "涉农整合资金", "东西部协作资金", "社会帮扶资金"], n, p=[0.5, 0.3, 0.1, 0.1])
    frame["budget_wan"] = np.round(rng.lognormal(np.log(150), 0.8, n), 1)
    grouped = enterprises.groupby("county_code")
    implementers = [grouped.get_group(c).sample(1, random_state=int(rng.integers(0, 2**31))).iloc[0]
                    if c in grouped.groups else None for c in county_of]
    frame["implementer_credit_code"] = [e["credit_code"] if e is not None else None for e in implementers]
    frame["implementer"] = [e["name"] if e is not None else None for e in implementers]
    frame["mechanism"] = rng.choice(Mechanism.codes(Mechanism.EMPLOYMENT, Mechanism.CONTRACT_PURCHASE,
                                                     Mechanism.LAND_LEASE, Mechanism.EQUITY), n, p=[0.35, 0.3, 0.15, 0.2])
    frame["target_households"] = rng.integers(20, 400, n)
    frame["start_year"] = rng.integers(2016, 2023, n)
    frame["end_year"] = frame["start_year"] + rng.integers(1, 4, n)
    frame["status"] = rng.choice(ProjectStatus.codes(ProjectStatus.BUILDING, ProjectStatus.BUILT, ProjectStatus.OPERATING),
                                 n, p=[0.2, 0.3, 0.5])
    return frame


def hidden_compatibility(distance_km, industry_fit, labour, land_mu, need, mechanism, quality, diligence, noise):
    """The latent appeal of a pairing that produced the partnership history (matching never sees it).

    `mechanism` holds positions in MECHANISMS."""
    decay_km = {Mechanism.EMPLOYMENT: 12.0, Mechanism.CONTRACT_PURCHASE: 25.0, Mechanism.LAND_LEASE: 6.0,
                Mechanism.EQUITY: 60.0, Mechanism.ECOMMERCE: 60.0}
    scale = np.array([decay_km[m] for m in MECHANISMS])[mechanism]
    equity = mechanism == position(Mechanism.EQUITY)
    return (2.2 * np.exp(-distance_km / scale) + 1.5 * industry_fit + 0.5 * np.minimum(labour, 2)
            + 0.3 * np.minimum(land_mu, 5) / 5 + 0.8 * need * equity + 0.6 * quality + 0.4 * diligence + noise)


def make_partnerships(households: pd.DataFrame, members: pd.DataFrame, enterprises: pd.DataFrame,
                      projects: pd.DataFrame, seed: int, share: float = 0.65) -> pd.DataFrame:
    """A history of partnerships chosen by hidden compatibility within the eligibility rules and capacity."""
    rng = _rng(seed, "partnerships")
    labour = members[members["labour_skill"].isin(LabourSkill.codes(*ABLE_SKILLS))].groupby("household_id").size()
    skilled = members[members["labour_skill"] == LabourSkill.SKILLED].groupby("household_id").size()
    h_skilled = households["household_id"].map(skilled).fillna(0).to_numpy()
    needs_skill = (enterprises["skill_required"] == LabourSkill.SKILLED).to_numpy()
    weak = members[members["labour_skill"] == LabourSkill.WEAK].groupby("household_id").size()
    h_labour = households["household_id"].map(labour).fillna(0).to_numpy()
    h_weak = households["household_id"].map(weak).fillna(0).to_numpy()
    h_land = (households["arable_mu"] + households["forest_mu"] + households["orchard_mu"]).to_numpy()
    h_need = households["main_cause"].isin(PovertyCause.codes(*NEED_CAUSES)).to_numpy().astype(float)
    bit = {industry.code: i for i, industry in enumerate(INDUSTRIES)}

    def mask(lists):
        out = np.zeros(len(lists), dtype=np.int64)
        for i, items in enumerate(lists):
            for item in items:
                out[i] |= 1 << bit[item]
        return out

    h_mask = mask(households["industry_codes"])
    e_trade = mask(enterprises["industry_codes"]) | mask(enterprises["bought_codes"])
    e_bought = mask(enterprises["bought_codes"])
    capacity = np.column_stack([CAPACITY[m].places_array(enterprises[CAPACITY[m].field]) for m in MECHANISMS])
    capacity = np.floor(capacity * 0.8).astype(np.int64)  # history leaves room for new partnerships
    tree = BallTree(np.radians(enterprises[["lat", "lon"]].to_numpy()), metric="haversine")
    k = min(8, len(enterprises))
    distance, neighbour = tree.query(np.radians(households[["lat", "lon"]].to_numpy()), k=k)
    distance *= EARTH_KM
    n = len(households)
    h = np.repeat(np.arange(n), k * 5)
    e = np.repeat(neighbour, 5, axis=1).ravel()
    d = np.repeat(distance, 5, axis=1).ravel()
    m = np.tile(np.arange(5), n * k)
    types = enterprises["enterprise_type"].to_numpy()
    same_county = households["county_code"].to_numpy()[h] == enterprises["county_code"].to_numpy()[e]
    ok = capacity[e, m] > 0
    ok &= np.select([m == position(mechanism) for mechanism in MECHANISMS], default=False, choicelist=[
        (np.where(needs_skill[e], h_skilled[h] > 0, h_labour[h] > 0) & (d <= 30))
        | ((h_weak[h] > 0) & (types[e] == EnterpriseType.WORKSHOP) & (d <= 15)),
        ((h_mask[h] & e_bought[e]) != 0) & (h_land[h] > 0) & (h_labour[h] + h_weak[h] > 0) & (d <= 50),
        (h_land[h] >= 0.5) & (d <= 10),
        same_county,
        ((h_mask[h] & e_trade[e]) != 0) & (d <= 150),
    ]).astype(bool)
    h, e, d, m = h[ok], e[ok], d[ok], m[ok]
    appeal = hidden_compatibility(d, ((h_mask[h] & e_trade[e]) != 0).astype(float), h_labour[h], h_land[h], h_need[h], m,
                                  enterprises["quality"].to_numpy()[e], households["diligence"].to_numpy()[h],
                                  rng.gumbel(0, 0.35, len(h)))
    participates = rng.random(n) < share
    order = np.argsort(-appeal, kind="stable")
    taken = np.zeros(n, dtype=np.int64)
    limit = np.where(rng.random(n) < 0.15, 2, 1)
    chosen = []
    for i in order:  # greedy by appeal: the most attractive pairings formed first
        household = h[i]
        if not participates[household] or taken[household] >= limit[household] or capacity[e[i], m[i]] <= 0:
            continue
        capacity[e[i], m[i]] -= 1
        taken[household] += 1
        chosen.append(i)
    chosen = np.array(chosen, dtype=np.int64)
    frame = pd.DataFrame({
        "household_id": households["household_id"].to_numpy()[h[chosen]],
        "credit_code": enterprises["credit_code"].to_numpy()[e[chosen]],
        "mechanism": np.array(Mechanism.codes(*MECHANISMS))[m[chosen]],
        "land_mu": h_land[h[chosen]],
    })
    start = pd.Timestamp("2016-01-01") + pd.to_timedelta(rng.integers(0, 6 * 365, len(frame)), unit="D")
    frame["start_date"] = start.strftime("%Y-%m-%d")
    frame["end_date"] = (start + pd.to_timedelta(rng.integers(365, 5 * 365, len(frame)), unit="D")).strftime("%Y-%m-%d")
    gain = {Mechanism.EMPLOYMENT: rng.uniform(8000, 30000, len(frame)),
            Mechanism.CONTRACT_PURCHASE: rng.uniform(1500, 3000, len(frame)),
            Mechanism.LAND_LEASE: 200 * frame["land_mu"].to_numpy(), Mechanism.EQUITY: rng.uniform(900, 1500, len(frame)),
            Mechanism.ECOMMERCE: rng.uniform(500, 3000, len(frame))}
    frame["income_gain"] = np.round(np.select([frame["mechanism"] == code for code in gain], list(gain.values())), 0)
    frame["status"] = rng.choice(PartnershipStatus.codes(PartnershipStatus.IN_FORCE, PartnershipStatus.COMPLETED,
                                                         PartnershipStatus.TERMINATED), len(frame), p=[0.8, 0.12, 0.08])
    project_of = projects.groupby("implementer_credit_code")["project_id"].first()
    frame["project_id"] = frame["credit_code"].map(project_of)
    frame["note"] = frame["mechanism"].map(codes.Mechanism.labels())
    frame = frame.sort_values(["start_date", "household_id"], kind="stable").reset_index(drop=True)
    frame["partnership_id"] = [f"LJ{i:08d}" for i in range(1, len(frame) + 1)]
    return frame.drop(columns="land_mu")


def previous_incomes(households: pd.DataFrame, partnerships: pd.DataFrame, seed: int,
                     since: date = PREVIOUS_EXTRACT_DATE, until: date = EXTRACT_DATE) -> np.ndarray:
    """Each household's income per person a year before (`since`), the current one being that of `until`.

    Every household's income grew by its own draw around INCOME_GROWTH; a household whose partnership started
    between the two dates (in force or completed; a terminated one half of it) gained besides about its 年增收 per
    person, with noise. Incomes stay at 800 元 or more (so a large gain shows only in part, as in real data)."""
    rng = _rng(seed, "previous-year")
    n = len(households)
    started = partnerships[(partnerships["start_date"] > since.isoformat())
                           & (partnerships["start_date"] <= until.isoformat())]
    share = np.where(started["status"] == PartnershipStatus.TERMINATED, 0.5, 1.0)
    gain = (started["income_gain"] * share).groupby(started["household_id"]).sum()
    per_person = (households["household_id"].map(gain).fillna(0) / households["household_size"]).to_numpy()
    growth = rng.normal(INCOME_GROWTH, 0.04, n)
    before = (households["income_per_capita"].to_numpy() - per_person * rng.normal(1.0, 0.15, n)) / (1 + growth)
    return np.round(np.maximum(before + rng.normal(0, 150, n), 800), 0)


def _label(values: pd.Series, code_list: type[codes.Code], use_codes: bool) -> pd.Series:
    return values if use_codes else values.map(code_list.labels(), na_action="ignore")


def _flag(values: pd.Series, use_codes: bool) -> pd.Series:
    yes, no = (YesNo.YES.value, YesNo.NO.value) if use_codes else (YesNo.YES.label, YesNo.NO.label)
    return values.map({True: yes, False: no})


def _joined(lists: pd.Series, mapping=None) -> pd.Series:
    return lists.map(lambda items: "、".join(mapping[i] if mapping else i for i in items))


def to_bureau_tables(data: dict[str, pd.DataFrame], use_codes: bool) -> dict[str, pd.DataFrame]:
    """The typed frames as the files bureaus hold: official headers, labels or codes, lists joined."""
    villages, households, members = data["villages"], data["households"], data["members"]
    enterprises, projects, partnerships = data["enterprises"], data["projects"], data["partnerships"]
    heads = members[members["position"] == 0].set_index("household_id")
    households = households.assign(
        head_name=households["household_id"].map(heads["name"]),
        head_id_number=households["household_id"].map(heads["id_number"]),
        province="湖南省", phone=[f"1{d}{n:09d}" for d, n in zip(
            np.random.default_rng(len(households)).choice(["3", "5", "8"], len(households)),
            np.random.default_rng(len(households) + 1).integers(0, 10**9, len(households)))])
    tables = {"villages": villages.assign(is_poor_village=_flag(villages["is_poor_village"], use_codes),
                                          relocation_site=_flag(villages["relocation_site"], use_codes))}
    tables["households"] = households.assign(
        attribute=_label(households["attribute"], codes.HouseholdAttribute, use_codes),
        main_cause=_label(households["main_cause"], codes.PovertyCause, use_codes),
        other_causes=_joined(households["other_causes"], None if use_codes else codes.PovertyCause.labels()),
        poverty_status=_label(households["poverty_status"], codes.PovertyStatus, use_codes),
        exit_year=households["exit_year"].where(households["exit_year"] > 0).astype("Int64"),
        household_type=_label(households["household_type"], codes.HouseholdType, use_codes),
        monitoring_category=_label(households["monitoring_category"], codes.MonitoringCategory, use_codes),
        dilapidated_house=_flag(households["dilapidated_house"], use_codes),
        risk_causes=_joined(households["risk_causes"], None if use_codes else codes.RiskCause.labels()),
        natural_village=None, other_cause_2=None, other_cause_3=None,  # the other causes are listed in one column
        **{name: _flag(households[name], use_codes) for name in (
            "risk_removed", "housing_secure", "electricity", "drinking_water_difficult", "drinking_water_safe",
            "sanitary_toilet")},
        relocated=_flag(households["relocated"], use_codes),
        has_leading_enterprise=_flag(households["has_leading_enterprise"], use_codes),
        in_cooperative=_flag(households["in_cooperative"], use_codes),
        products=_joined(households["industry_codes"], CODE_OF_INDUSTRY_NAME))
    tables["members"] = members.assign(
        education=_label(members["education"], codes.Education, use_codes),
        health=_label(members["health"], codes.Health, use_codes),
        labour_skill=_label(members["labour_skill"], codes.LabourSkill, use_codes),
        work_place=_label(members["work_place"], codes.WorkPlace, use_codes),
        work_months=members["work_months"].where(members["work_months"] > 0).astype("Int64"),
        **{name: _flag(members[name], use_codes) for name in (
            "medical_insurance", "critical_illness_insurance", "pension_insurance")})
    tables["enterprises"] = enterprises.assign(
        enterprise_type=_label(enterprises["enterprise_type"], codes.EnterpriseType, use_codes),
        industry=_joined(enterprises["industry_codes"], CODE_OF_INDUSTRY_NAME),
        products_bought=_joined(enterprises["bought_codes"], CODE_OF_INDUSTRY_NAME),
        mechanisms=_joined(enterprises["mechanisms"], None if use_codes else codes.Mechanism.labels()),
        skill_required=_label(enterprises["skill_required"], codes.LabourSkill, use_codes),
        certified_poverty_products=_flag(enterprises["certified_poverty_products"], use_codes),
        households_capacity=None)  # each mechanism's amount is given: no shared figure
    tables["projects"] = projects.assign(
        mechanism=_label(projects["mechanism"], codes.Mechanism, use_codes),
        status=_label(projects["status"], codes.ProjectStatus, use_codes))
    tables["partnerships"] = partnerships.assign(
        mechanism=_label(partnerships["mechanism"], codes.Mechanism, use_codes),
        status=_label(partnerships["status"], codes.PartnershipStatus, use_codes))
    out = {}
    for name, frame in tables.items():
        kind = formats.KINDS[name]
        out[name] = pd.DataFrame({column.header: frame[column.name] for column in kind.columns})
    return out


def write_tables(tables: dict[str, pd.DataFrame], out_dir: Path, fmt: str, encoding: str) -> dict[str, Path]:
    """Write each table as CSV (the given encoding) or XLSX."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in tables.items():
        path = out_dir / f"{name}.{fmt}"
        if fmt == "csv":
            frame.to_csv(path, index=False, encoding=encoding)
        else:
            frame.to_excel(path, index=False, sheet_name=formats.KINDS[name].title[:31], engine="openpyxl")
        paths[name] = path
    return paths


def generate(out_dir, *, households: int = 2000, enterprises: int | None = None, projects: int | None = None,
             counties: list[str] | None = None, seed: int = 0, fmt: str = "csv", encoding: str = "utf-8",
             use_codes: bool = False, progress: bool = True, previous_year: bool = False) -> dict[str, Path]:
    """Generate a data set and write it to out_dir; returns {kind: path}.

    previous_year: also the households extract of a year before (previous_incomes), into PREVIOUS_YEAR_DIR, as
    "previous_households" (load it first, with its date: sample_loads)."""
    say = print if progress else (lambda *args, **kwargs: None)
    counties = counties or (list(divisions.counties_of(HUNAN)["code"]) if households >= 200_000 else XIANGXI_COUNTIES)
    enterprises = enterprises or max(10, households // 50)
    projects = projects or max(3, households * 3 // 1000)
    started = time.monotonic()
    geography = make_geography(counties, seed)
    say(f"区划 / geography: {len(counties)} 县, {len(geography.villages):,} 村")
    household_frame = make_households(geography, households, seed)
    member_frame = make_members(household_frame, seed)
    say(f"户 / households: {len(household_frame):,}; 人 / members: {len(member_frame):,}  ({time.monotonic() - started:.0f} s)")
    enterprise_frame = make_enterprises(geography, counties, enterprises, seed)
    project_frame = make_projects(enterprise_frame, counties, projects, seed)
    partnership_frame = make_partnerships(household_frame, member_frame, enterprise_frame, project_frame, seed)
    say(f"企业 / enterprises: {len(enterprise_frame):,}; 项目 / projects: {len(project_frame):,}; "
        f"联结 / partnerships: {len(partnership_frame):,}  ({time.monotonic() - started:.0f} s)")
    data = {"villages": geography.villages, "households": household_frame, "members": member_frame,
            "enterprises": enterprise_frame, "projects": project_frame, "partnerships": partnership_frame}
    tables = to_bureau_tables(data, use_codes)
    paths = write_tables(tables, Path(out_dir), fmt, encoding)
    if previous_year:
        income_header = next(column.header for column in formats.KINDS["households"].columns
                             if column.name == "income_per_capita")
        earlier = tables["households"].assign(**{income_header: previous_incomes(household_frame, partnership_frame,
                                                                                 seed)})
        paths["previous_households"] = write_tables({"households": earlier}, Path(out_dir) / PREVIOUS_YEAR_DIR, fmt,
                                                    encoding)["households"]
    for name, path in paths.items():
        say(f"  {path}  ({path.stat().st_size / 1e6:.1f} MB)")
    say(f"完成 / done in {time.monotonic() - started:.0f} s")
    return paths


def sample_loads(out_dir: Path, names: tuple[str, ...]) -> list[tuple[list[Path], date]]:
    """The loads of a generated data set in order, each (files, data date): with a previous year's extract, first
    the villages and that year's households (PREVIOUS_EXTRACT_DATE), then every current file (EXTRACT_DATE); without
    one, the current files (dated today: None). names: the kinds to load, in order."""
    out_dir = Path(out_dir)
    current = [path for name in names for path in sorted(out_dir.glob(f"{name}.*"))[:1]]
    previous = sorted((out_dir / PREVIOUS_YEAR_DIR).glob("households.*"))[:1]
    if not previous:
        return [(current, None)]
    villages = [path for path in current if path.stem == "villages"]
    return [(villages + previous, PREVIOUS_EXTRACT_DATE), (current, EXTRACT_DATE)]


PRESETS = {
    "sample": {"households": 1500, "enterprises": 40, "projects": 10, "counties": ["433123000000"]},
    "province": {"households": 1_000_000, "enterprises": 20_000, "projects": 3_000, "counties": None},
}


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(prog="python -m devtools.synth", description="生成合成数据 / synthetic bureau files")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--preset", choices=sorted(PRESETS))
    parser.add_argument("--households", type=int)
    parser.add_argument("--enterprises", type=int)
    parser.add_argument("--projects", type=int)
    parser.add_argument("--counties", help="comma-separated 12-digit county codes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument("--encoding", default="utf-8", choices=["utf-8", "utf-8-sig", "gb18030"])
    parser.add_argument("--codes", action="store_true", help="write codes (01) instead of labels (因病)")
    args = parser.parse_args(argv)
    options = dict(PRESETS.get(args.preset, {"households": 2000}))
    for name in ("households", "enterprises", "projects"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.counties:
        options["counties"] = args.counties.split(",")
    generate(args.out, seed=args.seed, fmt=args.format, encoding=args.encoding, use_codes=args.codes, **options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
