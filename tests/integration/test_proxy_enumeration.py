"""代理 must not tell who works in another township: a user of elsewhere, an unknown name and a disabled
user get one answer (as 抄送, 转办, 委派 and 加签 give), while a colleague is still accepted."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.models import Proxy, User


def ask(api, proxy: str):
    now = clock.now()
    return api.post("/api/v1/proxies", json={"proxy": proxy, "starts_at": now.isoformat(),
                                             "ends_at": (now + timedelta(days=3)).isoformat()})


def refusal(api, proxy: str) -> tuple[int, dict, str]:
    """(status, the answer with the name taken out, the message about the proxy)."""
    response = ask(api, proxy)
    [message] = response.json["details"]["proxy"]
    return response.status_code, {**response.json, "details": {"proxy": [message.replace(proxy, "…")]}}, message


@pytest.fixture
def disabled(db_session):
    """A 示范镇 user who left: cz_head, disabled."""
    user = db_session.scalar(select(User).where(User.username == "cz_head"))
    user.active = False
    db_session.commit()
    return user.username


@pytest.mark.parametrize("principal, elsewhere", [("qs_head", "nyb_head"), ("nyb_head", "qs_head"),
                                                   ("qs_head", "cz_reviewer"), ("qs_reviewer", "shenji")])
def test_a_user_of_another_township_is_answered_as_an_unknown_name(demo, as_user, db_session, disabled, principal,
                                                                   elsewhere):
    api = as_user(principal)
    outside, unknown = refusal(api, elsewhere), refusal(api, "no_such_user")
    assert outside[:2] == unknown[:2]
    assert outside[0] == 400 and outside[2] == f"{elsewhere}：用户不存在、已停用，或不在你所在的乡镇"
    if principal != "qs_head":
        assert refusal(api, disabled)[:2] == unknown[:2]
    db_session.expire_all()
    assert db_session.scalar(select(func.count(Proxy.id))) == 0


@pytest.mark.parametrize("principal, colleague", [("nyb_head", "zfb_head"), ("qs_head", "qs_reviewer"),
                                                   ("shenji", "cz_reviewer")])
def test_a_colleague_of_the_same_township_is_still_accepted(demo, as_user, principal, colleague):
    """(the county auditor's proxy may work anywhere under the county)"""
    response = ask(as_user(principal), colleague)
    assert response.status_code == 201, response.json
    assert response.json["proxy"]["username"] == colleague


def test_naming_oneself_keeps_its_own_message(demo, as_user):
    response = ask(as_user("nyb_head"), " nyb_head ")
    assert response.status_code == 400 and response.json["details"] == {"proxy": ["不能指定自己为代理人"]}
