"""Reference code tables (基础信息): classifications, fund natures, project categories and the like.

One table for all of them, told apart by `kind`: they share a shape (code, name, parent) and an
import path. The departmental economic code carries its government economic code (C15).
"""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.types import UtcDateTime


class RefKind(StrEnum):
    FUNCTION = "function"  # 支出功能分类 类-款-项 (3/5/7 digits)
    ECON_DEPT = "econ_dept"  # 部门预算支出经济分类 类-款 (3/5)
    ECON_GOV = "econ_gov"  # 政府预算支出经济分类 类-款 (3/5)
    FUND_NATURE = "fund_nature"  # 资金性质
    PROJECT_CATEGORY = "project_category"  # 项目类别
    PAY_TYPE = "pay_type"  # 支付方式
    INDICATOR_SOURCE = "indicator_source"  # 指标来源


REF_KIND_NAMES = {
    RefKind.FUNCTION: "支出功能分类",
    RefKind.ECON_DEPT: "部门预算支出经济分类",
    RefKind.ECON_GOV: "政府预算支出经济分类",
    RefKind.FUND_NATURE: "资金性质",
    RefKind.PROJECT_CATEGORY: "项目类别",
    RefKind.PAY_TYPE: "支付方式",
    RefKind.INDICATOR_SOURCE: "指标来源",
}


class RefCode(Base):
    __tablename__ = "ref_code"
    __table_args__ = (UniqueConstraint("kind", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(String(32))
    # econ_dept only: the government economic code it maps to (C15 经济分类对应).
    gov_code: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
