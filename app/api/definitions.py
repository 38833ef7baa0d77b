"""Process definitions: list what is deployed, deploy a new version (process owners)."""
from flask import current_app
from flask_smorest.fields import Upload
from marshmallow import Schema, fields
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.api import Blueprint
from app.api.schemas import DefinitionListArgs, DefinitionOut, DeployResponse
from app.approvals.deploy import deploy_processes
from app.approvals.errors import Forbidden, InvalidInput
from app.auth.request import load_user
from app.engine import BpmnSource, read_model
from app.extensions import db
from app.inbox.present import user_ref
from app.models import InstanceStatus, ProcessDefinition, ProcessInstance, Role, User
from app.processes.definitions import latest_versions
from app.runtime import deps

bp = Blueprint("process_definitions", __name__, url_prefix="/api/v1/process-definitions",
               description="流程定义（BPMN）的部署与版本")


class DeployFiles(Schema):
    bpmn = Upload(required=True, metadata={"description": "BPMN 2.0 文件，文件名须为 <流程id>.bpmn"})
    forms = fields.List(Upload(), load_default=list, metadata={
        "description": "可选：用户任务表单，文件名 <任务id>.json；未上传的沿用上一版本或服务器 forms/ 目录"})


def definition_dict(definition: ProcessDefinition, latest: dict, running: dict, user: User) -> dict:
    return {
        "id": definition.id, "process_id": definition.process_id, "name": definition.name,
        "version": definition.version, "sha256": definition.sha256, "filename": definition.filename,
        "deployed_at": definition.deployed_at, "deployed_by": user_ref(definition.deployed_by),
        "latest": latest.get(definition.process_id) == definition.version,
        "running_instances": running.get(definition.id, 0),
        "can_start": any(g.role == definition.starter_role for g in user.grants),
    }


def running_counts() -> dict[int, int]:
    return dict(db.session.execute(
        select(ProcessInstance.definition_id, func.count())
        .where(ProcessInstance.status == InstanceStatus.RUNNING).group_by(ProcessInstance.definition_id)
    ).all())


@bp.get("")
@bp.arguments(DefinitionListArgs, location="query")
@bp.response(200, DefinitionOut(many=True))
@bp.errors(400, 401)
def list_definitions(args):
    """已部署的流程：默认每个流程的最新版本；all_versions=true 列出全部版本。均带在途实例数。"""
    user = load_user()
    latest = latest_versions(db.session)
    rows = db.session.scalars(
        select(ProcessDefinition).options(joinedload(ProcessDefinition.deployed_by))
        .order_by(ProcessDefinition.process_id, ProcessDefinition.version.desc())
    )
    running = running_counts()
    return [definition_dict(d, latest, running, user) for d in rows
            if args["all_versions"] or latest.get(d.process_id) == d.version]


@bp.post("")
@bp.arguments(DeployFiles, location="files")
@bp.response(201, DeployResponse)
@bp.alt_response(200, schema=DeployResponse, success=True,
                 description="含义与最新版本相同（布局、格式不算），未新建版本；layout_updated 说明是否更新了保存的图")
@bp.errors(400, 401, 403, 409, 413, 422)
def deploy(files):
    """部署一个 BPMN 流程（须有“流程管理员”角色）。先检查，不通过则什么也不保存（422，列出元素 id 与行号）。

    版本按含义区分：只改布局、缩进、属性顺序或命名空间前缀不产生新版本。warnings 列出不起作用的扩展。
    """
    user = load_user()
    if not any(g.role == Role.PROCESS_OWNER for g in user.grants):
        raise Forbidden("只有流程管理员可以部署流程")
    source = BpmnSource(files["bpmn"].filename or "upload.bpmn", files["bpmn"].read())
    forms = {}
    for upload in files["forms"]:
        name = (upload.filename or "").rsplit("/", 1)[-1]
        if not name.endswith(".json"):
            raise InvalidInput("表单文件名须为 <任务id>.json", {"forms": [f"{name!r} 不是 .json 文件"]})
        forms[name[: -len(".json")]] = upload.read()
    max_bytes = current_app.config["MAX_BPMN_BYTES"]
    process_id = read_model(source, max_bytes).process_id
    [result] = deploy_processes(deps(), [source], uploaded_forms={process_id: forms},
                                forms_dir=current_app.config["FORMS_DIR"], actor=user, max_bytes=max_bytes)
    body = {"created": result.created, "layout_updated": result.layout_updated,
            "warnings": [w.as_dict() for w in result.warnings],
            "definition": definition_dict(result.definition, latest_versions(db.session), running_counts(), user)}
    return body, 201 if result.created else 200
