"""The synthetic data generator: deterministic, official headers, valid identifiers, plausible figures.

(That its history loads without rejects and within the rules: tests/integration/test_synth.py.)"""
import numpy as np
import pandas as pd
import pytest

from core.codes import LabourSkill
from devtools import synth
from etl import formats
from etl.readers import read_file
from etl.values import credit_check_char_ok, id_check_digit_ok

COUNTIES = ["433123000000", "433124000000"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    paths = synth.generate(out, households=600, enterprises=30, projects=6, counties=COUNTIES, seed=5, progress=False)
    return paths, {kind: pd.read_csv(path, dtype=str) for kind, path in paths.items()}


def test_same_seed_same_files(generated, tmp_path):
    paths, _ = generated
    again = synth.generate(tmp_path, households=600, enterprises=30, projects=6, counties=COUNTIES, seed=5, progress=False)
    for kind, path in paths.items():
        assert path.read_bytes() == again[kind].read_bytes(), kind
    other = synth.generate(tmp_path / "other", households=600, enterprises=30, projects=6, counties=COUNTIES, seed=6,
                           progress=False)
    assert other["households"].read_bytes() != paths["households"].read_bytes()


def test_headers_are_the_official_ones_and_each_kind_is_recognised(generated):
    paths, frames = generated
    for kind, frame in frames.items():
        assert list(frame.columns) == [column.header for column in formats.KINDS[kind].columns]
        assert read_file(paths[kind])[0].kind.name == kind


def test_identifiers_are_valid_and_unique(generated):
    _, frames = generated
    members, enterprises, households = frames["members"], frames["enterprises"], frames["households"]
    assert id_check_digit_ok(members["证件号码"]).all()
    assert members["证件号码"].is_unique and households["户编号"].is_unique
    assert credit_check_char_ok(enterprises["统一社会信用代码"]).all() and enterprises["统一社会信用代码"].is_unique
    assert members["证件号码"].str[:6].isin([c[:6] for c in COUNTIES]).all()
    heads = members[members["与户主关系"] == "户主"].set_index("户编号")["证件号码"]
    assert (households.set_index("户编号")["户主证件号码"] == heads).all()
    assert set(members["户编号"]) == set(households["户编号"])
    sex_from_id = np.where(members["证件号码"].str[16].astype(int) % 2 == 1, "男", "女")
    assert (members["性别"] == sex_from_id).all()


def test_distributions_are_plausible(generated):
    _, frames = generated
    households, members = frames["households"], frames["members"]
    assert 2.5 <= households["家庭人口数"].astype(int).mean() <= 3.5
    assert 0.3 <= (households["主要致贫原因"] == "因病").mean() <= 0.55
    assert set(members["劳动技能"]) <= set(LabourSkill.labels().values())
    assert 0.4 <= frames["partnerships"]["户编号"].nunique() / len(households) <= 0.8


def test_gbk_and_xlsx_outputs_read_back(tmp_path):
    gbk = synth.generate(tmp_path / "gbk", households=50, enterprises=5, projects=2, counties=COUNTIES[:1], seed=1,
                         encoding="gb18030", progress=False)
    assert read_file(gbk["households"])[0].encoding == "gb18030"
    xlsx = synth.generate(tmp_path / "xlsx", households=50, enterprises=5, projects=2, counties=COUNTIES[:1], seed=1,
                          fmt="xlsx", use_codes=True, progress=False)
    table = read_file(xlsx["members"])[0]
    assert table.kind.name == "members" and set(table.frame["labour_skill"]) <= set(LabourSkill.codes())
