"""flask settings show|set: a township's control-rule settings. Bad input exits 1 with the field messages."""
import json
from decimal import Decimal

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app import clock
from app.approvals.errors import ApprovalError
from app.config import json_dumps
from app.controls.settings import patch_from_path, settings_for, stored_overrides, update_settings
from app.extensions import db
from app.models import Org, OrgKind

settings_cli = AppGroup("settings", help="乡镇控制规则与审批额度设置")


def _fail(error: ApprovalError):
    lines = [error.message] + [f"  {field}: {'；'.join(msgs)}" for field, msgs in error.details.items()]
    raise click.ClickException("\n".join(lines))


def _township(code: str) -> Org:
    township = db.session.scalar(select(Org).where(Org.code == code, Org.kind == OrgKind.TOWNSHIP))
    if township is None:
        raise click.ClickException(f"没有这个乡镇：{code}")
    return township


def parse_value(text: str):
    """JSON if it parses (numbers as Decimal, never float), else the text itself."""
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError:
        return text


def _dump(value) -> str:
    return json.dumps(json.loads(json_dumps(value)), ensure_ascii=False, indent=2)


@settings_cli.command("show")
@click.argument("township_code")
@click.option("--overrides", is_flag=True, help="只显示本乡镇修改过的项")
def show(township_code, overrides):
    """显示乡镇生效的设置（JSON）。"""
    township = _township(township_code)
    if overrides:
        row = stored_overrides(db.session, township.id)
        click.echo(_dump(row.settings if row is not None else {}))
    else:
        click.echo(_dump(settings_for(db.session, township.id)))


@settings_cli.command("set")
@click.argument("township_code")
@click.argument("key_path")
@click.argument("value")
def set_value(township_code, key_path, value):
    """修改一项设置，如：set SFZ tiers.t2 6000；set SFZ rules.C11 block；值为 null 时恢复默认。

    VALUE 能按 JSON 解析时按 JSON（数字、true/false、列表、null），否则按字符串。
    """
    township = _township(township_code)
    try:
        patch = patch_from_path(key_path, parse_value(value))
        merged = update_settings(db.session, township.id, patch, None, clock.now())
    except ApprovalError as exc:
        _fail(exc)
    node = merged
    for part in key_path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    click.echo(f"已更新 {township_code} 的 {key_path}：{json.dumps(json.loads(json_dumps(node)), ensure_ascii=False)}")
