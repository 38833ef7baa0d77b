"""flask commands: org, user, bpmn (deploy, list), seed-demo. Bad input exits 1 with the reason."""
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.admin.people import add_org, add_user, disable_user, enable_user, parse_grant, unlock_user
from app.admin.seed import DEMO_PASSWORD, seed_people, seed_reference, seed_requests
from app.admin.seed_budget import seed_office
from app.approvals.deploy import deploy_processes
from app.approvals.errors import ApprovalError
from app.controls.cli import settings_cli
from app.deadlines.cli import holidays_cli
from app.deadlines.timers_cli import jobs_cli, timers_cli
from app.engine import BpmnSource, InvalidBpmn
from app.extensions import db
from app.jobs import InlineQueue
from app.models import ROLE_NAMES, InstanceStatus, Org, ProcessDefinition, ProcessInstance, User
from app.refdata.cli import refdata_cli
from app.runtime import deps

org_cli = AppGroup("org", help="单位（县、乡镇、预算单位、科室）")
user_cli = AppGroup("user", help="用户与角色")
bpmn_cli = AppGroup("bpmn", help="流程部署与版本")


def _fail(error: Exception) -> None:
    if isinstance(error, ApprovalError):
        lines = [error.message] + [f"  {field}: {'；'.join(msgs)}" for field, msgs in error.details.items()]
    elif isinstance(error, InvalidBpmn):
        lines = ["BPMN 未通过检查，没有部署："] + [f"  {p}" for p in error.problems]
    else:
        lines = [str(error)]
    raise click.ClickException("\n".join(lines))


@org_cli.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(["county", "township", "unit", "office"]))
@click.option("--parent", "parent_code", help="上级单位代码")
def org_add(code, name, kind, parent_code):
    """新增单位。"""
    try:
        org = add_org(db.session, code, name, kind, parent_code)
    except ApprovalError as exc:
        _fail(exc)
    click.echo(f"已新增 {org.kind} {org.code} {org.name}")


@org_cli.command("list")
def org_list():
    """列出单位（按层级）。"""
    for org in db.session.scalars(select(Org).order_by(Org.path)):
        depth = org.path.count("/") - 2
        click.echo(f"{'  ' * depth}{org.code}\t{org.name}\t{org.kind}")


@user_cli.command("add")
@click.argument("username")
@click.option("--password", required=True, help="至少 8 位，不能含用户名或是常见密码")
@click.option("--role", "roles", multiple=True, help="角色@单位代码，可重复，如 --role clerk@SFZ-NYB")
@click.option("--name", "display_name", help="显示姓名")
def user_add(username, password, roles, display_name):
    """新增用户并授予角色。"""
    from app import clock

    try:
        grants = [parse_grant(r) for r in roles]
        user = add_user(db.session, username, password, grants, display_name=display_name, now=clock.now(),
                        hash_profile=current_app.config["PASSWORD_HASH_PROFILE"],
                        min_password=current_app.config["MIN_PASSWORD_LENGTH"])
    except ApprovalError as exc:
        _fail(exc)
    click.echo(f"已新增用户 {user.username}：" + "，".join(f"{g.role}@{g.org.code}" for g in user.grants))


@user_cli.command("list")
def user_list():
    """列出用户及其角色。"""
    for user in db.session.scalars(select(User).order_by(User.username)):
        grants = "，".join(f"{ROLE_NAMES.get(g.role, g.role)}@{g.org.code}" for g in user.grants)
        click.echo(f"{user.username}\t{user.display_name}\t{'' if user.active else '（停用）'}{grants}")


@user_cli.command("disable")
@click.argument("username")
def user_disable(username):
    """停用用户：不能再登录，其全部会话和 API 令牌立即失效。"""
    try:
        disable_user(db.session, None, username)
    except ApprovalError as exc:
        _fail(exc)
    click.echo(f"已停用 {username}，其全部会话和令牌已失效")


@user_cli.command("enable")
@click.argument("username")
def user_enable(username):
    """重新启用用户（须重新登录）。"""
    try:
        enable_user(db.session, None, username)
    except ApprovalError as exc:
        _fail(exc)
    click.echo(f"已启用 {username}")


@user_cli.command("unlock")
@click.argument("username")
def user_unlock(username):
    """解除登录锁定：此前的登录失败不再计数。"""
    from app import clock

    try:
        unlock_user(db.session, None, username, clock.now())
    except ApprovalError as exc:
        _fail(exc)
    click.echo(f"已解除 {username} 的登录锁定")


def _bpmn_files(paths: tuple[str, ...]) -> list[Path]:
    if not paths:
        paths = (str(current_app.config["BPMN_DIR"]),)
    files = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(path.glob("*.bpmn"))
        elif path.is_file():
            files.append(path)
        else:
            raise click.ClickException(f"没有这个文件或目录：{raw}")
    return files


@bpmn_cli.command("deploy")
@click.argument("paths", nargs=-1)
def bpmn_deploy(paths):
    """部署 BPMN（默认 bpmn/ 全部）。全部通过检查才保存；未改动的文件不产生新版本。"""
    sources = [BpmnSource(p.name, p.read_bytes()) for p in _bpmn_files(paths)]
    try:
        results = deploy_processes(deps(), sources, forms_dir=current_app.config["FORMS_DIR"],
                                   max_bytes=current_app.config["MAX_BPMN_BYTES"])
    except (ApprovalError, InvalidBpmn) as exc:
        _fail(exc)
    for r in results:
        state = "新版本" if r.created else "仅更新布局" if r.layout_updated else "未改动"
        click.echo(f"{r.definition.process_id}\tv{r.definition.version}\t{state}\t{r.definition.name}")
        for warning in r.warnings:
            click.echo(f"  警告：{warning}")


@bpmn_cli.command("list")
def bpmn_list():
    """列出所有流程版本及在途实例数。"""
    running = dict(db.session.execute(
        select(ProcessInstance.definition_id, func.count())
        .where(ProcessInstance.status == InstanceStatus.RUNNING).group_by(ProcessInstance.definition_id)).all())
    click.echo("流程\t版本\t在途\t部署时间\t名称")
    for d in db.session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.process_id,
                                                                   ProcessDefinition.version)):
        click.echo(f"{d.process_id}\tv{d.version}\t{running.get(d.id, 0)}\t{d.deployed_at:%Y-%m-%d %H:%M}\t{d.name}")


@click.command("seed-demo")
def seed_demo():
    """创建示范县/示范镇、各角色用户、代码表和会计科目，部署 bpmn/，并走真实流程建好本年度预算和在办申请。"""
    # Jobs the seed asks for (the simulated bank's answers) run at once: a command has no worker to wait for.
    current_app.extensions["township_jobs"] = InlineQueue(current_app._get_current_object())
    d = deps()
    result = seed_people(d, current_app.config["PASSWORD_HASH_PROFILE"])
    sources = [BpmnSource(p.name, p.read_bytes()) for p in _bpmn_files(())]
    try:
        deploy_processes(d, sources, forms_dir=current_app.config["FORMS_DIR"])
    except (ApprovalError, InvalidBpmn) as exc:
        _fail(exc)
    seed_reference(deps())
    if result.created:
        count = seed_requests(deps()) + seed_office(deps())
        click.echo(f"已创建示范镇：{result.users} 个用户（密码 {DEMO_PASSWORD}），项目、预算、指标、用款计划，"
                   f"{count} 笔申请（已办结的和在办的）。")
    else:
        click.echo("示范镇已存在，未重复创建；bpmn/ 已同步部署。")


def init_app(app) -> None:
    for group in (org_cli, user_cli, bpmn_cli, seed_demo, refdata_cli):
        app.cli.add_command(group)
    app.cli.add_command(settings_cli)
    app.cli.add_command(holidays_cli)
    app.cli.add_command(timers_cli)
    app.cli.add_command(jobs_cli)
