"""flask holidays import|list: a township's local days off and make-up workdays. A refused file exits 1."""
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app import clock
from app.approvals.errors import ApprovalError
from app.deadlines.holidays import KIND_LABELS, MAX_BYTES, HolidayImportError, holidays_of, import_holidays
from app.extensions import db
from app.models import Org, OrgKind

holidays_cli = AppGroup("holidays", help="乡镇本地节假日与调休上班日（在国家法定节假日之外）")


def _township(code: str) -> Org:
    township = db.session.scalar(select(Org).where(Org.code == code, Org.kind == OrgKind.TOWNSHIP))
    if township is None:
        raise click.ClickException(f"没有这个乡镇：{code}")
    return township


@holidays_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--township", "township_code", required=True, help="乡镇代码，如 SFZ")
def holidays_import(file, township_code):
    """导入乡镇本地节假日（.xlsx 首个工作表或 .csv；列：日期、类型、名称）。任何一行有误则整份不导入，并逐行列出问题。

    类型：休息/放假 为本地休息日，上班/调休上班 为调休上班日。已有的日期按文件更新，文件外的日期不变。
    """
    township = _township(township_code)
    path = Path(file)
    with path.open("rb") as source:
        data = source.read(MAX_BYTES + 1)  # one byte over is enough to refuse
    try:
        report = import_holidays(db.session, township.id, data, path.name, clock.now())
    except HolidayImportError as exc:
        db.session.rollback()
        lines = [exc.message] + [f"  {p}" for p in exc.report.problems]
        raise click.ClickException("\n".join(lines)) from None
    except ApprovalError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"已导入 {township.name}（{township.code}）{report.summary()}")


@holidays_cli.command("list")
@click.argument("township_code")
@click.option("--year", type=click.IntRange(2000, 2100), help="只列这一年")
def holidays_list(township_code, year):
    """列出乡镇的本地节假日与调休上班日：日期、类型、名称。"""
    township = _township(township_code)
    rows = holidays_of(db.session, township.id, year)
    if not rows:
        click.echo(f"{township.name}：{f'{year} 年' if year else ''}没有本地节假日（可用 flask holidays import 导入）")
        return
    click.echo("日期\t类型\t名称")
    for row in rows:
        click.echo(f"{row.day.isoformat()}\t{KIND_LABELS[row.is_workday]}\t{row.name}")
