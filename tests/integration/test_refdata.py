"""Reference code tables: the demo seed, lookups and C15, file import (all rows or none), CLI and API."""
import codecs
import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from app.models import RefCode, RefKind
from app.refdata import (
    RefdataImportError,
    check_codes,
    demo_codes,
    exists,
    gov_code_for,
    import_file,
    importer,
    name_of,
    seed_refdata,
)
from app.refdata.seed import demo_rows

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HEADER = ["kind", "code", "name", "parent_code", "gov_code", "active"]


def snapshot(session) -> list[tuple]:
    session.expire_all()
    return [(r.kind, r.code, r.name, r.parent_code, r.gov_code, r.active, r.updated_at)
            for r in session.scalars(select(RefCode).order_by(RefCode.kind, RefCode.code))]


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


@pytest.fixture
def seeded(db_session):
    seed_refdata(db_session, NOW)
    db_session.commit()
    return db_session


# -- seed ---------------------------------------------------------------------------------------------

def test_seeding_twice_changes_nothing(db_session):
    first = seed_refdata(db_session, NOW)
    db_session.commit()
    before = snapshot(db_session)
    second = seed_refdata(db_session, NOW + timedelta(days=1))
    db_session.commit()
    assert first.added == len(before) and first.updated == first.unchanged == 0
    assert (second.added, second.updated, second.unchanged) == (0, 0, len(before))
    assert snapshot(db_session) == before


def test_seeding_again_puts_back_an_edited_demo_code_without_duplicating_it(seeded):
    row = seeded.scalar(select(RefCode).where(RefCode.kind == "function", RefCode.code == "201"))
    row.name = "改过的名字"
    seeded.commit()
    report = seed_refdata(seeded, NOW + timedelta(days=1))
    seeded.commit()
    assert report.updated == 1 and report.added == 0
    assert name_of(seeded, RefKind.FUNCTION, "201") == "一般公共服务支出"
    assert seeded.scalar(select(func.count()).where(RefCode.kind == "function", RefCode.code == "201")) == 1


def test_the_seed_holds_every_demo_table_with_parents_derived_from_the_code(seeded):
    kinds = dict(seeded.execute(select(RefCode.kind, func.count()).group_by(RefCode.kind)).all())
    assert kinds == {"function": len(demo_codes.FUNCTION), "econ_dept": len(demo_codes.ECON_DEPT),
                     "econ_gov": len(demo_codes.ECON_GOV), "fund_nature": len(demo_codes.FUND_NATURE),
                     "project_category": 5, "pay_type": 3, "indicator_source": 2}
    parents = dict(seeded.execute(select(RefCode.code, RefCode.parent_code).where(RefCode.kind == "function")).all())
    assert (parents["2010301"], parents["20103"], parents["201"]) == ("20103", "201", None)
    assert parents["2100717"] == "21007"  # the 款 the domain report leaves out is there
    econ = dict(seeded.execute(select(RefCode.code, RefCode.parent_code).where(RefCode.kind == "econ_dept")).all())
    assert econ["30206"] == "302" and econ["302"] is None
    assert name_of(seeded, RefKind.FUND_NATURE, "122") == "专项债券"
    assert name_of(seeded, RefKind.PROJECT_CATEGORY, "21") == "公用经费"


def test_electricity_30206_maps_to_office_costs_50201_and_every_departmental_kuan_has_a_government_kuan(seeded):
    assert gov_code_for(seeded, "30206") == "50201"
    assert gov_code_for(seeded, "30217") == "50206"
    assert gov_code_for(seeded, "302") is None
    assert gov_code_for(seeded, "39999") is None
    for row in seeded.scalars(select(RefCode).where(RefCode.kind == "econ_dept")):
        if len(row.code) == 5:
            assert exists(seeded, RefKind.ECON_GOV, row.gov_code, leaf=True), row.code


# -- lookups ------------------------------------------------------------------------------------------

def test_exists_knows_leaves_and_ignores_deactivated_codes(seeded):
    assert exists(seeded, RefKind.FUNCTION, "201")
    assert not exists(seeded, RefKind.FUNCTION, "201", leaf=True)
    assert exists(seeded, RefKind.FUNCTION, "2010301", leaf=True)
    assert exists(seeded, RefKind.FUND_NATURE, "13", leaf=True)
    assert not exists(seeded, RefKind.FUND_NATURE, "11", leaf=True)
    assert not exists(seeded, RefKind.FUNCTION, "999")
    assert not exists(seeded, RefKind.PAY_TYPE, "2")  # the legacy 财政直接支付 is seeded inactive
    assert exists(seeded, RefKind.PAY_TYPE, "2", include_inactive=True)
    assert name_of(seeded, RefKind.PAY_TYPE, "2") == "财政直接支付"
    assert name_of(seeded, RefKind.FUNCTION, "999") is None


def test_check_codes_accepts_a_well_coded_budget_line(seeded):
    assert check_codes(seeded, func_code="2010301", econ_dept_code="30206", econ_gov_code="50201",
                       fund_nature_code="111") == {}


@pytest.mark.parametrize("codes,field,message", [
    ({"func_code": "2019999"}, "func_code", "支出功能分类 2019999 不存在"),
    ({"func_code": "201"}, "func_code", "支出功能分类须选到项级（7 位），201（一般公共服务支出）是类级"),
    ({"func_code": "20103"}, "func_code", "是款级"),
    ({"func_code": ""}, "func_code", "请填写支出功能分类"),
    ({"econ_dept_code": "302"}, "econ_dept_code",
     "部门预算支出经济分类须选到款级（5 位），302（商品和服务支出）是类级"),
    ({"econ_dept_code": "30299x"}, "econ_dept_code", "不存在"),
    ({"econ_gov_code": "50299", "econ_dept_code": "30206"}, "econ_gov_code",
     "政府预算经济分类应为 50201（办公经费）：部门预算经济分类 30206（电费）对应 50201（C15），不能用 50299"),
    ({"econ_gov_code": "599"}, "econ_gov_code", "政府预算支出经济分类 599 不存在"),
    ({"fund_nature_code": "1"}, "fund_nature_code", "资金性质须选到末级，1（政府预算资金）下还有下级"),
    ({"fund_nature_code": "77"}, "fund_nature_code", "资金性质 77 不存在"),
])
def test_check_codes_names_the_field_and_says_what_is_wrong_in_chinese(seeded, codes, field, message):
    errors = check_codes(seeded, **codes)
    assert list(errors) == [field]
    assert message in errors[field][0]


def test_check_codes_refuses_a_deactivated_code_and_reports_every_bad_field(seeded):
    seeded.scalar(select(RefCode).where(RefCode.kind == "function", RefCode.code == "2010301")).active = False
    seeded.commit()
    errors = check_codes(seeded, func_code="2010301", econ_dept_code="301", fund_nature_code="0")
    assert errors == {"func_code": ["支出功能分类 2010301（行政运行）已停用"],
                      "econ_dept_code": ["部门预算支出经济分类须选到款级（5 位），301（工资福利支出）是类级"],
                      "fund_nature_code": ["资金性质 0 不存在"]}


# -- import -------------------------------------------------------------------------------------------

GOOD_ROWS = [
    ["econ_gov", "50204", "专用材料购置费", "", "", ""],
    ["econ_dept", "30218", "专用材料费", "", "50204", "1"],  # remapped to a government code from the same file
    ["function", "2010308", "信访事务", "", "", "是"],  # parent 20103 is in the database
    ["function", "205", "教育支出", "", "", ""],
    ["function", "20502", "普通教育", "205", "", ""],
    ["function", "2050202", "小学教育", "", "", "true"],
    ["fund_nature", "11111", "经费拨款补助", "111", "", ""],
    ["pay_type", "3", "财政授权支付", "", "", "0"],  # unchanged: already seeded inactive
]


def test_a_good_csv_is_imported_and_reports_added_updated_and_unchanged(seeded):
    report = import_file(seeded, csv_bytes(GOOD_ROWS), "codes.csv", now=NOW)
    seeded.commit()
    assert (report.rows, report.added, report.updated, report.unchanged) == (8, 6, 1, 1)
    assert gov_code_for(seeded, "30218") == "50204"
    assert exists(seeded, RefKind.FUNCTION, "2050202", leaf=True)
    assert seeded.scalar(select(RefCode.parent_code).where(RefCode.code == "2050202")) == "20502"
    assert check_codes(seeded, econ_dept_code="30218", econ_gov_code="50204") == {}
    again = import_file(seeded, csv_bytes(GOOD_ROWS), "codes.csv", now=NOW + timedelta(hours=1))
    assert (again.added, again.updated, again.unchanged) == (0, 0, 8)


def test_a_good_xlsx_with_numeric_cells_and_chinese_headers_is_imported(seeded):
    rows = [["支出功能分类", 2010399, "其他政府办公厅（室）及相关机构事务支出", None, None, None],
            ["部门预算支出经济分类", 30299, "其他商品和服务支出（改名）", 302, 50299, True]]
    data = xlsx_bytes(rows, header=["类别", "编码", "名称", "上级编码", "政府经济分类", "启用"])
    report = import_file(seeded, data, "codes.xlsx", now=NOW)
    seeded.commit()
    assert (report.added, report.updated) == (1, 1)
    assert name_of(seeded, RefKind.FUNCTION, "2010399").startswith("其他政府办公厅")
    assert name_of(seeded, RefKind.ECON_DEPT, "30299") == "其他商品和服务支出（改名）"


def test_a_gb18030_csv_from_chinese_excel_is_read_with_the_kind_given_by_the_caller(seeded):
    data = csv_bytes([["12", "政府性基金预算资金", "1", ""], ["123", "抗疫特别国债", "12", "是"]],
                     header=["编码", "名称", "上级编码", "启用"], encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    report = import_file(seeded, data, "资金性质.csv", kind="fund_nature", now=NOW)
    assert (report.added, report.unchanged) == (1, 1)
    assert name_of(seeded, RefKind.FUND_NATURE, "123") == "抗疫特别国债"


BAD_ROWS = [
    ["function", "201", "一般公共服务支出", "", "", ""],  # row 2: fine
    ["function", "20A01", "坏编码", "", "", ""],  # row 3
    ["", "20199", "没有类别", "", "", ""],  # row 4
    ["province", "20199", "不认识的类别", "", "", ""],  # row 5
    ["function", "2019901", "", "", "", ""],  # row 6: empty name; parent 20199 nowhere
    ["function", "201", "重复", "", "", ""],  # row 7: duplicate of row 2
    ["econ_dept", "30298", "新经济分类", "", "59999", ""],  # row 8: unknown gov code
    ["econ_dept", "30297", "没有对应", "", "", ""],  # row 9: C15 missing
    ["econ_dept", "30296", "类级的对应", "", "502", ""],  # row 10: gov code is a 类
    ["function", "2010301", "名" * 201, "201", "", "maybe"],  # row 11: long name, wrong parent, bad flag
    ["pay_type", "9", "循环一", "8", "", ""],  # row 12
    ["pay_type", "8", "循环二", "9", "", ""],  # row 13
]


def test_a_file_with_bad_rows_reports_every_row_by_number_and_imports_nothing(seeded):
    before = snapshot(seeded)
    with pytest.raises(RefdataImportError) as caught:
        import_file(seeded, csv_bytes(BAD_ROWS), "bad.csv", now=NOW)
    seeded.rollback()
    found = {(p.row, p.field) for p in caught.value.report.problems}
    assert found == {
        (3, "code"), (4, "kind"), (5, "kind"), (6, "name"), (6, "parent_code"), (7, "code"), (8, "gov_code"),
        (9, "gov_code"), (10, "gov_code"), (11, "name"), (11, "parent_code"), (11, "active"),
        (12, "parent_code"), (13, "parent_code"),
    }
    text = "\n".join(str(p) for p in caught.value.report.problems)
    assert "第 3 行 编码（code）：支出功能分类编码须为 3 位（类）、5 位（款）、7 位（项）数字" in text
    assert "第 6 行 上级编码（parent_code）：上级编码 20199 在文件和已有支出功能分类中都不存在" in text
    assert "第 7 行 编码（code）：编码 201 在第 2 行已出现" in text
    assert "第 8 行 政府经济分类（gov_code）：政府预算经济分类 59999 在文件和已有代码中都不存在" in text
    assert "第 9 行 政府经济分类（gov_code）：款级部门预算经济分类须填对应的政府经济分类（C15）" in text
    assert "第 11 行 上级编码（parent_code）：上级编码应为 20103" in text
    assert "上级编码形成循环" in text
    assert [p.row for p in caught.value.report.problems] == sorted(p.row for p in caught.value.report.problems)
    assert caught.value.message == "bad.csv 有 14 处问题，未导入任何数据"
    assert snapshot(seeded) == before


@pytest.mark.parametrize("filename,data,message", [
    ("codes.xlsx", b"MZ\x90\x00" + b"\x00" * 200, "不是有效的 Excel (.xlsx) 文件"),
    ("codes.xlsx", None, "不是有效的 Excel (.xlsx) 文件"),  # a zip, but no workbook inside
    ("codes.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "旧版 Excel (.xls)"),
    ("codes.xls", b"anything", "不支持旧版 Excel (.xls)"),
    ("codes.txt", b"kind,code,name\n", "只能导入 .xlsx 或 .csv 文件"),
    ("codes.csv", b"", "文件是空的"),
    ("codes.csv", b"kind,code,name,remark\nfunction,201,x,y\n", "不认识的列“remark”"),
    ("codes.csv", b"code,name\n201,x\n", "缺少列：kind"),
    ("codes.csv", b"PK\x03\x04rest", "不是 CSV"),
    ("codes.csv", b"kind,code,name\nfunction,201,\x00\n", "不是文本 CSV"),
    ("codes.csv", b"kind,code,name\nfunction,201,\xff\xfe\xff\n", "无法识别文件编码"),
])
def test_a_file_that_is_not_a_readable_table_gets_one_clear_message(db_session, filename, data, message):
    if data is None:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("readme.txt", "not a workbook")
        data = out.getvalue()
    with pytest.raises(RefdataImportError) as caught:
        import_file(db_session, data, filename, now=NOW)
    [problem] = caught.value.report.problems
    assert message in problem.message
    assert db_session.scalar(select(func.count()).select_from(RefCode)) == 0


def test_an_xlsx_whose_xml_declares_entities_is_refused_before_parsing(db_session):
    data = xlsx_bytes([["function", "201", "一般公共服务支出", "", "", ""]])
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                at = content.find(b"?>") + 2 if content.startswith(b"<?xml") else 0
                content = content[:at] + b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + content[at:]
            archive.writestr(info, content)
    with pytest.raises(RefdataImportError) as caught:
        import_file(db_session, out.getvalue(), "evil.xlsx", now=NOW)
    assert "DOCTYPE" in caught.value.report.problems[0].message


def test_files_over_the_size_or_row_cap_are_refused_with_the_limit(db_session, monkeypatch, tmp_path):
    big = tmp_path / "big.csv"
    big.write_bytes(b"kind,code,name\n" + b"x" * importer.MAX_BYTES)
    with pytest.raises(RefdataImportError) as caught:
        import_file(db_session, big, now=NOW)
    assert "文件超过 5 MB" in str(caught.value.report.problems[0])
    monkeypatch.setattr(importer, "MAX_ROWS", 3)
    rows = [["function", code, "名称", "", "", ""] for code in ("201", "208", "210", "212")]
    with pytest.raises(RefdataImportError) as caught:
        import_file(db_session, csv_bytes(rows), "many.csv", now=NOW)
    assert "超过 3 行" in caught.value.report.problems[0].message
    assert import_file(db_session, csv_bytes(rows[:3]), "three.csv", now=NOW).added == 3


def test_a_kind_column_that_disagrees_with_the_given_kind_is_a_row_error(db_session):
    data = csv_bytes([["function", "201", "一般公共服务支出", "", "", ""], ["econ_gov", "501", "x", "", "", ""]])
    with pytest.raises(RefdataImportError) as caught:
        import_file(db_session, data, "mixed.csv", kind="function", now=NOW)
    assert [(p.row, p.field) for p in caught.value.report.problems] == [(3, "kind")]


# -- CLI ----------------------------------------------------------------------------------------------

@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def run(*args):
        return runner.invoke(args=list(args))

    return run


def test_the_cli_seeds_lists_and_imports_a_good_file(cli, db_session, tmp_path):
    result = cli("refdata", "seed")
    assert result.exit_code == 0, result.output
    total = len(demo_rows())
    assert f"共 {total} 行" in result.output and f"新增 {total}，更新 0，未变 0" in result.output
    assert f"新增 0，更新 0，未变 {total}" in cli("refdata", "seed").output
    listing = cli("refdata", "list", "econ_dept").output.splitlines()
    assert listing[0] == "编码\t名称\t上级编码\t政府经济分类"
    assert "30206\t电费\t302\t50201" in listing
    assert "2\t财政直接支付（停用）\t\t" in cli("refdata", "list", "pay_type").output
    path = tmp_path / "codes.xlsx"
    path.write_bytes(xlsx_bytes(GOOD_ROWS))
    result = cli("refdata", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "已导入 codes.xlsx：共 8 行" in result.output and "新增 6，更新 1，未变 1" in result.output
    db_session.expire_all()
    assert gov_code_for(db_session, "30218") == "50204"


def test_the_cli_refuses_a_bad_file_listing_every_row_and_importing_nothing(cli, db_session, tmp_path):
    cli("refdata", "seed")
    before = snapshot(db_session)
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes(BAD_ROWS))
    result = cli("refdata", "import", str(path))
    assert result.exit_code == 1
    assert "bad.csv 有 14 处问题，未导入任何数据" in result.output
    for row in (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13):
        assert f"第 {row} 行" in result.output
    assert not any(line.startswith("  第 2 行") for line in result.output.splitlines())
    assert snapshot(db_session) == before


def test_the_cli_takes_the_kind_as_an_option_and_refuses_an_unknown_one(cli, db_session, tmp_path):
    path = tmp_path / "类.csv"
    path.write_bytes(csv_bytes([["201", "一般公共服务支出"]], header=["编码", "名称"], encoding="gb18030"))
    assert cli("refdata", "import", str(path), "--kind", "province").exit_code == 2
    result = cli("refdata", "import", str(path), "--kind", "function")
    assert result.exit_code == 0, result.output
    assert "支出功能分类 1" in result.output
    assert cli("refdata", "import", str(tmp_path / "missing.csv")).exit_code == 2
    assert "没有代码" in cli("refdata", "list", "indicator_source").output


def test_the_cli_refuses_a_renamed_non_spreadsheet_with_a_message_not_a_traceback(cli, tmp_path):
    path = tmp_path / "setup.xlsx"
    path.write_bytes(b"MZ" + bytes(range(256)) * 4)
    result = cli("refdata", "import", str(path))
    assert result.exit_code == 1
    assert "不是有效的 Excel (.xlsx) 文件" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


# -- API ----------------------------------------------------------------------------------------------

@pytest.fixture
def api_user(app, seeded, as_user):
    """A clerk of a unit: the code tables need a login, no particular role."""
    from app.admin.people import GrantSpec, add_org, add_user

    add_org(seeded, "C", "示范县", "county")
    add_org(seeded, "T", "示范镇", "township", "C")
    add_org(seeded, "U", "农业农村办", "unit", "T")
    add_user(seeded, "u_clerk", "long-enough-1", [GrantSpec("clerk", "U")], display_name="经办人", now=NOW,
             hash_profile=app.config["PASSWORD_HASH_PROFILE"])
    return as_user("u_clerk")


def test_any_logged_in_user_lists_a_code_table_with_leaves_and_mapping(api_user):
    response = api_user.get("/api/v1/refdata/econ_dept")
    assert response.status_code == 200
    codes = {r["code"]: r for r in response.json}
    assert codes["30206"] == {"code": "30206", "name": "电费", "parent_code": "302", "gov_code": "50201",
                              "active": True, "leaf": True}
    assert codes["302"]["leaf"] is False
    leaves = api_user.get("/api/v1/refdata/function?leaf=true").json
    assert leaves and all(len(r["code"]) == 7 for r in leaves)
    funds = api_user.get("/api/v1/refdata/fund_nature?leaf=true").json
    assert {r["code"] for r in funds} == {"111", "112", "113", "114", "121", "122", "13", "14", "2",
                                          "31", "32", "33", "34", "39"}


def test_the_code_list_filters_by_code_prefix_or_name_and_hides_deactivated_codes(api_user):
    assert [r["code"] for r in api_user.get("/api/v1/refdata/function?q=20103").json] == \
        ["20103", "2010301", "2010302", "2010350"]
    by_name = api_user.get("/api/v1/refdata/econ_dept?q=公务").json
    assert {r["code"] for r in by_name} == {"30217", "30231", "31013"}
    assert api_user.get("/api/v1/refdata/econ_dept?q=%25").json == []
    assert [r["code"] for r in api_user.get("/api/v1/refdata/pay_type").json] == ["1"]
    assert len(api_user.get("/api/v1/refdata/pay_type?include_inactive=true").json) == 3


def test_the_code_list_needs_a_login_and_answers_404_for_an_unknown_kind(client, api_user):
    assert client.get("/api/v1/refdata/function").status_code == 401
    response = api_user.get("/api/v1/refdata/province")
    assert response.status_code == 404
    assert response.json["error"] == "not_found" and "province" in response.json["message"]
    assert api_user.get("/api/v1/refdata/function?limit=0").status_code == 400


def test_the_bom_less_utf8_csv_is_read_too(db_session):
    data = codecs.encode("kind,code,name\nfunction,201,一般公共服务支出\n", "utf-8")
    assert import_file(db_session, data, "plain.csv", now=NOW).added == 1


def test_row_numbers_are_those_of_the_sheet_with_blank_rows_counted(db_session):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A2"], sheet["B2"], sheet["C2"] = "kind", "code", "name"  # row 1 left blank above the header
    sheet.append(["function", "201", "一般公共服务支出"])  # row 3
    sheet.append(["function", "20199", "其他一般公共服务支出"])  # row 4: its parent 201 is in the file
    sheet["A6"], sheet["B6"], sheet["C6"] = "function", "2019", "位数不对"  # row 5 blank
    out = io.BytesIO()
    workbook.save(out)
    with pytest.raises(RefdataImportError) as caught:
        import_file(db_session, out.getvalue(), "gaps.xlsx", now=NOW)
    assert [(p.row, p.field) for p in caught.value.report.problems] == [(6, "code")]
