"""Per-township settings: defaults merged with what the township stored, validated field by field (nothing
saved when wrong), amount tiers at their boundaries, and the API and CLI over them."""
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.approvals.errors import Forbidden, InvalidInput, NotFound
from app.controls.settings import DEFAULTS, settings_for, tier_for, update_settings
from app.models import Org, TownshipSettings, User

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
URL = "/api/v1/townships/{}/settings"


@pytest.fixture
def people(app, deps):
    """The demo township's orgs and users (no processes: settings do not need them)."""
    from app.admin.seed import seed_people

    seed_people(deps(), app.config["PASSWORD_HASH_PROFILE"])


@pytest.fixture
def township(people, db_session) -> Org:
    return db_session.scalar(select(Org).where(Org.code == "SFZ"))


@pytest.fixture
def admin(people, db_session) -> User:
    return db_session.scalar(select(User).where(User.username == "admin"))


def stored_rows(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(TownshipSettings))


# ------------------------------------------------------------------------------------- use cases


def test_a_township_that_changed_nothing_gets_the_defaults(db_session, township):
    settings = settings_for(db_session, township.id)
    assert settings == DEFAULTS
    assert settings["tiers"] == {"t1": "1000", "t2": "5000", "t3": "50000"}
    assert settings["rules"]["C03"] == "block" and settings["rules"]["C11"] == "warn"
    assert settings["rules"]["C16"] == "info"
    settings["tiers"]["t1"] = "1"
    settings["official_card"]["econ_codes"].append("30299")
    assert DEFAULTS["tiers"]["t1"] == "1000" and "30299" not in DEFAULTS["official_card"]["econ_codes"]


def test_overrides_are_stored_alone_and_deep_merged_with_the_defaults(db_session, township, admin):
    merged = update_settings(db_session, township.id, {"tiers": {"t2": "6000"}, "rules": {"C11": "block"},
                                                       "three_public": {"annual_budget": {"30217": "12000.50"}}},
                             admin, NOW)
    assert merged["tiers"] == {"t1": "1000", "t2": "6000", "t3": "50000"}
    assert merged["rules"]["C11"] == "block" and merged["rules"]["C19"] == "warn"
    assert merged["three_public"]["econ_codes"] == DEFAULTS["three_public"]["econ_codes"]
    db_session.expire_all()
    row = db_session.get(TownshipSettings, township.id)
    assert row.settings == {"tiers": {"t2": "6000"}, "rules": {"C11": "block"},
                            "three_public": {"annual_budget": {"30217": "12000.50"}}}
    assert row.updated_by_id == admin.id and row.updated_at == NOW
    assert settings_for(db_session, township.id) == merged
    update_settings(db_session, township.id, {"tiers": {"t1": "800"}}, admin, NOW)
    assert settings_for(db_session, township.id)["tiers"] == {"t1": "800", "t2": "6000", "t3": "50000"}


def test_numbers_are_stored_as_decimal_strings_and_null_restores_the_default(db_session, township, admin):
    merged = update_settings(db_session, township.id, {"tiers": {"t2": 6000, "t1": Decimal("999.50")},
                                                       "official_card": {"econ_codes": [30201, 30211]}}, admin, NOW)
    assert merged["tiers"]["t2"] == "6000" and merged["tiers"]["t1"] == "999.50"
    assert merged["official_card"]["econ_codes"] == ["30201", "30211"]
    merged = update_settings(db_session, township.id, {"tiers": {"t2": None}, "official_card": None}, admin, NOW)
    assert merged["tiers"]["t2"] == "5000" and merged["official_card"] == DEFAULTS["official_card"]
    db_session.expire_all()
    assert db_session.get(TownshipSettings, township.id).settings == {"tiers": {"t1": "999.50"}}


def test_an_empty_patch_saves_nothing(db_session, township, admin):
    assert update_settings(db_session, township.id, {}, admin, NOW) == DEFAULTS
    assert stored_rows(db_session) == 0


def test_another_townships_settings_are_its_own(db_session, township, admin):
    update_settings(db_session, township.id, {"cash": {"per_payment": "500"}}, admin, NOW)
    other = db_session.scalar(select(Org).where(Org.code == "QSZ"))
    assert settings_for(db_session, other.id)["cash"]["per_payment"] == "2000"


@pytest.mark.parametrize("patch,field,message", [
    ({"cash": {"per_payment": "-5"}}, "cash.per_payment", "须为大于 0 的金额"),
    ({"cash": {"per_payment": "0"}}, "cash.per_payment", "须为大于 0 的金额"),
    ({"cash": {"per_payment": "12.345"}}, "cash.per_payment", "最多两位小数"),
    ({"cash": {"per_payment": "abc"}}, "cash.per_payment", "须为大于 0 的金额"),
    ({"cash": {"per_payment": 12.5}}, "cash.per_payment", "须为大于 0 的金额"),
    ({"tiers": {"t2": "1000"}}, "tiers.t2", "须大于 t1（1000），档次金额须严格递增"),
    ({"tiers": {"t3": "4000"}}, "tiers.t3", "须大于 t2（5000）"),
    ({"tiers": {"t4": "90000"}}, "tiers.t4", "未知的设置项"),
    ({"limits": {}}, "limits", "未知的设置项"),
    ({"rules": {"C03": "off"}}, "rules.C03", "C03 是硬性控制，不能关闭或降为警告，只能为 block"),
    ({"rules": {"C17": "warn"}}, "rules.C17", "C17 是硬性控制"),
    ({"rules": {"C11": "loud"}}, "rules.C11", "须为 block、warn、off 之一"),
    ({"rules": {"C16": "warn"}}, "rules.C16", "须为 info、off 之一"),
    ({"rules": {"C99": "block"}}, "rules.C99", "未知的设置项"),
    ({"cash": {"per_month": "1000"}}, "cash.per_month", "月度限额不得小于单笔限额"),
    ({"official_card": {"econ_codes": ["302011"]}}, "official_card.econ_codes.0", "3 位或 5 位"),
    ({"three_public": {"annual_budget": {"30201": "100"}}}, "three_public.annual_budget.30201", "不是“三公”经费科目"),
    ({"invoices": {"required": "yes"}}, "invoices.required", "须为 true 或 false"),
    ({"carry_over": {"recall_after_years": 0}}, "carry_over.recall_after_years", "1 到 10 的整数"),
    ({"tiers": "5000"}, "tiers", "须为对象"),
])
def test_invalid_settings_are_refused_by_field_path_and_nothing_is_saved(db_session, township, admin, patch, field,
                                                                          message):
    with pytest.raises(InvalidInput) as refused:
        update_settings(db_session, township.id, patch, admin, NOW)
    assert refused.value.message == "设置有误，未保存"
    assert any(message in m for m in refused.value.details[field]), refused.value.details
    assert stored_rows(db_session) == 0


def test_a_refused_patch_leaves_earlier_overrides_as_they_were(db_session, township, admin):
    update_settings(db_session, township.id, {"tiers": {"t2": "6000"}}, admin, NOW)
    with pytest.raises(InvalidInput) as refused:
        update_settings(db_session, township.id, {"tiers": {"t1": "7000"}, "cash": {"per_year": "1"}}, admin, NOW)
    assert set(refused.value.details) == {"tiers.t2", "cash.per_year"}
    db_session.expire_all()
    assert db_session.get(TownshipSettings, township.id).settings == {"tiers": {"t2": "6000"}}


def test_only_an_admin_of_the_township_changes_settings_and_only_for_a_township(db_session, township):
    head = db_session.scalar(select(User).where(User.username == "cz_head"))
    with pytest.raises(Forbidden):
        update_settings(db_session, township.id, {"tiers": {"t2": "6000"}}, head, NOW)
    outsider = db_session.scalar(select(User).where(User.username == "qs_clerk"))
    with pytest.raises(NotFound):
        update_settings(db_session, township.id, {"tiers": {"t2": "6000"}}, outsider, NOW)
    unit = db_session.scalar(select(Org).where(Org.code == "SFZ-NYB"))
    with pytest.raises(NotFound):
        update_settings(db_session, unit.id, {"tiers": {"t2": "6000"}}, None, NOW)
    assert stored_rows(db_session) == 0


@pytest.mark.parametrize("amount,tier", [
    ("0.01", ("T0", 0)), ("999.99", ("T0", 0)), ("1000", ("T1", 1)), ("1000.00", ("T1", 1)),
    ("4999.99", ("T1", 1)), ("5000", ("T2", 2)), ("49999.99", ("T2", 2)), ("50000", ("T3", 3)),
    ("2000000", ("T3", 3)),
])
def test_amount_tiers_start_at_their_thresholds(amount, tier):
    assert tier_for(DEFAULTS, Decimal(amount)) == tier
    assert tier_for(DEFAULTS, amount) == tier


def test_amount_tiers_follow_the_townships_thresholds(db_session, township, admin):
    update_settings(db_session, township.id, {"tiers": {"t1": "300", "t2": "2000"}}, admin, NOW)
    settings = settings_for(db_session, township.id)
    assert tier_for(settings, Decimal("299.99")) == ("T0", 0)
    assert tier_for(settings, Decimal("300")) == ("T1", 1)
    assert tier_for(settings, Decimal("2000")) == ("T2", 2)
    with pytest.raises(TypeError):
        tier_for(settings, 2000.0)


# ------------------------------------------------------------------------------------------- API


def put(api, code, body):
    return api.client.put(URL.format(code), headers=api._headers(), data=body, content_type="application/json")


@pytest.mark.parametrize("username", ["admin", "cz_head", "duban", "liucheng"])
def test_oversight_roles_of_the_township_read_its_settings(as_user, township, username):
    response = as_user(username).get(URL.format("SFZ"))
    assert response.status_code == 200, response.json
    assert response.json["township"] == {"code": "SFZ", "name": "示范镇"}
    assert response.json["settings"]["tiers"] == {"t1": "1000", "t2": "5000", "t3": "50000"}
    assert response.json["overrides"] == {} and response.json["updated_by"] is None


@pytest.mark.parametrize("username,code,status", [
    ("nyb_clerk", "SFZ", 403),  # works in the township, not an oversight role
    ("cz_reviewer", "SFZ", 403),
    ("shenji", "SFZ", 403),  # county auditor: sees the township, not a settings reader
    ("qs_reviewer", "SFZ", 404),  # another township: not told it exists
    ("admin", "QSZ", 404),
    ("admin", "NOPE", 404),
    ("admin", "SFZ-NYB", 404),  # a unit, not a township
])
def test_others_may_not_read_settings(as_user, township, username, code, status):
    response = as_user(username).get(URL.format(code))
    assert response.status_code == status, response.json
    assert "settings" not in response.json


def test_settings_need_a_login(client, township):
    assert client.get(URL.format("SFZ")).status_code == 401


def test_an_admin_changes_settings_with_a_json_patch(as_user, db_session, township, admin):
    response = put(as_user("admin"), "SFZ", '{"tiers": {"t2": 6000, "t1": 999.99}, "rules": {"C14": "block"}}')
    assert response.status_code == 200, response.json
    assert response.json["settings"]["tiers"] == {"t1": "999.99", "t2": "6000", "t3": "50000"}
    assert response.json["settings"]["rules"]["C14"] == "block"
    assert response.json["overrides"] == {"tiers": {"t2": "6000", "t1": "999.99"}, "rules": {"C14": "block"}}
    assert response.json["updated_by"]["username"] == "admin"
    db_session.expire_all()
    assert settings_for(db_session, township.id)["tiers"]["t2"] == "6000"
    again = as_user("cz_head").get(URL.format("SFZ"))
    assert again.json["overrides"]["rules"] == {"C14": "block"} and again.json["updated_at"]


@pytest.mark.parametrize("username,status", [("cz_head", 403), ("duban", 403), ("nyb_clerk", 403),
                                             ("qs_clerk", 404)])
def test_only_an_admin_may_change_settings(as_user, db_session, township, username, status):
    response = put(as_user(username), "SFZ", '{"tiers": {"t2": "6000"}}')
    assert response.status_code == status, response.json
    assert stored_rows(db_session) == 0


def test_an_invalid_patch_answers_400_with_field_paths_and_saves_nothing(as_user, db_session, township):
    response = put(as_user("admin"), "SFZ", '{"tiers": {"t2": "500"}, "rules": {"C03": "off"}, "x": 1}')
    assert response.status_code == 400
    assert response.json["error"] == "validation_error"
    assert set(response.json["details"]) == {"tiers.t2", "rules.C03", "x"}
    assert response.json["details"]["rules.C03"] == ["C03 是硬性控制，不能关闭或降为警告，只能为 block"]
    assert stored_rows(db_session) == 0
    assert put(as_user("admin"), "SFZ", "[1, 2]").status_code == 400
    assert put(as_user("admin"), "SFZ", "{not json").status_code == 400


# ------------------------------------------------------------------------------------------- CLI


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def run(*args):
        return runner.invoke(args=list(args))

    return run


def test_the_cli_shows_the_effective_settings_as_json(cli, township):
    result = cli("settings", "show", "SFZ")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown == json.loads(json.dumps(DEFAULTS))
    assert json.loads(cli("settings", "show", "SFZ", "--overrides").output) == {}


def test_the_cli_sets_one_value_parsed_as_json_or_as_text(cli, db_session, township):
    result = cli("settings", "set", "SFZ", "tiers.t2", "6000")
    assert result.exit_code == 0, result.output
    assert "已更新 SFZ 的 tiers.t2：\"6000\"" in result.output
    assert cli("settings", "set", "SFZ", "rules.C11", "block").exit_code == 0
    assert cli("settings", "set", "SFZ", "invoices.required", "false").exit_code == 0
    assert cli("settings", "set", "SFZ", "three_public.annual_budget.30217", "8000.5").exit_code == 0
    db_session.expire_all()
    settings = settings_for(db_session, township.id)
    assert settings["tiers"]["t2"] == "6000" and settings["rules"]["C11"] == "block"
    assert settings["invoices"]["required"] is False
    assert settings["three_public"]["annual_budget"] == {"30217": "8000.5"}
    assert db_session.get(TownshipSettings, township.id).updated_by_id is None
    assert cli("settings", "set", "SFZ", "tiers.t2", "null").exit_code == 0
    assert json.loads(cli("settings", "show", "SFZ").output)["tiers"]["t2"] == "5000"


@pytest.mark.parametrize("args,message", [
    (["SFZ", "rules.C03", "off"], "rules.C03: C03 是硬性控制，不能关闭或降为警告，只能为 block"),
    (["SFZ", "tiers.t2", "500"], "tiers.t2: 须大于 t1（1000）"),
    (["SFZ", "tiers.t9", "500"], "tiers.t9: 未知的设置项"),
    (["SFZ", "cash.per_payment", "1.234"], "cash.per_payment: 须为大于 0 的金额"),
    (["SFZ", "tiers..t2", "500"], "应为以 . 分隔的设置项路径"),
    (["NOPE", "tiers.t2", "6000"], "没有这个乡镇：NOPE"),
])
def test_the_cli_refuses_bad_settings_with_the_field_messages_and_saves_nothing(cli, db_session, township, args,
                                                                                message):
    result = cli("settings", "set", *args)
    assert result.exit_code == 1
    assert message in result.output
    assert stored_rows(db_session) == 0
