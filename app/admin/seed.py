"""The demo township: 示范县 -> 示范镇 with six budget units, a user for every role, and requests in flight.

A neighbouring 青山镇 with its own staff shows that scope works: nobody there sees 示范镇's requests.
Running it again changes nothing (it stops when 示范镇 exists).
"""
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from app.admin.people import GrantSpec, add_org, add_user
from app.approvals.deps import Deps
from app.approvals.instances import start_instance
from app.approvals.tasks import complete_task
from app.models import HumanTask, Org, TaskState, UnitType, User

DEMO_PASSWORD = "demo-2026"
COUNTY, TOWNSHIP, OTHER_TOWNSHIP = "SFX", "SFZ", "QSZ"

ORGS = [
    (COUNTY, "示范县", "county", None),
    (TOWNSHIP, "示范镇", "township", COUNTY),
    ("SFZ-ZFB", "镇政府办", "unit", TOWNSHIP),
    ("SFZ-CZS", "财政所", "unit", TOWNSHIP),
    ("SFZ-NYB", "农业农村办", "unit", TOWNSHIP),
    ("SFZ-SWB", "社会事务办", "unit", TOWNSHIP),
    ("SFZ-ZXXX", "中心小学", "unit", TOWNSHIP),
    ("SFZ-WSY", "卫生院", "unit", TOWNSHIP),
    (OTHER_TOWNSHIP, "青山镇", "township", COUNTY),
    ("QSZ-ZFB", "青山镇政府办", "unit", OTHER_TOWNSHIP),
]

# 事业单位 keep 事业支出 books (7201); every other unit is a 行政单位 (7101) (domain.md §7).
INSTITUTIONS = {"SFZ-ZXXX", "SFZ-WSY"}

# username, display name, grants. One user for every role; clerks and heads in each unit.
USERS = [
    ("zfb_clerk", "王经办", ["clerk@SFZ-ZFB"]),
    ("zfb_head", "赵主任", ["unit_head@SFZ-ZFB"]),
    ("czs_clerk", "钱会计", ["clerk@SFZ-CZS"]),
    ("czs_head_unit", "孙站长", ["unit_head@SFZ-CZS"]),
    ("nyb_clerk", "李经办", ["clerk@SFZ-NYB"]),
    ("nyb_head", "周主任", ["unit_head@SFZ-NYB"]),
    ("swb_clerk", "吴经办", ["clerk@SFZ-SWB"]),
    ("swb_head", "郑主任", ["unit_head@SFZ-SWB"]),
    ("xx_clerk", "冯老师", ["clerk@SFZ-ZXXX"]),
    ("xx_head", "陈校长", ["unit_head@SFZ-ZXXX"]),
    ("wsy_clerk", "褚会计", ["clerk@SFZ-WSY"]),
    ("wsy_head", "卫院长", ["unit_head@SFZ-WSY"]),
    ("cz_reviewer", "蒋审核", ["finance_reviewer@SFZ"]),
    ("cz_reviewer2", "沈审核", ["finance_reviewer@SFZ"]),
    ("cz_head", "韩所长", ["finance_head@SFZ"]),
    ("deputy", "杨副镇长", ["deputy_head@SFZ"]),
    ("finance_deputy", "朱副镇长", ["finance_deputy@SFZ"]),
    ("zhenzhang", "秦镇长", ["township_head@SFZ"]),
    ("shuji", "尤书记", ["party_secretary@SFZ"]),
    ("dangweihui", "党委会秘书", ["party_committee@SFZ"]),
    ("renda", "许主席", ["congress@SFZ"]),
    ("guoku", "何出纳", ["treasury@SFZ"]),
    ("duban", "吕督办", ["supervisor@SFZ"]),
    ("liucheng", "施流程", ["process_owner@SFZ"]),
    ("shenji", "张审计", ["auditor@SFX"]),
    ("admin", "曹管理员", ["admin@SFZ"]),
    ("qs_clerk", "青山经办", ["clerk@QSZ-ZFB"]),
    ("qs_head", "青山主任", ["unit_head@QSZ-ZFB"]),
    ("qs_reviewer", "青山审核", ["finance_reviewer@QSZ"]),
]


@dataclass(frozen=True)
class SeedResult:
    created: bool
    users: int


def seed_people(deps: Deps, hash_profile: str) -> SeedResult:
    session = deps.session
    if session.scalar(select(Org).where(Org.code == TOWNSHIP)) is not None:
        return SeedResult(False, 0)
    for code, name, kind, parent in ORGS:
        org = add_org(session, code, name, kind, parent)
        if kind == "unit":
            org.unit_type = UnitType.INSTITUTION if code in INSTITUTIONS else UnitType.ADMINISTRATIVE
    session.commit()
    for username, display_name, grants in USERS:
        specs = [GrantSpec(*g.split("@")) for g in grants]
        add_user(session, username, DEMO_PASSWORD, specs, display_name=display_name, now=deps.now,
                 hash_profile=hash_profile)
    return SeedResult(True, len(USERS))


def seed_reference(deps: Deps) -> None:
    """The code tables and the chart of accounts the budget processes need (idempotent)."""
    from app.accounting import seed_chart
    from app.refdata import seed_refdata

    seed_refdata(deps.session, deps.now)
    seed_chart(deps.session)
    deps.session.commit()


def _user(deps: Deps, username: str) -> User:
    return deps.session.scalar(select(User).where(User.username == username))


def _act(deps: Deps, username: str, instance_id: int, decision: str, comment: str, data=None) -> None:
    user = _user(deps, username)
    task = deps.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                       HumanTask.state == TaskState.READY))
    complete_task(deps, user, task.id, decision=decision, comment=comment, data=data or {})


def seed_requests(deps: Deps) -> int:
    """Expense claims at every stage, so each demo user's inbox has something in it."""
    claims = [
        ("nyb_clerk", "购买农技推广宣传资料", "1280.00", "印刷费", []),
        ("swb_clerk", "低保入户核查差旅费", "640.50", "差旅费", [("swb_head", "approve", "同意")]),
        ("xx_clerk", "教室照明线路维修", "8600.00", "维修（护）费",
         [("xx_head", "approve", "情况属实，同意"), ("cz_reviewer", "approve", "票据齐全")]),
        ("wsy_clerk", "打印机硒鼓", "960.00", "办公费",
         [("wsy_head", "approve", "同意"), ("cz_reviewer", "approve", "同意")]),
        ("zfb_clerk", "会议室投影仪维修", "3200.00", "维修（护）费", [("zfb_head", "reject", "先报修保内服务")]),
        ("nyb_clerk", "防汛物资运输费", "4500.00", "其他商品和服务支出", []),
    ]
    for clerk, title, amount, kind, steps in claims:
        data = {"title": title, "amount": Decimal(amount), "expense_type": kind, "payee": "某某商行",
                "invoice_count": 1, "description": f"{title}，附发票。"}
        instance = start_instance(deps, _user(deps, clerk), "expense_claim", data)
        for username, decision, comment in steps:
            extra = {"documents_complete": True} if username == "cz_reviewer" else {}
            _act(deps, username, instance.id, decision, comment, extra)
    return len(claims)
