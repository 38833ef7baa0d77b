"""Request and response shapes. Inputs refuse unknown fields; outputs document what the views return."""
from decimal import Decimal

from marshmallow import Schema, fields, validate

from app.approvals.copies import MAX_CC
from app.inbox.queries import LOCAL_TZ, SORT_KEYS, VIEWS
from app.models import Decision, InstanceStatus, TaskKind, TaskState

SORTS = [*SORT_KEYS, *(f"-{k}" for k in SORT_KEYS)]
# Money columns hold less than 10**16 (NUMERIC(18,2)); a bound beyond that makes PostgreSQL fail the query.
# 10**15 is below it and exact as the float the document declares: the check and the document agree.
AMOUNT_ARG_MAX = Decimal(10) ** 15


class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={"description": "错误代码，如 not_found、conflict、validation_error"})
    message = fields.String(required=True, metadata={"description": "给人看的说明"})
    details = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                          metadata={"description": "按字段（或 BPMN 元素 id）列出的问题"})
    problems = fields.List(fields.Dict(), metadata={
        "description": "BPMN 检查问题：file、element_id、element_name、line、message"})


class TokenRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256), load_only=True)


class TokenResponse(Schema):
    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)


class GrantOut(Schema):
    role = fields.String()
    role_name = fields.String()
    org = fields.Nested(lambda: OrgRef())


class MeResponse(Schema):
    user = fields.Nested(lambda: UserRef())
    roles = fields.List(fields.Nested(GrantOut))
    csrf_token = fields.String(allow_none=True, metadata={"description": "会话方式访问时，写操作须放在 X-CSRFToken 头"})


class UserRef(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()


class OrgRef(Schema):
    code = fields.String()
    name = fields.String()


MONEY_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"


class MoneyText(fields.Decimal):
    """Money as the API sends it: yuan as a decimal string with two places ("1200.00"), never a JSON number.

    apispec would call a Decimal field a number; the document must say what goes over the wire.
    """

    def __init__(self, description: str = "", **kwargs):
        text = f"{description}（元，两位小数的字符串）" if description else "元，两位小数的字符串"
        super().__init__(as_string=True, places=2, metadata={
            "type": "string", "pattern": MONEY_PATTERN, "example": "1200.00", "description": text}, **kwargs)


class InstanceSummary(Schema):
    id = fields.Integer()
    business_key = fields.String()
    process_id = fields.String()
    process_name = fields.String()
    version = fields.Integer()
    title = fields.String()
    amount = MoneyText(allow_none=True)
    status = fields.String(metadata={"enum": [s.value for s in InstanceStatus]})
    org = fields.Nested(OrgRef)
    initiator = fields.Nested(UserRef)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)


class TaskBrief(Schema):
    id = fields.Integer()
    instance_id = fields.Integer()
    kind = fields.String(metadata={
        "enum": [k.value for k in TaskKind],
        "description": "step 环节；countersign 多人审批成员；signer_before/after 加签；delegate 委派"})
    parent_id = fields.Integer(allow_none=True, metadata={"description": "子任务所属的环节任务"})
    seq = fields.Integer(allow_none=True)
    bpmn_id = fields.String()
    name = fields.String()
    role = fields.String(allow_none=True)
    role_name = fields.String(allow_none=True)
    state = fields.String(metadata={"enum": [s.value for s in TaskState]})
    waiting_for = fields.String(allow_none=True, metadata={"description": "signers / delegate：等待子任务"})
    multi = fields.String(allow_none=True,
                          metadata={"description": "多人审批方式：all 会签、any 或签、sequential 依次"})
    note = fields.String(allow_none=True, metadata={"description": "给办理人的说明，如退回原因、转办说明"})
    fallback = fields.String(allow_none=True, metadata={"description": "无人可办时的兜底：higher_holder、admin、none"})
    assignee = fields.Nested(UserRef, allow_none=True)
    added_by = fields.Nested(UserRef, allow_none=True,
                             metadata={"description": "加签、委派子任务：由谁加上（此人可以减签）"})
    created_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True, metadata={"description": "办理期限（按工作日计算）"})
    remind_count = fields.Integer(metadata={"description": "已发出的提醒次数"})
    escalation_level = fields.Integer(metadata={"description": "超时升级到第几级（0 未升级）"})
    escalated_to_role = fields.String(allow_none=True, metadata={"description": "升级到的角色"})
    claimed_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.Nested(UserRef, allow_none=True)
    on_behalf_of = fields.Nested(UserRef, allow_none=True, metadata={"description": "代理办理时，被代理人"})
    completed_by_name = fields.String(allow_none=True, metadata={"description": "如“张三（代李四）”"})
    decision = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)


class ControlResultOut(Schema):
    rule = fields.String(metadata={"description": "控制规则编号 C01–C19"})
    outcome = fields.String(metadata={"description": "pass 通过 / warn 提示 / block 阻断"})
    message = fields.String()
    evidence = fields.Dict(metadata={"description": "规则所依据的余额、编码等"})
    source = fields.String(metadata={"description": "规则依据（法规、制度）"})
    checked_at = fields.DateTime()


class TaskDetail(TaskBrief):
    instance = fields.Nested(InstanceSummary)
    can_act = fields.Boolean(metadata={"description": "当前用户现在能否办理"})
    can_claim = fields.Boolean()
    can_unclaim = fields.Boolean()
    can_return = fields.Boolean()
    can_delegate = fields.Boolean()
    can_add_signer = fields.Boolean()
    can_transfer = fields.Boolean()
    acting_for = fields.Nested(UserRef, allow_none=True,
                               metadata={"description": "当前用户作为代理人时，被代理人（代理办理）"})
    sub_tasks = fields.List(fields.Nested(TaskBrief), metadata={"description": "多人审批成员、加签人、被委派人"})
    is_application = fields.Boolean(metadata={"description": "申请人自己的环节（无需审批意见）"})
    form = fields.Dict(metadata={"description": "本环节表单（JSON Schema）"})
    data = fields.Dict(metadata={"description": "流程数据（申请内容与此前各环节填写的内容）"})
    controls = fields.List(fields.Nested(ControlResultOut),
                           metadata={"description": "控制规则对本申请的最新检查结果（每条规则一项）"})


class EventOut(Schema):
    seq = fields.Integer()
    type = fields.String()
    at = fields.DateTime()
    actor = fields.Nested(UserRef, allow_none=True)
    on_behalf_of = fields.Nested(UserRef, allow_none=True)
    actor_name = fields.String(allow_none=True, metadata={"description": "如“张三（代李四）”"})
    task_id = fields.Integer(allow_none=True)
    data = fields.Dict()


class InstanceDetail(InstanceSummary):
    current_tasks = fields.List(fields.Nested(TaskBrief))
    history = fields.List(fields.Nested(EventOut))


class InboxItem(Schema):
    instance = fields.Nested(InstanceSummary, required=True)
    task = fields.Nested(TaskBrief, allow_none=True,
                         metadata={"description": "todo/done 视图中的任务；started 视图为 null"})
    current_tasks = fields.List(fields.Nested(TaskBrief),
                                metadata={"description": "started 视图：流程当前停在哪些环节"})
    cc = fields.Nested(lambda: CopyOut(), metadata={"description": "cc 视图：这条抄送（谁抄送、说明、是否已阅）"})


class PageOf(Schema):
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class InboxPage(PageOf):
    items = fields.List(fields.Nested(InboxItem))


class InstancePage(PageOf):
    items = fields.List(fields.Nested(InstanceSummary))


class AmountArg(fields.Decimal):
    """A money bound in a query string: parsed as Decimal; shown in OpenAPI as a plain number.

    apispec writes validator bounds through _serialize, and a Decimal would reach JSON as a string.
    Bounded (AMOUNT_ARG_MAX) so that 1e26 is a 400 naming the field, not a 500 from the database.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(validate.Range(min=-AMOUNT_ARG_MAX, max=AMOUNT_ARG_MAX,
                                              error=f"金额的绝对值不能超过 {AMOUNT_ARG_MAX:,} 元"))

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else float(value)


class ListArgs(Schema):
    process = fields.String(validate=validate.Length(max=64))
    status = fields.String(validate=validate.OneOf([s.value for s in InstanceStatus]))
    date_from = fields.Date(metadata={"description": "起始日期（含），北京时间"})
    date_to = fields.Date(metadata={"description": "截止日期（含），北京时间"})
    amount_min = AmountArg(validate=validate.Range(min=0), metadata={"description": "金额下限（元，含）"})
    amount_max = AmountArg(validate=validate.Range(min=0), metadata={"description": "金额上限（元，含）"})
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "标题或业务编号包含的文字"})
    sort = fields.String(load_default="-created_at", validate=validate.OneOf(SORTS))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class TaskListArgs(ListArgs):
    view = fields.String(load_default="todo", validate=validate.OneOf(VIEWS),
                         metadata={"description": "todo 待办、done 已办、started 我发起的、cc 抄送我的"})


class StartInstanceRequest(Schema):
    process_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    data = fields.Dict(load_default=dict, metadata={"description": "申请表内容，按流程申请环节的表单校验"})
    org = fields.String(validate=validate.Length(min=1, max=32),
                        metadata={"description": "以哪个单位发起（单位代码）；默认是你有申请角色的单位"})
    comment = fields.String(validate=validate.Length(max=2000), allow_none=True)


class CompleteTaskRequest(Schema):
    decision = fields.String(validate=validate.OneOf([Decision.APPROVE, Decision.REJECT]), allow_none=True,
                             metadata={"description": "approve 同意 / reject 不同意；申请环节留空"})
    comment = fields.String(validate=validate.Length(max=2000), allow_none=True)
    data = fields.Dict(load_default=dict, metadata={"description": "本环节表单内容"})


class DefinitionOut(Schema):
    id = fields.Integer()
    process_id = fields.String()
    name = fields.String()
    version = fields.Integer()
    sha256 = fields.String(metadata={
        "description": "版本指纹：BPMN 含义（去掉布局的规范化 XML）与表单的 SHA-256；只改布局不会变"})
    filename = fields.String()
    deployed_at = fields.DateTime()
    deployed_by = fields.Nested(UserRef, allow_none=True)
    latest = fields.Boolean()
    running_instances = fields.Integer()
    can_start = fields.Boolean(metadata={"description": "当前用户能否发起（持有申请环节泳道的角色）"})


class DeployResponse(Schema):
    created = fields.Boolean(metadata={
        "description": "false：与最新版本含义相同（只改布局、缩进、属性顺序或前缀也算相同），没有新建版本"})
    layout_updated = fields.Boolean(metadata={
        "description": "true：没有新建版本，但最新版本保存的图换成了这次上传的布局（bpmndi）"})
    warnings = fields.List(fields.Dict(), metadata={
        "description": "不阻止部署的提醒，如 camunda:assignee 等其他引擎的扩展不起作用"
                       "（file、element_id、element_name、line、message）"})
    definition = fields.Nested(DefinitionOut)


class DefinitionListArgs(Schema):
    all_versions = fields.Boolean(load_default=False)


class AttachmentOut(Schema):
    id = fields.Integer()
    instance_id = fields.Integer()
    task_id = fields.Integer(allow_none=True, metadata={"description": "上传时所在的任务"})
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer(metadata={"description": "字节数"})
    sha256 = fields.String(metadata={"description": "内容的 SHA-256（十六进制），也是下载的 ETag"})
    uploaded_by = fields.Nested(UserRef)
    uploaded_at = fields.DateTime()
    url = fields.String(metadata={"description": "下载地址"})


class CommentRequest(Schema):
    comment = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                            metadata={"description": "意见，1 到 2000 个字符"})


class CopyOut(Schema):
    id = fields.Integer()
    sent_by = fields.Nested(UserRef, allow_none=True, metadata={"description": "抄送人；流程自动抄送为 null"})
    comment = fields.String(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True, metadata={"description": "已阅时间；未阅为 null"})


class CopyReadResponse(CopyOut):
    instance_id = fields.Integer()


class CcRequest(Schema):
    to = fields.List(fields.String(validate=validate.Length(min=1, max=64)), required=True,
                     validate=validate.Length(min=1, max=MAX_CC),
                     metadata={"description": f"抄送对象的用户名，最多 {MAX_CC} 人"})
    comment = fields.String(validate=validate.Length(max=2000), allow_none=True)


class CcResponse(Schema):
    instance_id = fields.Integer()
    task_id = fields.Integer()
    copied = fields.List(fields.Nested(UserRef), metadata={"description": "本次新抄送的人"})
    already_copied = fields.List(fields.String(), metadata={"description": "此前已收到本申请抄送、本次略过的用户名"})


class UrgeRequest(Schema):
    comment = fields.String(validate=validate.Length(max=2000), allow_none=True,
                            metadata={"description": "催办说明，随通知发给办理人"})


class UrgeResponse(Schema):
    instance_id = fields.Integer()
    notified = fields.List(fields.Nested(UserRef), metadata={"description": "收到催办通知的人"})
    at = fields.DateTime()


class NotificationOut(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "如 urge 催办、cc 抄送"})
    title = fields.String()
    body = fields.String(allow_none=True)
    instance_id = fields.Integer(allow_none=True)
    task_id = fields.Integer(allow_none=True)
    link = fields.String(allow_none=True, metadata={"description": "办理或查看的页面路径，如 /tasks/12、/instances/3"})
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class NotificationListArgs(Schema):
    unread = fields.Boolean(load_default=False, metadata={"description": "true：只列未读"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class NotificationPage(PageOf):
    items = fields.List(fields.Nested(NotificationOut))
    unread_count = fields.Integer(metadata={"description": "未读通知总数"})


class ReadAllResponse(Schema):
    updated = fields.Integer(metadata={"description": "本次标为已读的条数"})
    unread_count = fields.Integer()


class ProxyRequest(Schema):
    proxy = fields.String(required=True, validate=validate.Length(min=1, max=64),
                          metadata={"description": "代理人的用户名"})
    starts_at = fields.AwareDateTime(required=True, default_timezone=LOCAL_TZ,
                                     metadata={"description": "开始时间（ISO 8601；不带时区按北京时间）"})
    ends_at = fields.AwareDateTime(required=True, default_timezone=LOCAL_TZ,
                                   metadata={"description": "结束时间（不含）"})
    process_ids = fields.List(fields.String(validate=validate.Length(min=1, max=64)), allow_none=True,
                              metadata={"description": "只代理这些流程；不填为全部流程"})
    reason = fields.String(validate=validate.Length(max=200), allow_none=True)


class ProxyOut(Schema):
    id = fields.Integer()
    principal = fields.Nested(UserRef, metadata={"description": "委托人"})
    proxy = fields.Nested(UserRef, metadata={"description": "代理人"})
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    process_ids = fields.List(fields.String(), allow_none=True)
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    status = fields.String(metadata={"enum": ["scheduled", "active", "ended", "revoked"]})


class ProxyLists(Schema):
    as_principal = fields.List(fields.Nested(ProxyOut), metadata={"description": "我设置的代理"})
    as_proxy = fields.List(fields.Nested(ProxyOut), metadata={"description": "我替别人代理的"})
