"""Timer expressions are Python (spiffworkflow.md §5); check_timer_expression catches bad ones at deploy."""
import pytest

from app.engine import ScriptRejected, check_timer_expression


@pytest.mark.parametrize(
    ("kind", "expression"),
    [
        ("timeDuration", '"P2D"'),
        ("timeDuration", "'PT24H'"),
        ("timeDuration", '"P1DT12H"'),
        ("timeDate", '"2026-03-31T17:00:00+08:00"'),
        ("timeDate", '"2026-03-31T09:00:00Z"'),
        ("timeCycle", '"R3/PT24H"'),
        ("timeCycle", '"R3/2026-03-02T09:00:00+08:00/PT1H"'),
    ],
)
def test_quoted_iso_literals_pass(kind, expression):
    check_timer_expression(kind, expression)


@pytest.mark.parametrize(("kind", "expression"), [("timeDuration", "P2D"), ("timeDuration", " PT4H "),
                                                  ("timeCycle", "R3/PT24H")])
def test_an_unquoted_iso_literal_is_refused_with_a_hint_to_quote_it(kind, expression):
    with pytest.raises(ScriptRejected) as info:
        check_timer_expression(kind, expression)
    assert f'"{expression.strip()}"' in str(info.value)
    assert "引号" in str(info.value)


@pytest.mark.parametrize(
    ("kind", "expression"),
    [("timeDuration", '"2 days"'), ("timeDate", '"tomorrow"'), ("timeCycle", '"PT1H"')],
)
def test_a_quoted_string_that_is_not_iso_8601_is_refused(kind, expression):
    with pytest.raises(ScriptRejected, match="无法解析"):
        check_timer_expression(kind, expression)


def test_a_time_date_without_an_offset_is_refused():
    with pytest.raises(ScriptRejected, match="时区"):
        check_timer_expression("timeDate", '"2026-03-31T17:00:00"')


def test_a_cycle_whose_start_has_no_offset_is_refused_like_a_time_date():
    # The start of a cycle is read with the same server-zone rule as a naive timeDate (§5).
    with pytest.raises(ScriptRejected, match="时区"):
        check_timer_expression("timeCycle", '"R3/2026-03-02T09:00:00/PT1H"')


def test_a_literal_that_is_not_a_string_is_refused():
    with pytest.raises(ScriptRejected, match="字符串"):
        check_timer_expression("timeDuration", "48")


def test_an_empty_expression_is_refused():
    with pytest.raises(ScriptRejected, match="为空"):
        check_timer_expression("timeDuration", "")


@pytest.mark.parametrize("expression", ['"PT%dH" % sla_hours', "deadline", '"P2D" if urgent else "P5D"'])
def test_a_computed_expression_is_only_compile_checked(expression):
    check_timer_expression("timeDuration", expression)


@pytest.mark.parametrize("expression", ["__import__('os').getcwd()", "().__class__", "deadline +"])
def test_a_computed_expression_that_does_not_compile_in_the_sandbox_is_refused(expression):
    with pytest.raises(ScriptRejected):
        check_timer_expression("timeDuration", expression)
