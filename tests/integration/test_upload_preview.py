"""The upload page: a template downloaded and filled in loads without its example row, the problems are previewed
on the page grouped by reason with their first rows, an unreadable file is refused in Chinese (no job queued), and
a 全量 load needs its confirmation, checked on the server."""
import csv
import io
import re
import time

from openpyxl import load_workbook

from graph import jobs
from tests.integration.api_client import RoleClient
from tests.integration.test_web import _csrf, _login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32


def _bureau(api_app, world):
    client = api_app.test_client()
    _login(client, world.tokens["bureau_own"])
    return client


def _upload(client, name: str, content: bytes, **fields):
    data = {"csrf_token": _csrf(client, "/uploads"), "file": (io.BytesIO(content), name), **fields}
    return client.post("/uploads", data=data, content_type="multipart/form-data", follow_redirects=True)


def _uploads(neo4j_driver, world) -> int:
    return len(jobs.list_jobs(neo4j_driver, "upload", [world.ids["own_county"]], 0, 1000)[0])


def _flash(page: str) -> list[str]:
    return re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', page)


def test_unreadable_and_empty_files_are_refused_in_chinese(api_app, world, neo4j_driver):
    client = _bureau(api_app, world)
    before = _uploads(neo4j_driver, world)
    picture = _upload(client, "户信息.xlsx", PNG).get_data(as_text=True)
    assert any("无法读取" in message and "不是有效的 XLSX 工作簿" in message for message in _flash(picture))
    empty = _upload(client, "户信息.csv", b"").get_data(as_text=True)
    assert any("空的" in message for message in _flash(empty))
    assert "已完成 0/0/0/0" not in picture + empty and "not a valid" not in picture
    assert _uploads(neo4j_driver, world) == before  # nothing queued
    api = RoleClient(api_app.test_client(), world.tokens)
    refused = api.post("/api/v1/uploads", as_="bureau_own", data={"file": (io.BytesIO(PNG), "x.xlsx")},
                       content_type="multipart/form-data")
    assert refused.status_code == 422 and refused.get_json()["code"] == "unreadable_file"


def test_a_full_load_needs_its_confirmation(api_app, world, neo4j_driver):
    client = _bureau(api_app, world)
    page = client.get("/uploads").get_data(as_text=True)
    assert 'name="confirm_full"' in page and "标记为停用" in page
    before = _uploads(neo4j_driver, world)
    content = "户编号,户主姓名\n".encode("utf-8-sig")
    refused = _upload(client, "户信息.csv", content, full="1").get_data(as_text=True)
    assert any("请勾选确认" in message for message in _flash(refused))
    assert _uploads(neo4j_driver, world) == before
    api = RoleClient(api_app.test_client(), world.tokens)
    answer = api.post("/api/v1/uploads", as_="bureau_own", data={"file": (io.BytesIO(content), "x.csv"), "full": "true"},
                      content_type="multipart/form-data")
    assert answer.status_code == 422 and answer.get_json()["code"] == "full_not_confirmed"
    assert _uploads(neo4j_driver, world) == before


def test_a_filled_in_template_loads_without_its_example_and_problems_are_previewed(api_app, world):
    client = _bureau(api_app, world)
    page = client.get("/uploads").get_data(as_text=True)
    assert "下载模板：贫困户信息" in page and "下载模板：利益联结台账" in page
    template = client.get("/uploads/templates/households.xlsx")
    assert template.status_code == 200
    assert "filename*=UTF-8''" in template.headers["Content-Disposition"]
    rows = [[cell.value for cell in row] for row in load_workbook(io.BytesIO(template.data)).active.iter_rows()]
    header, example = rows
    assert str(example[0]).startswith("示例")
    bad = [["" for _ in header] for _ in range(3)]
    for number, row in enumerate(bad):
        row[header.index("户编号")] = f"43312399999999{number:02d}"
        row[header.index("户主姓名")] = "测试户"
        row[header.index("家庭人口数")] = "三口"  # not a number: every one rejected for it (and what is missing)
    text = io.StringIO()
    csv.writer(text).writerows([header, ["" if value is None else value for value in example], *bad])
    uploaded = _upload(client, "户信息（填写）.csv", text.getvalue().encode("utf-8-sig"))
    assert "文件已上传" in uploaded.get_data(as_text=True)
    api = RoleClient(api_app.test_client(), world.tokens)
    job_id = api.get("/api/v1/uploads", as_="bureau_own").get_json()["items"][0]["job_id"]
    deadline = time.monotonic() + 180
    while (job := api.get(f"/api/v1/uploads/{job_id}", as_="bureau_own").get_json())["status"] not in (
            "completed", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert job["status"] == "completed", job
    (result,) = job["result"]["files"]
    assert (result["rows_read"], result["rows_loaded"], result["rows_rejected"]) == (3, 0, 3)
    assert result["examples_skipped"] == 1
    groups = {group["message"]: group for group in job["result"]["groups"]}
    number = next(group for message, group in groups.items() if "家庭人口数" in message or any(
        example["column"] == "家庭人口数" for example in group["examples"]))
    assert number["count"] == 3 and [example["row"] for example in number["examples"]][:3] == [3, 4, 5]
    assert any("示例行" in message and group["severity"] == "信息" for message, group in groups.items())
    page = client.get(f"/uploads?highlight={job_id}").get_data(as_text=True)
    assert "问题预览（按原因" in page and "跳过示例行 1 行" in page
    assert "第 3 行 · 家庭人口数" in page and "下载报告（CSV）" in page
    report = client.get(f"/uploads/{job_id}/report.csv")
    assert report.status_code == 200 and "filename*=UTF-8''" in report.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(report.data.decode("utf-8-sig"))))
    assert lines[0] == ["文件", "工作表", "行号", "列", "值", "级别", "原因", "规则"]
