"""What SpiffWorkflow and the BPMN XML schema say, in Chinese for the process owner.

Both speak English, and a process owner reads Chinese. Each known message is a pattern with a Chinese
template; an unknown one gets a general Chinese sentence, and the original is always kept as `detail`.
"""
import re
from dataclasses import dataclass

_NAMESPACE = re.compile(r"\{[^}]*\}")

TYPE_NAMES = {
    "xs:boolean": "布尔值（true 或 false）",
    "xs:integer": "整数",
    "xs:int": "整数",
    "xs:double": "数字",
    "xs:anyURI": "URI",
    "xs:QName": "引用（元素 id）",
    "xs:IDREF": "引用（元素 id）",
    "xs:NCName": "名称",
}


def _local(names: str) -> str:
    """'{ns}userTask' -> 'userTask'; a list of expected elements -> '、'-separated local names."""
    return "、".join(_NAMESPACE.sub("", n).strip() for n in names.split(",") if n.strip())


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern
    template: str

    def apply(self, message: str) -> str | None:
        found = self.pattern.search(message)
        if found is None:
            return None
        parts = {k: _local(v) if k in ("el", "expected") else (v or "") for k, v in found.groupdict().items()}
        if "type" in parts:
            parts["type"] = TYPE_NAMES.get(parts["type"], parts["type"])
        return self.template.format(**parts)


def _rules(*pairs: tuple[str, str]) -> list[_Rule]:
    return [_Rule(re.compile(pattern, re.DOTALL), template) for pattern, template in pairs]


# libxml2's schema messages (the BPMN 2.0 XSD plus spiffworkflow.xsd).
SCHEMA_RULES = _rules(
    (r"Element '(?P<el>[^']+)', attribute '(?P<attr>[^']+)': The attribute '[^']+' is not allowed",
     "元素 {el} 不允许有属性 {attr}"),
    (r"Element '(?P<el>[^']+)': The attribute '(?P<attr>[^']+)' is required but missing",
     "元素 {el} 缺少必填属性 {attr}"),
    (r"Element '(?P<el>[^']+)', attribute '(?P<attr>[^']+)': '(?P<value>[^']*)' is not a valid value of the "
     r"atomic type 'xs:ID'",
     "元素 {el} 的 {attr} {value!r} 重复或不合法：id 须在文件内唯一，并以字母或下划线开头"),
    (r"Element '(?P<el>[^']+)', attribute '(?P<attr>[^']+)': \[facet 'enumeration'\] The value '(?P<value>[^']*)' "
     r"is not an element of the set \{(?P<set>[^}]*)\}",
     "元素 {el} 的属性 {attr} 不能取 {value!r}，只能取：{set}"),
    (r"Element '(?P<el>[^']+)', attribute '(?P<attr>[^']+)': '(?P<value>[^']*)' is not a valid value of the "
     r"(?:atomic|list) type '(?P<type>[^']+)'",
     "元素 {el} 的属性 {attr} 的值 {value!r} 不是合法的{type}"),
    (r"Element '(?P<el>[^']+)': '(?P<value>[^']*)' is not a valid value of the (?:atomic|list) type '(?P<type>[^']+)'",
     "元素 {el} 的内容 {value!r} 不是合法的{type}"),
    (r"Element '(?P<el>[^']+)': This element is not expected\. Expected is (?:one of )?\( (?P<expected>.*) \)",
     "元素 {el} 不应出现在这里；此处可以是：{expected}"),
    (r"Element '(?P<el>[^']+)': This element is not expected",
     "元素 {el} 不应出现在这里"),
    (r"Element '(?P<el>[^']+)': Missing child element\(s\)\. Expected is (?:one of )?\( (?P<expected>.*) \)",
     "元素 {el} 缺少子元素：{expected}"),
    (r"Element '(?P<el>[^']+)': Character content other than whitespace is not allowed",
     "元素 {el} 里不能直接写文字"),
    (r"Element '(?P<el>[^']+)': No match found for key-sequence \['(?P<value>[^']*)'\]",
     "元素 {el} 引用的 {value!r} 不存在"),
    (r"Element '(?P<el>[^']+)': Duplicate key-sequence \['(?P<value>[^']*)'\]",
     "元素 {el} 的 {value!r} 重复"),
    (r"Element '(?P<el>[^']+)': No matching global declaration available for the validation root",
     "根元素 {el} 不是 BPMN 2.0 的 definitions"),
)

# SpiffWorkflow's ValidationException messages (3.2), the ones a diagram from a modeler can trigger.
SPIFF_RULES = _rules(
    (r"^A Service Task must have an operator", "服务任务缺少操作名（spiffworkflow:serviceTaskOperator）"),
    (r"^Multiple outgoing flows are not supported",
     "这个任务有多条流出的顺序流；要分支请在任务后面加一个网关"),
    (r"^When looking for a task spec, we found two items.*\((?P<value>[^)]*)\)",
     "顺序流指向的元素 {value} 不存在（或不在同一个流程、子流程里）"),
    (r"^There is no support implemented for this task type", "不支持这种元素（引擎无法执行）"),
    (r"^Process (?P<value>\S+) is not executable", "流程 {value} 没有标为可执行（isExecutable=\"true\"）"),
    (r"^No start event found", "流程缺少开始事件"),
    (r"^Exactly one start event is required in a SubWorkflow Task; found (?P<value>\d+)",
     "子流程须恰好有一个开始事件，实际有 {value} 个"),
    (r"^A SubWorkflow Must contain an End event", "子流程缺少结束事件"),
    (r"^No \"calledElement\" attribute for Call Activity", "调用活动缺少 calledElement（要调用的流程 id）"),
    (r"^Duplicate process ID: (?P<value>.+)$", "流程 id {value} 重复"),
    (r"^The process '(?P<value>[^']+)' was not found", "找不到流程 {value}"),
    (r"^Non-default exclusive outgoing sequence flow without condition",
     "排他网关的这条流出顺序流既不是默认流，也没有条件表达式"),
    (r"^Conditional event definition with missing condition", "条件事件缺少条件表达式"),
    (r"^Unknown Time Specification", "定时器缺少时间（timeDuration、timeDate 或 timeCycle）"),
    (r"^Time Specification Error\.\s*(?P<value>.*)$", "定时器的时间写法有误：{value}"),
    (r"^Cannot resolve (?P<kind>dataInputAssociation|dataOutputAssociation) (?P<value>.+)$",
     "数据关联 {value} 找不到对应的数据对象"),
    (r"^Invalid Script Task\.\s+No Script Provided", "脚本任务缺少脚本"),
    (r"^Cancel Events may only be used with transactions", "取消事件只能用在事务子流程（transaction）上"),
    (r"^Sequential ordering for ad hoc subprocesses not supported", "不支持顺序执行的自由子流程"),
    (r"^Ad hoc subprocesses may not contain start or end events", "自由子流程里不能有开始或结束事件"),
    (r"^Could not find messageRef from message event definition", "消息事件缺少 messageRef（引用的消息）"),
    (r"^(?P<value>Message|Signal|Error|Escalation|Correlation) identifier is missing",
     "{value} 定义缺少 id"),
    (r"^Data Store with name (?P<value>.+) has no implementation", "数据存储 {value} 不受支持"),
)

SCHEMA_FALLBACK = "BPMN 结构不符合 BPMN 2.0 规范"
SPIFF_FALLBACK = "流程引擎无法解析这部分 BPMN"


def translate(message: str, rules: list[_Rule], fallback: str) -> str:
    """The Chinese for `message`; the fallback sentence when no rule knows it."""
    for rule in rules:
        if (text := rule.apply(message)) is not None:
            return text
    return fallback


def schema_message(message: str) -> str:
    return translate(message.strip(), SCHEMA_RULES, SCHEMA_FALLBACK)


def spiff_message(message: str) -> str:
    return translate(message.strip(), SPIFF_RULES, SPIFF_FALLBACK)
