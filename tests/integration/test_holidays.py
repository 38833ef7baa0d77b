"""A township's local holidays: imported from .csv/.xlsx row by row (all or nothing, upserted), read into the
working-day calendar in one query, and the CLI and API over them."""
import codecs
import csv
import io
from datetime import UTC, date, datetime

import openpyxl
import pytest
from sqlalchemy import event, select

from app.deadlines.calendar import calendar_for
from app.deadlines.holidays import HolidayImportError, holidays_of, import_holidays
from app.models import LocalHoliday, Org

NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
LATER = datetime(2026, 9, 2, 2, 0, tzinfo=UTC)
HEADER = ["日期", "类型", "名称"]
GOOD_ROWS = [
    ["2026-09-21", "休息", "镇庙会"],
    ["2026-09-19", "调休上班", "庙会调休"],
    ["2026-11-16", "放假", "防汛补休"],
]
URL = "/api/v1/townships/{}/holidays"


def csv_bytes(rows, header=HEADER, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, header=HEADER) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def stored(session, township: Org) -> list[tuple]:
    session.expire_all()
    return [(h.day.isoformat(), h.is_workday, h.name) for h in holidays_of(session, township.id)]


@pytest.fixture
def people(app, deps):
    from app.admin.seed import seed_people

    seed_people(deps(), app.config["PASSWORD_HASH_PROFILE"])


@pytest.fixture
def township(people, db_session) -> Org:
    return db_session.scalar(select(Org).where(Org.code == "SFZ"))


@pytest.fixture
def other(people, db_session) -> Org:
    return db_session.scalar(select(Org).where(Org.code == "QSZ"))


# -- import ---------------------------------------------------------------------------------------------

def test_a_good_csv_is_imported_and_changes_the_townships_deadlines(db_session, township, other):
    report = import_holidays(db_session, township.id, csv_bytes(GOOD_ROWS), "示范镇节假日.csv", NOW)
    db_session.commit()
    assert (report.rows, report.days_off, report.workdays) == (3, 2, 1)
    assert (report.added, report.updated, report.unchanged) == (3, 0, 0)
    assert report.summary() == "示范镇节假日.csv：共 3 行（休息 2，上班 1）；新增 3，更新 0，未变 0"
    assert stored(db_session, township) == [("2026-09-19", True, "庙会调休"), ("2026-09-21", False, "镇庙会"),
                                            ("2026-11-16", False, "防汛补休")]
    friday = datetime(2026, 9, 18, 2, 0, tzinfo=UTC)
    here = calendar_for(db_session, township.id)
    assert here.add_working_days(friday, 3) == datetime(2026, 9, 22, 9, 30, tzinfo=UTC)  # Sat 19, Sun 20, Tue 22
    assert calendar_for(db_session, other.id).add_working_days(friday, 3) == datetime(2026, 9, 22, 9, 30, tzinfo=UTC)
    assert calendar_for(db_session, township.id).add_working_days(friday, 2) == \
        datetime(2026, 9, 20, 9, 30, tzinfo=UTC)
    assert calendar_for(db_session, other.id).add_working_days(friday, 2) == datetime(2026, 9, 21, 9, 30, tzinfo=UTC)
    assert holidays_of(db_session, other.id) == []


def test_an_xlsx_with_date_cells_and_english_headers_is_imported(db_session, township):
    rows = [[datetime(2026, 10, 10), "holiday", "取消调休"], [date(2026, 10, 5), "Workday", "值班"]]
    report = import_holidays(db_session, township.id, xlsx_bytes(rows, ["date", "type", "name"]), "h.xlsx", NOW)
    assert (report.added, report.days_off, report.workdays) == (2, 1, 1)
    here = calendar_for(db_session, township.id)
    assert not here.is_workday(date(2026, 10, 10)) and here.is_workday(date(2026, 10, 5))


def test_a_gbk_csv_from_chinese_excel_with_slashed_dates_is_read(db_session, township):
    data = csv_bytes([["2026/9/21", "休息", "镇庙会"]], encoding="gb18030")
    assert import_holidays(db_session, township.id, data, "庙会.csv", NOW).added == 1
    assert stored(db_session, township) == [("2026-09-21", False, "镇庙会")]


def test_importing_again_updates_the_dates_in_the_file_and_leaves_the_others(db_session, township):
    import_holidays(db_session, township.id, csv_bytes(GOOD_ROWS), "first.csv", NOW)
    db_session.commit()
    first_created = db_session.scalar(select(LocalHoliday.created_at).where(LocalHoliday.day == date(2026, 9, 21)))
    again = [["2026-09-21", "上班", "庙会改期"], ["2026-09-19", "调休上班", "庙会调休"], ["2026-12-31", "休息", "年终"]]
    report = import_holidays(db_session, township.id, csv_bytes(again), "second.csv", LATER)
    db_session.commit()
    assert (report.added, report.updated, report.unchanged) == (1, 1, 1)
    assert stored(db_session, township) == [("2026-09-19", True, "庙会调休"), ("2026-09-21", True, "庙会改期"),
                                            ("2026-11-16", False, "防汛补休"), ("2026-12-31", False, "年终")]
    rows = {h.day: h for h in db_session.scalars(select(LocalHoliday))}
    assert rows[date(2026, 9, 21)].created_at == first_created == NOW
    assert rows[date(2026, 12, 31)].created_at == LATER


def test_a_file_with_bad_rows_is_refused_row_by_row_and_nothing_is_written(db_session, township):
    import_holidays(db_session, township.id, csv_bytes(GOOD_ROWS[:1]), "first.csv", NOW)
    db_session.commit()
    before = stored(db_session, township)
    rows = [
        ["2026-10-20", "休息", "好的一行"],  # row 2: fine, yet not written
        ["2026-02-30", "休息", "二月三十"],  # row 3
        ["2026.10.01", "放假", "点号"],  # row 4
        ["", "休息", "没有日期"],  # row 5
        ["2026-10-21", "请假", "类型不认识"],  # row 6
        ["2026-10-22", "", "没有类型"],  # row 7
        ["2026-10-23", "休息", ""],  # row 8
        ["2026-10-20", "上班", "重复"],  # row 9: the date of row 2
        ["1926-10-24", "休息", "年份"],  # row 10
        ["2026-13-01", "加班", ""],  # row 11: three problems
        ["2026-10-25", "休息", "名" * 65],  # row 12
    ]
    with pytest.raises(HolidayImportError) as caught:
        import_holidays(db_session, township.id, csv_bytes(rows), "bad.csv", LATER)
    db_session.rollback()
    lines = [str(p) for p in caught.value.report.problems]
    assert lines == [
        "第 3 行 日期：2026-02-30 不是存在的日期",
        "第 4 行 日期：“2026.10.01”不是日期；请写成 YYYY-MM-DD，如 2026-10-08",
        "第 5 行 日期：日期不能为空",
        "第 6 行 类型：不认识的类型“请假”；请填 休息、放假、上班 或 调休上班（或 holiday、workday）",
        "第 7 行 类型：类型不能为空；请填 休息、放假、上班 或 调休上班（或 holiday、workday）",
        "第 8 行 名称：名称不能为空",
        "第 9 行 日期：2026-10-20 在第 2 行已出现",
        "第 10 行 日期：1926-10-24 的年份不在 2000 到 2100 之间",
        "第 11 行 日期：2026-13-01 不是存在的日期",
        "第 11 行 类型：不认识的类型“加班”；请填 休息、放假、上班 或 调休上班（或 holiday、workday）",
        "第 11 行 名称：名称不能为空",
        "第 12 行 名称：名称不能超过 64 个字符（现有 65 个）",
    ]
    assert caught.value.message == "bad.csv 有 12 处问题，未导入任何数据"
    assert caught.value.details["第3行.day"] == ["2026-02-30 不是存在的日期"]
    assert stored(db_session, township) == before


@pytest.mark.parametrize("filename,data,message", [
    ("h.txt", b"\xe6\x97\xa5\xe6\x9c\x9f\n", "只能导入 .xlsx 或 .csv 文件"),
    ("h.xlsx", b"MZ\x90\x00" + b"\x00" * 200, "不是有效的 Excel (.xlsx) 文件"),
    ("h.csv", b"", "文件是空的"),
    ("h.csv", csv_bytes([]), "只有表头，没有数据行"),
    ("h.csv", csv_bytes([["2026-10-01", "休息"]], header=["日期", "类型"]), "缺少列：名称"),
    ("h.csv", csv_bytes([["2026-10-01", "休息", "x", "y"]], header=[*HEADER, "备注"]), "不认识的列“备注”"),
    ("h.csv", codecs.BOM_UTF16_LE + "日期".encode("utf-16-le"), "UTF-16"),
    ("h.csv", b"x" * (1024 * 1024 + 1), "文件超过 1 MB"),
])
def test_a_file_that_is_not_a_holiday_table_gets_one_clear_message(db_session, township, filename, data, message):
    with pytest.raises(HolidayImportError) as caught:
        import_holidays(db_session, township.id, data, filename, NOW)
    [problem] = caught.value.report.problems
    assert message in str(problem)
    assert holidays_of(db_session, township.id) == []


def test_only_a_township_has_a_holiday_table(db_session, people):
    from app.approvals.errors import NotFound

    unit = db_session.scalar(select(Org).where(Org.code == "SFZ-NYB"))
    with pytest.raises(NotFound):
        import_holidays(db_session, unit.id, csv_bytes(GOOD_ROWS), "h.csv", NOW)


# -- the calendar loader ----------------------------------------------------------------------------------

def test_the_calendar_is_loaded_in_one_query_and_the_national_one_in_none(app, db_session, township):
    import_holidays(db_session, township.id, csv_bytes(GOOD_ROWS), "h.csv", NOW)
    db_session.commit()
    statements = []
    engine = db_session.get_bind()

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        db_session.expire_all()
        here = calendar_for(db_session, township.id)
        national = calendar_for(db_session, None)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len([s for s in statements if "local_holiday" in s]) == 1 and len(statements) <= 2  # + BEGIN on some
    assert dict(here.overrides) == {date(2026, 9, 21): False, date(2026, 9, 19): True, date(2026, 11, 16): False}
    assert dict(national.overrides) == {}


# -- CLI ----------------------------------------------------------------------------------------------------

@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def run(*args):
        return runner.invoke(args=list(args))

    return run


def test_the_cli_imports_and_lists_a_townships_days(cli, db_session, township, tmp_path):
    path = tmp_path / "节假日.xlsx"
    path.write_bytes(xlsx_bytes(GOOD_ROWS))
    result = cli("holidays", "import", str(path), "--township", "SFZ")
    assert result.exit_code == 0, result.output
    assert "已导入 示范镇（SFZ）节假日.xlsx：共 3 行（休息 2，上班 1）；新增 3，更新 0，未变 0" in result.output
    assert cli("holidays", "list", "SFZ").output.splitlines() == [
        "日期\t类型\t名称", "2026-09-19\t上班\t庙会调休", "2026-09-21\t休息\t镇庙会", "2026-11-16\t休息\t防汛补休"]
    assert cli("holidays", "list", "SFZ", "--year", "2027").output.strip() == \
        "示范镇：2027 年没有本地节假日（可用 flask holidays import 导入）"
    assert "没有本地节假日" in cli("holidays", "list", "QSZ").output


def test_the_cli_refuses_a_bad_file_listing_each_row_and_importing_nothing(cli, db_session, township, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([["2026-09-21", "休息", "镇庙会"], ["2026-09-31", "休息", "x"],
                                ["2026-10-02", "补班", "y"], ["2026-09-21", "上班", "z"]]))
    result = cli("holidays", "import", str(path), "--township", "SFZ")
    assert result.exit_code == 1
    assert "bad.csv 有 3 处问题，未导入任何数据" in result.output
    assert "  第 3 行 日期：2026-09-31 不是存在的日期" in result.output
    assert "  第 4 行 类型：不认识的类型“补班”" in result.output
    assert "  第 5 行 日期：2026-09-21 在第 2 行已出现" in result.output
    assert "Traceback" not in result.output
    assert holidays_of(db_session, township.id) == []


def test_the_cli_refuses_an_unknown_township_and_a_unit(cli, people, tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes(csv_bytes(GOOD_ROWS))
    for code in ("NOPE", "SFZ-NYB"):
        result = cli("holidays", "import", str(path), "--township", code)
        assert result.exit_code == 1 and f"没有这个乡镇：{code}" in result.output
    assert cli("holidays", "list", "NOPE").exit_code == 1
    assert cli("holidays", "import", str(path)).exit_code == 2  # --township is required


# -- API ----------------------------------------------------------------------------------------------------

def upload(data: bytes, filename: str) -> dict:
    return {"data": {"file": (io.BytesIO(data), filename)}, "content_type": "multipart/form-data"}


def test_an_admin_imports_and_anyone_in_the_township_reads_the_days(as_user, db_session, township):
    admin = as_user("admin")
    response = admin.post(URL.format("SFZ"), **upload(csv_bytes(GOOD_ROWS), "h.csv"))
    assert response.status_code == 200, response.json
    assert response.json == {"township": {"code": "SFZ", "name": "示范镇"}, "filename": "h.csv", "rows": 3,
                             "days_off": 2, "workdays": 1, "added": 3, "updated": 0, "unchanged": 0,
                             "summary": "h.csv：共 3 行（休息 2，上班 1）；新增 3，更新 0，未变 0"}
    listing = as_user("nyb_clerk").get(URL.format("SFZ"))
    assert listing.status_code == 200
    assert listing.json["township"] == {"code": "SFZ", "name": "示范镇"} and listing.json["year"] is None
    assert listing.json["holidays"][0] == {"day": "2026-09-19", "is_workday": True, "kind": "上班", "name": "庙会调休"}
    assert [h["day"] for h in listing.json["holidays"]] == ["2026-09-19", "2026-09-21", "2026-11-16"]
    county = as_user("shenji").get(URL.format("SFZ") + "?year=2026")  # the county's auditor, above
    assert county.status_code == 200 and len(county.json["holidays"]) == 3
    assert as_user("nyb_clerk").get(URL.format("SFZ") + "?year=2027").json["holidays"] == []


def test_a_bad_file_answers_400_with_every_row_and_saves_nothing(as_user, db_session, township):
    rows = [["2026-09-21", "休息", "镇庙会"], ["2026-9-31", "休息", "x"], ["2026-10-02", "上班", ""]]
    response = as_user("admin").post(URL.format("SFZ"), **upload(xlsx_bytes(rows), "bad.xlsx"))
    assert response.status_code == 400
    assert response.json["error"] == "validation_error"
    assert response.json["message"] == "bad.xlsx 有 2 处问题，未导入任何数据"
    assert response.json["details"] == {"第3行.day": ["2026-9-31 不是存在的日期"], "第4行.name": ["名称不能为空"]}
    db_session.expire_all()
    assert holidays_of(db_session, township.id) == []


def test_only_admins_import_and_other_townships_do_not_see_the_table(as_user, client, db_session, township):
    data = csv_bytes(GOOD_ROWS)
    refused = as_user("cz_head").post(URL.format("SFZ"), **upload(data, "h.csv"))
    assert refused.status_code == 403 and "系统管理员" in refused.json["message"]
    assert as_user("qs_head").get(URL.format("SFZ")).status_code == 404
    assert as_user("qs_head").post(URL.format("SFZ"), **upload(data, "h.csv")).status_code == 404
    assert as_user("nyb_clerk").get(URL.format("NOPE")).status_code == 404
    assert as_user("nyb_clerk").get(URL.format("SFZ-NYB")).status_code == 404  # a unit has no holiday table
    assert client.get(URL.format("SFZ")).status_code == 401
    assert as_user("admin").post(URL.format("SFZ"), data={}, content_type="multipart/form-data").status_code == 400
    assert as_user("nyb_clerk").get(URL.format("SFZ") + "?year=99").status_code == 400
    db_session.expire_all()
    assert holidays_of(db_session, township.id) == []
