"""What the list pages share: reading a filter form into its query model with errors in Chinese, the number
of pages, and the answer to a page beyond the last (the last page, said so) — the markup is _lists.html."""
from flask import flash, redirect, request, url_for
from pydantic import BaseModel, ValidationError

from core import search

# The form fields' labels, for errors that name what the user typed in.
FIELD_LABELS = {
    "page": "页码", "page_size": "每页条数", "county": "县", "township": "乡镇", "village": "行政村",
    "cause": "致贫原因", "attribute": "户属性", "monitoring": "监测对象类别", "labour": "劳动力", "covered": "覆盖",
    "coverage": "覆盖状态", "sort": "排序", "order": "顺序", "cursor": "分页游标", "household_id": "户编号",
    "credit_code": "统一社会信用代码", "mechanism": "联结方式", "status": "状态", "reason": "原因",
    "q": "搜索", "kind": "类别", "overdue": "逾期", "open": "是否未关闭", "warning": "预警类别",
    "enterprise_type": "主体类型", "year": "年份", "run_id": "匹配运行", "tab": "分类",
}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, "其他条件")


def parse_query(model: type[BaseModel], args) -> tuple[BaseModel, str | None]:
    """The query model from the form's GET parameters (empty fields are absent) and None, or the model's
    defaults and an error naming the wrong fields by their labels — the page then shows no rows, never
    every row as if no filter had been given."""
    values = {key: value for key, value in args.items() if value != ""}
    try:
        return model(**values), None
    except ValidationError as error:
        wrong = {str(item["loc"][0]) if item.get("loc") else "" for item in error.errors()}
        names = []
        for item in error.errors():
            label = field_label(str(item["loc"][0])) if item.get("loc") else "其他条件"
            if label not in names and item.get("loc", [""])[0] != "q":
                names.append(label)
        parts = ["筛选条件有误：" + "、".join(names) + "。"] if names else []
        if "q" in wrong:  # the search box says what it takes
            parts.append(f"{search.LABEL}有误：只能填写户主姓名、户编号（数字）或证件号码后四位。")
        return model(), "".join(parts) + "请修改后重新查询。"


def page_count(total: int, page_size: int) -> int:
    return max((total + page_size - 1) // page_size, 1)


def beyond_last_page(endpoint: str, page: int, total: int, page_size: int, *, param: str = "page",
                     **path_args):
    """A redirect to the last page when `page` lies beyond it (e.g. 第 999 / 75 页), with a notice; else None."""
    pages = page_count(total, page_size)
    if page <= pages:
        return None
    flash(f"第 {page} 页超出范围（共 {pages} 页），已显示最后一页。", "error")
    args = request.args.to_dict()
    args[param] = pages
    return redirect(url_for(endpoint, **path_args, **args))
