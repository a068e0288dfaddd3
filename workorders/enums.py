"""The hotline's vocabularies (RULES.md: intake, categories, lifecycle, revisit)."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """受理渠道 — where a request came in (Art. 3; Jinan adds SMS)."""

    PHONE = "phone"  # 12345热线及其他留号并行的政务服务热线
    WECHAT = "wechat"  # 12345微信公众号
    MAYOR_MAILBOX = "mayor_mailbox"  # 市长信箱
    LETTER = "letter"  # 群众来信
    LEADERS_MESSAGE_BOARD = "leaders_message_board"  # 人民网地方领导留言板
    PROVINCIAL_PLATFORM = "provincial_platform"  # 河南政务服务一体化工作平台
    HIGHER_LEVEL_TRANSFER = "higher_level_transfer"  # 上级平台转派及上级交办
    WEBSITE = "website"  # 市政府官网
    WEIBO = "weibo"  # 微博
    APP = "app"  # 手机客户端
    SMS = "sms"  # 短信 (Jinan)

    @property
    def label_zh(self) -> str:
        return _CHANNEL_ZH[self]


_CHANNEL_ZH = {
    Channel.PHONE: "12345热线",
    Channel.WECHAT: "12345微信公众号",
    Channel.MAYOR_MAILBOX: "市长信箱",
    Channel.LETTER: "群众来信",
    Channel.LEADERS_MESSAGE_BOARD: "领导留言板",
    Channel.PROVINCIAL_PLATFORM: "省政务服务平台",
    Channel.HIGHER_LEVEL_TRANSFER: "上级转派交办",
    Channel.WEBSITE: "政府网站",
    Channel.WEIBO: "微博",
    Channel.APP: "手机客户端",
    Channel.SMS: "短信",
}


class RequestKind(StrEnum):
    """诉求类型."""

    CONSULTATION = "consultation"  # 咨询
    HELP = "help"  # 求助
    COMPLAINT = "complaint"  # 投诉
    SUGGESTION = "suggestion"  # 意见建议


class Category(StrEnum):
    """诉求分类 (Art. 8)."""

    A = "A"  # 即办事项
    B = "B"  # 一般事项
    C = "C"  # 重要事项
    D = "D"  # 重要紧急事项


class NotAcceptedReason(StrEnum):
    """不予受理 reasons (Art. 4), plus the emergency redirect to 110 (seed 003)."""

    LITIGATION = "litigation"  # (一) 诉讼、仲裁、行政复议
    OTHER_AUTHORITY = "other_authority"  # (二) 人大、法院、检察院、部队
    PETITION = "petition"  # (三) 已受理或终结的信访事项
    INTERNAL_ADMINISTRATION = "internal_administration"  # (四) 内部行政管理、公文交流
    TOO_VAGUE = "too_vague"  # (五) 反映内容不具体
    EMERGENCY_110 = "emergency_110"  # 紧急警情，转110

    @property
    def article(self) -> str:
        return "急事转110" if self is NotAcceptedReason.EMERGENCY_110 else "第四条"


class OrderState(StrEnum):
    """工单状态 — the lifecycle's states."""

    REGISTERED = "registered"  # 已登记（待交办）
    NOT_ACCEPTED = "not_accepted"  # 不予受理（已记录）
    ANSWERED_ON_CALL = "answered_on_call"  # 即办：受理人当场答复
    ASSIGNED = "assigned"  # 已交办
    CHECKED_IN = "checked_in"  # 已查收
    RETURNED = "returned"  # 已退回（待中心审核）
    IN_PROGRESS = "in_progress"  # 办理中
    REPLIED = "replied"  # 已回复（待回访）
    REVISITING = "revisiting"  # 回访中
    REHANDLING = "rehandling"  # 不满意，待重办交办
    THIRD_PARTY = "third_party"  # 第三方评估中 (Art. 18)
    CLOSED = "closed"  # 已办结

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def unit_is_handling(self) -> bool:
        """The unit holds the order and its handling deadline runs."""
        return self in HANDLING_STATES


TERMINAL_STATES = frozenset({OrderState.NOT_ACCEPTED, OrderState.ANSWERED_ON_CALL, OrderState.CLOSED})
HANDLING_STATES = frozenset({OrderState.ASSIGNED, OrderState.CHECKED_IN, OrderState.IN_PROGRESS})


class ExtensionStatus(StrEnum):
    """延期申请 status (Art. 9)."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class ContactPurpose(StrEnum):
    """Why a unit contacted the citizen (Art. 13; Hedong's two effective contacts)."""

    FIRST_CONTACT = "first_contact"  # 接单后首次联系
    RESULT_FEEDBACK = "result_feedback"  # 办理结果反馈
    EXTENSION_NOTICE = "extension_notice"  # 延期告知 (Art. 9)
    OTHER = "other"


class Satisfaction(StrEnum):
    """回访结果. ``DEEMED_SATISFIED`` (视为满意, Art. 17) is never a citizen's answer."""

    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意
    DEEMED_SATISFIED = "deemed_satisfied"  # 视为满意


class CallOutcome(StrEnum):
    """How one revisit call ended, told apart from the PBX's own results."""

    ANSWERED = "answered"  # 接通并评价 — always with the citizen's satisfaction
    ANSWERED_NO_RATING = "answered_no_rating"  # 接通未评价 — never counts; retried like a busy line
    RANG_OUT = "rang_out"  # 呼叫至自动挂断无应答 — the only outcome that counts for Art. 17
    BUSY = "busy"
    REJECTED = "rejected"
    CONGESTION = "congestion"
    UNREACHABLE = "unreachable"
    FAILED = "failed"


class Role(StrEnum):
    """Who acts on an order."""

    INTAKE_AGENT = "intake_agent"  # 受理人（话务员）
    SUPERVISOR = "supervisor"  # 指挥中心（班长、审核）
    UNIT_HANDLER = "unit_handler"  # 网络单位承办人
    ADMIN = "admin"  # 系统管理员
    SYSTEM = "system"  # the dialer or another automatic process


class AssessmentGroup(StrEnum):
    """考核分组 (seed 000)."""

    DISTRICT = "district"  # 市内五区
    STREET = "street"  # 市内五区所辖街道（乡、镇）
    COUNTY = "county"  # 其他县（市、区）
    DEPARTMENT = "department"  # 市直和驻平单位


class ClosureReason(StrEnum):
    """Why an order ended as closed."""

    SATISFIED = "satisfied"
    DEEMED_SATISFIED = "deemed_satisfied"
    THIRD_PARTY_ASSESSED = "third_party_assessed"
    DISSATISFIED_FINAL = "dissatisfied_final"  # profile does not re-handle
    MANUAL = "manual"
