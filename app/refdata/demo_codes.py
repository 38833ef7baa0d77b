"""The demo code sets (docs/domain.md §2.2, §2.8, §8), as data. `flask refdata seed` loads them.

They are for the demo township only: production imports the official 《20XX年政府收支分类科目》 and the
MoF 对照表 with `flask refdata import`. Classification parents are derived from the code (类-款-项), so
the function and economic tables list (code, name) only; the other tables give their parent.
Rows marked "added" are not in the domain report but are needed for the tree or the C15 mapping to
be complete; each says why.
"""

# 支出功能分类 (§8.1), 类 3 / 款 5 / 项 7 digits.
FUNCTION = (
    ("201", "一般公共服务支出"),
    ("20101", "人大事务"),
    ("2010101", "行政运行"),
    ("20103", "政府办公厅（室）及相关机构事务"),
    ("2010301", "行政运行"),
    ("2010302", "一般行政管理事务"),
    ("2010350", "事业运行"),
    ("20106", "财政事务"),
    ("2010601", "行政运行"),
    ("20129", "群众团体事务"),
    ("2012902", "一般行政管理事务"),
    ("20131", "党委办公厅（室）及相关机构事务"),
    ("2013101", "行政运行"),
    ("208", "社会保障和就业支出"),
    ("20805", "行政事业单位养老支出"),
    ("2080505", "机关事业单位基本养老保险缴费支出"),
    ("2080506", "机关事业单位职业年金缴费支出"),
    ("210", "卫生健康支出"),
    # added: the 款 of 2100717 (§8.1 lists the 项 without it); name from the official book.
    ("21007", "计划生育事务"),
    ("2100717", "计划生育服务"),
    ("21011", "行政事业单位医疗"),
    ("2101101", "行政单位医疗"),
    ("212", "城乡社区支出"),
    ("21201", "城乡社区管理事务"),
    ("2120102", "一般行政管理事务"),
    ("2120199", "其他城乡社区管理事务支出"),
    ("213", "农林水支出"),
    # added: the 款 of 2130199 (§8.1 lists the 项 without it); 农业农村 is its name since 2019 (formerly 农业).
    ("21301", "农业农村"),
    ("2130199", "其他农业农村支出"),
    ("21307", "农村综合改革"),
    ("2130701", "对村级公益事业建设的补助"),
    ("2130705", "对村民委员会和村党支部的补助"),
    ("221", "住房保障支出"),
    ("22102", "住房改革支出"),
    ("2210201", "住房公积金"),
)

# 政府预算支出经济分类 (§8.3), 类 3 / 款 5 digits. Listed before ECON_DEPT, which refers to it.
ECON_GOV = (
    ("501", "机关工资福利支出"),
    ("50101", "工资奖金津补贴"),
    ("50102", "社会保障缴费"),
    ("50103", "住房公积金"),
    ("502", "机关商品和服务支出"),
    ("50201", "办公经费"),
    ("50202", "会议费"),
    ("50203", "培训费"),
    ("50205", "委托业务费"),
    ("50206", "公务接待费"),
    ("50208", "公务用车运行维护费"),
    ("50209", "维修（护）费"),
    ("50299", "其他商品和服务支出"),
    ("503", "机关资本性支出（一）"),
    # added: 31005 基础设施建设 and 31013 公务用车购置 need a 款 under 503; these are their official
    # counterparts (§8.3 lists only 50306).
    ("50302", "基础设施建设"),
    ("50303", "公务用车购置"),
    ("50306", "设备购置"),
    ("509", "对个人和家庭的补助"),
    # added: §8.3 maps 303xx to the 类 509 only, but C15 needs a 款 (5 digits); official 509 款.
    ("50901", "社会福利和救助"),
    ("50903", "个人农业生产补贴"),
    ("50999", "其他对个人和家庭补助"),
    ("513", "转移性支出"),
    ("51301", "上下级政府间转移性支出"),
)

# 部门预算支出经济分类 (§8.2), 类 3 / 款 5 digits: (code, name, government code (C15), 类 rows: None).
# The mapping follows §8.3 (the 机关 column: a township's units are treated as 机关 for the demo);
# codes §8.3 does not name are mapped as commented.
ECON_DEPT = (
    ("301", "工资福利支出", None),
    ("30101", "基本工资", "50101"),
    ("30102", "津贴补贴", "50101"),
    ("30103", "奖金", "50101"),
    ("30107", "绩效工资", "50101"),
    ("30108", "机关事业单位基本养老保险缴费", "50102"),
    ("30109", "职业年金缴费", "50102"),
    ("30110", "职工基本医疗保险缴费", "50102"),
    ("30113", "住房公积金", "50103"),
    ("302", "商品和服务支出", None),
    ("30201", "办公费", "50201"),
    ("30202", "印刷费", "50201"),
    ("30205", "水费", "50201"),
    ("30206", "电费", "50201"),  # the one mapping seen in real data (Hubei payload)
    ("30207", "邮电费", "50201"),
    ("30211", "差旅费", "50201"),
    ("30213", "维修（护）费", "50209"),
    ("30215", "会议费", "50202"),
    ("30216", "培训费", "50203"),
    ("30217", "公务接待费", "50206"),
    # The official table has 50204 专用材料购置费; §8.3 does not list it, so the demo uses 50299.
    ("30218", "专用材料费", "50299"),
    ("30226", "劳务费", "50299"),
    ("30227", "委托业务费", "50205"),
    # 工会经费, 福利费, 其他交通费用 fall under 办公经费 in the official table (§8.3's "30211…").
    ("30228", "工会经费", "50201"),
    ("30229", "福利费", "50201"),
    ("30231", "公务用车运行维护费", "50208"),
    ("30239", "其他交通费用", "50201"),
    ("30299", "其他商品和服务支出", "50299"),
    ("303", "对个人和家庭的补助", None),
    ("30305", "生活补助", "50901"),  # added 款, see ECON_GOV
    ("30309", "奖励金", "50999"),  # added 款, see ECON_GOV
    ("30310", "个人农业生产补贴", "50903"),  # added 款, see ECON_GOV
    ("310", "资本性支出", None),
    ("31002", "办公设备购置", "50306"),
    ("31005", "基础设施建设", "50302"),  # added 款, see ECON_GOV
    ("31007", "信息网络及软件购置更新", "50306"),  # equipment, as in the official table
    ("31013", "公务用车购置", "50303"),  # added 款, see ECON_GOV
    # A 类 without 款 in the demo (§8.2 gives none), so it cannot be chosen for a budget line.
    ("399", "其他支出", None),
)

# 资金性质 (§2.8): (code, name, parent). Provinces extend it (e.g. Hubei 11111 经费拨款补助) by import.
FUND_NATURE = (
    ("1", "政府预算资金", None),
    ("11", "一般公共预算资金", "1"),
    ("111", "一般公共预算资金", "11"),
    ("112", "一般债券", "11"),
    ("113", "外国政府和国际组织贷款", "11"),
    ("114", "外国政府和国际组织赠款", "11"),
    ("12", "政府性基金预算资金", "1"),
    ("121", "政府性基金预算资金", "12"),
    ("122", "专项债券", "12"),
    ("13", "国有资本经营预算资金", "1"),
    ("14", "社会保险基金预算资金", "1"),
    ("2", "财政专户管理资金", None),
    ("3", "单位资金", None),
    ("31", "事业收入资金", "3"),
    ("32", "上级补助收入资金", "3"),
    ("33", "附属单位上缴收入资金", "3"),
    ("34", "事业单位经营收入资金", "3"),
    ("39", "其他收入资金", "3"),
)

# 项目类别 (§2.2, the Shaanxi 2021 code set): (code, name, parent).
PROJECT_CATEGORY = (
    ("1", "人员类", None),
    ("2", "运转类", None),
    ("21", "公用经费", "2"),
    ("22", "其他运转类", "2"),
    ("3", "特定目标类", None),
)

# 支付方式 (§8.4): (code, name, parent, active). Only 1 is seen in real data; the two legacy ways
# have no code in the sources, so 2 and 3 are ours, kept inactive to name old records only.
PAY_TYPE = (
    ("1", "国库集中支付", None, True),
    ("2", "财政直接支付", None, False),
    ("3", "财政授权支付", None, False),
)

# 指标来源 (§8.4): (code, name, parent). 4 预算调剂 is seen with its code; 年初预算 is seen without one,
# 1 is ours.
INDICATOR_SOURCE = (
    ("1", "年初预算", None),
    ("4", "预算调剂", None),
)
