"""Work orders (工单): intake, the whole lifecycle, lists and the audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import AwareDatetime

from minhu.db.mapping import unit_key
from minhu.db.repositories.orders import OrderFilter
from workorders.enums import Category, Channel, OrderState
from workorders.model import Citizen

from ..deps import ActorDep, OrdersDep
from ..errors import responses
from ..presenters import order_out, summary_page_json
from ..schemas import (
    AnswerIn,
    AssignIn,
    AuditOut,
    CategoryIn,
    ContactIn,
    CReportIn,
    DeadlineIn,
    ExtensionDecisionIn,
    ExtensionRequestIn,
    NotAcceptedCreate,
    NoteIn,
    OrderCreate,
    OrderOut,
    OrderSummaryPageOut,
    ReplyIn,
    ReturnIn,
    ReviewReturnIn,
    RevisitAttemptIn,
    VerdictIn,
)

router = APIRouter(prefix="/orders", tags=["orders 工单"])

Number = Annotated[str, Path(pattern=r"^\d{8}-\d{6}$", description="工单编号，如 20261122-000123")]
ACT = responses(401, 403, 404, 409, 422)


@router.post(
    "", response_model=OrderOut, status_code=status.HTTP_201_CREATED, responses=responses(401, 403, 413, 422)
)
async def register(body: OrderCreate, actor: ActorDep, orders: OrdersDep) -> OrderOut:
    """受理登记：任一渠道的诉求登记为工单 (register a request from any channel)."""
    view = await orders.register(
        actor,
        channel=body.channel,
        kind=body.kind,
        category=body.category,
        content=body.content,
        citizen=Citizen(name=body.citizen.name, phone=body.citizen.phone),
        received_at=body.received_at,
        address=body.address,
    )
    return order_out(view)


@router.post(
    "/not-accepted",
    response_model=OrderOut,
    status_code=status.HTTP_201_CREATED,
    responses=responses(401, 403, 413, 422),
)
async def register_not_accepted(body: NotAcceptedCreate, actor: ActorDep, orders: OrdersDep) -> OrderOut:
    """不予受理登记（第四条五种情形，或转110） (record a request that is not accepted, Art. 4)."""
    view = await orders.not_accept(
        actor,
        channel=body.channel,
        kind=body.kind,
        content=body.content,
        citizen=Citizen(name=body.citizen.name, phone=body.citizen.phone),
        received_at=body.received_at,
        reason=body.reason,
        note=body.note,
    )
    return order_out(view)


@router.get("", response_model=OrderSummaryPageOut, responses=responses(401, 403, 422))
async def list_orders(
    actor: ActorDep,
    orders: OrdersDep,
    state: Annotated[list[OrderState] | None, Query(description="状态，可多选")] = None,
    category: Annotated[list[Category] | None, Query(description="分类，可多选")] = None,
    channel: Channel | None = None,
    unit_id: Annotated[int | None, Query(description="牵头或配合单位")] = None,
    overdue: Annotated[bool, Query(description="只看超期未办结的工单")] = False,
    registered_from: Annotated[AwareDatetime | None, Query(description="登记时间起（含）")] = None,
    registered_to: Annotated[AwareDatetime | None, Query(description="登记时间止（不含）")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="诉求内容全文检索")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    with_total: Annotated[bool, Query(description="同时返回总数（大表上较慢）")] = False,
) -> Response:
    """工单列表，分页与筛选；承办人只能看到本单位的工单，诉求人电话脱敏 (unit handlers: own unit only).

    Each item is the order's summary; the whole order is `GET /orders/{number}`."""
    f = OrderFilter(
        states=state or (),
        categories=category or (),
        channel=None if channel is None else channel.value,
        unit_id=unit_id,
        overdue_at=orders.now() if overdue else None,
        registered_from=registered_from,
        registered_to=registered_to,
        text=q,
    )
    page = await orders.list_summaries(actor, f, offset=offset, limit=limit, with_total=with_total)
    return Response(summary_page_json(page), media_type="application/json")


@router.get("/{number}", response_model=OrderOut, responses=responses(401, 403, 404, 422))
async def get_order(number: Number, actor: ActorDep, orders: OrdersDep) -> OrderOut:
    """单个工单 (one order)."""
    return order_out(await orders.get(number, actor))


@router.get("/{number}/audit", response_model=list[AuditOut], responses=responses(401, 403, 404, 422))
async def audit_trail(number: Number, actor: ActorDep, orders: OrdersDep) -> list[AuditOut]:
    """工单的操作记录（只增不改） (the order's append-only audit trail)."""
    return [AuditOut.model_validate(r) for r in await orders.audit_trail(number, actor)]


@router.post("/{number}/answer-on-call", response_model=OrderOut, responses=ACT)
async def answer_on_call(number: Number, body: AnswerIn, actor: ActorDep, orders: OrdersDep) -> OrderOut:
    """即办：受理人当场答复A类诉求（第八条） (answer an A-class request on the call)."""
    return order_out(await orders.answer_on_call(number, actor, answer=body.answer))


@router.post("/{number}/category", response_model=OrderOut, responses=ACT)
async def recategorize(number: Number, body: CategoryIn, actor: ActorDep, orders: OrdersDep) -> OrderOut:
    """交办前调整分类 (correct the category before assignment)."""
    return order_out(await orders.recategorize(number, actor, category=body.category))


@router.post("/{number}/assign", response_model=OrderOut, responses=ACT)
async def assign(number: Number, body: AssignIn, actor: ActorDep, orders: OrdersDep) -> OrderOut:
    """交办：一个单位，或牵头单位加配合单位（第十条） (assign to a lead unit and cooperating units)."""
    view = await orders.assign(
        number,
        actor,
        lead_unit_id=unit_key(body.lead_unit_id),
        cooperating_unit_ids=[unit_key(u) for u in body.cooperating_unit_ids],
    )
    return order_out(view)


@router.post("/{number}/rehandle", response_model=OrderOut, responses=ACT)
async def rehandle(number: Number, body: AssignIn, actor: ActorDep, orders: OrdersDep) -> OrderOut:
    """重办：诉求人不满意的工单重新交办 (assign a dissatisfied citizen's order again)."""
    view = await orders.rehandle(
        number,
        actor,
        lead_unit_id=unit_key(body.lead_unit_id),
        cooperating_unit_ids=[unit_key(u) for u in body.cooperating_unit_ids],
    )
    return order_out(view)


@router.post("/{number}/check-in", response_model=OrderOut, responses=ACT)
async def check_in(number: Number, actor: ActorDep, orders: OrdersDep) -> OrderOut:
    """查收 (the unit checks the order in; starts the 24-hour return window)."""
    return order_out(await orders.check_in(number, actor))


@router.post("/{number}/start", response_model=OrderOut, responses=ACT)
async def start_handling(number: Number, actor: ActorDep, orders: OrdersDep) -> OrderOut:
    """开始办理 (the lead unit starts handling)."""
    return order_out(await orders.start_handling(number, actor))


@router.post("/{number}/return", response_model=OrderOut, responses=ACT)
async def return_order(number: Number, body: ReturnIn, actor: ActorDep, orders: OrdersDep) -> OrderOut:
    """退回：查收后24小时内，经分管领导审核，说明理由和依据（第十一条） (return, Art. 11)."""
    view = await orders.return_order(
        number, actor, reason=body.reason, basis=body.basis, approved_by_leader=body.approved_by_leader
    )
    return order_out(view)


@router.post("/{number}/return-review", response_model=OrderOut, responses=ACT)
async def review_return(number: Number, body: ReviewReturnIn, actor: ActorDep, orders: OrdersDep) -> OrderOut:
    """中心审核退回：同意则待重新交办，不同意则退回原单位 (the centre reviews a return)."""
    return order_out(await orders.review_return(number, actor, accept=body.accept, note=body.note))


@router.post("/{number}/extension", response_model=OrderOut, responses=ACT)
async def request_extension(
    number: Number, body: ExtensionRequestIn, actor: ActorDep, orders: OrdersDep
) -> OrderOut:
    """延期申请：B、C类，办理时限前，仅限一次（第九条） (request an extension, Art. 9)."""
    return order_out(
        await orders.request_extension(number, actor, new_due_at=body.new_due_at, reason=body.reason)
    )


@router.post("/{number}/extension-decision", response_model=OrderOut, responses=ACT)
async def decide_extension(
    number: Number, body: ExtensionDecisionIn, actor: ActorDep, orders: OrdersDep
) -> OrderOut:
    """中心审批延期申请 (the centre approves or refuses the pending extension)."""
    return order_out(await orders.decide_extension(number, actor, approve=body.approve, note=body.note))


@router.post("/{number}/contacts", response_model=OrderOut, responses=ACT)
async def record_contact(number: Number, body: ContactIn, actor: ActorDep, orders: OrdersDep) -> OrderOut:
    """记录与诉求人的联系（第十三条） (record a contact with the citizen, Art. 13)."""
    view = await orders.record_contact(
        number, actor, purpose=body.purpose, method=body.method, note=body.note
    )
    return order_out(view)


@router.post("/{number}/c-report", response_model=OrderOut, responses=ACT)
async def submit_c_report(number: Number, body: CReportIn, actor: ActorDep, orders: OrdersDep) -> OrderOut:
    """C类承办情况报告：分管领导、责任人、联系方式、进展和计划（第八条） (C-class report)."""
    return order_out(await orders.submit_c_report(number, actor, **body.model_dump()))


@router.post("/{number}/deadline", response_model=OrderOut, responses=ACT)
async def set_deadline(number: Number, body: DeadlineIn, actor: ActorDep, orders: OrdersDep) -> OrderOut:
    """中心为C类工单确定办理时限 (the centre sets a C order's deadline after the report)."""
    return order_out(await orders.set_deadline(number, actor, due_at=body.due_at))


@router.post("/{number}/reply", response_model=OrderOut, responses=ACT)
async def reply(number: Number, body: ReplyIn, actor: ActorDep, orders: OrdersDep) -> OrderOut:
    """办结回复：须先联系诉求人，注明办理人及电话 (reply; needs the citizen contacted first)."""
    view = await orders.reply(
        number,
        actor,
        content=body.content,
        handler_name=body.handler_name,
        handler_phone=body.handler_phone,
        document_ref=body.document_ref,
    )
    return order_out(view)


@router.post("/{number}/revisit-attempts", response_model=OrderOut, responses=ACT)
async def record_revisit_attempt(
    number: Number, body: RevisitAttemptIn, actor: ActorDep, orders: OrdersDep
) -> OrderOut:
    """回访：记录一次回访呼叫及满意度；两次间隔3小时以上均无人接听视为满意（第十七条） (revisit call)."""
    view = await orders.record_revisit_attempt(
        number,
        actor,
        started_at=body.started_at,
        outcome=body.outcome,
        satisfaction=body.satisfaction,
        note=body.note,
    )
    return order_out(view)


@router.post("/{number}/third-party-referral", response_model=OrderOut, responses=ACT)
async def refer_third_party(number: Number, body: NoteIn, actor: ActorDep, orders: OrdersDep) -> OrderOut:
    """协调不成，引入第三方评估（第十八条） (refer to a third-party assessment, Art. 18)."""
    return order_out(await orders.refer_third_party(number, actor, note=body.note))


@router.post("/{number}/third-party-assessment", response_model=OrderOut, responses=ACT)
async def third_party_assessment(
    number: Number, body: VerdictIn, actor: ActorDep, orders: OrdersDep
) -> OrderOut:
    """记录第三方评估结论并办结 (record the third party's verdict; closes the order)."""
    return order_out(await orders.record_third_party_assessment(number, actor, verdict=body.verdict))


@router.post("/{number}/close", response_model=OrderOut, responses=ACT)
async def close_manually(number: Number, body: NoteIn, actor: ActorDep, orders: OrdersDep) -> OrderOut:
    """人工办结（回访无果时由班长办结） (a supervisor closes a replied order manually)."""
    return order_out(await orders.close_manually(number, actor, note=body.note))
