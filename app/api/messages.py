"""Chinese for marshmallow's stock validation messages: township staff read these on their phones."""
import re

_EXACT = {
    "Missing data for required field.": "必填",
    "Unknown field.": "不认识的字段",
    "Field may not be null.": "不能为空",
    "Not a valid string.": "须为字符串",
    "Not a valid integer.": "须为整数",
    "Not a valid number.": "须为数字",
    "Not a valid boolean.": "须为 true 或 false",
    "Not a valid date.": "日期格式应为 YYYY-MM-DD",
    "Not a valid datetime.": "时间格式应为 ISO 8601",
    "Not a valid mapping type.": "须为 JSON 对象",
    "Not a valid list.": "须为列表",
    "Invalid input type.": "类型不对",
    "Invalid value.": "取值不对",
    "Special numeric values (nan or infinity) are not permitted.": "不允许 NaN 或 Infinity",
    "Not a valid file.": "须为上传的文件",
}
_PATTERNS = [
    (re.compile(r"^Must be one of: (.*)\.$"), lambda m: "须为以下之一：" + m.group(1).replace(", ", "、")),
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), lambda m: f"长度须在 {m[1]} 到 {m[2]} 之间"),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), lambda m: f"至少 {m[1]} 个字符"),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), lambda m: f"不能超过 {m[1]} 个字符"),
    (re.compile(r"^Must be greater than or equal to (\S+)\.$"), lambda m: f"不能小于 {m[1]}"),
    (re.compile(r"^Must be less than or equal to (\S+)\.$"), lambda m: f"不能大于 {m[1]}"),
    (re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
     lambda m: f"须在 {m[1]} 到 {m[2]} 之间"),
]


def translate(message: str) -> str:
    if message in _EXACT:
        return _EXACT[message]
    for pattern, render in _PATTERNS:
        if match := pattern.match(message):
            return render(match)
    return message
