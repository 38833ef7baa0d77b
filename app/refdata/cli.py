"""flask refdata: import a code table file, seed the demo codes, list a table. Refusals exit 1."""
import click
from flask.cli import AppGroup
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import REF_KIND_NAMES, RefCode, RefKind
from app.refdata.importer import ImportReport, RefdataImportError, import_file
from app.refdata.seed import seed_refdata

refdata_cli = AppGroup("refdata", help="基础代码表（功能分类、经济分类、资金性质、项目类别等）")

KIND_CHOICE = click.Choice([k.value for k in RefKind])
KINDS_HELP = "，".join(f"{k.value}={name}" for k, name in REF_KIND_NAMES.items())


def _print_report(report: ImportReport) -> None:
    click.echo(f"已导入 {report.summary()}")


@refdata_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", type=KIND_CHOICE, help=f"文件没有“类别”列时，全部行的类别：{KINDS_HELP}")
def refdata_import(file, kind):
    """导入代码表文件（.xlsx 首个工作表或 .csv，首行为表头）。任何一行有误则整份不导入，并列出每一处问题。"""
    try:
        report = import_file(db.session, file, kind=kind, now=clock.now())
    except RefdataImportError as exc:
        db.session.rollback()
        lines = [exc.message] + [f"  {p}" for p in exc.report.problems]
        raise click.ClickException("\n".join(lines)) from None
    db.session.commit()
    _print_report(report)


@refdata_cli.command("seed")
def refdata_seed():
    """载入示范代码（domain.md §2.2、§2.8、§8）。可重复执行：已有的代码更新，不会重复。"""
    try:
        report = seed_refdata(db.session, clock.now())
    except RefdataImportError as exc:
        db.session.rollback()
        raise click.ClickException("\n".join([exc.message] + [f"  {p}" for p in exc.report.problems])) from None
    db.session.commit()
    _print_report(report)


@refdata_cli.command("list")
@click.argument("kind", type=KIND_CHOICE)
def refdata_list(kind):
    """列出一个代码表：编码、名称、上级编码、政府经济分类（停用的标“（停用）”）。"""
    rows = db.session.scalars(select(RefCode).where(RefCode.kind == kind).order_by(RefCode.code)).all()
    if not rows:
        click.echo(f"{REF_KIND_NAMES[RefKind(kind)]}：没有代码（可用 flask refdata seed 或 import 载入）")
        return
    click.echo("编码\t名称\t上级编码\t政府经济分类")
    for row in rows:
        flag = "" if row.active else "（停用）"
        click.echo(f"{row.code}\t{row.name}{flag}\t{row.parent_code or ''}\t{row.gov_code or ''}")
