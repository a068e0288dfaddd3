"""IVR flows as data: the schema, loading from YAML, and the checks made before serving a call.

A flow is a set of nodes by id (see ``ivr/flows/citizen.yaml``). :func:`load_flow` reads one and
:func:`validate` checks it against the prompt catalogue: a prompt that is not catalogued (or has
no sound file), a transition to a node that does not exist, a node the start never reaches, a
node from which no path ends the call, a key that is not a DTMF key, a variable the dialplan
does not read — each is a :class:`FlowError` at boot naming the flow, the node and the culprit,
never a silent call drop.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import yaml  # type: ignore[import-untyped, unused-ignore]

from ivr.prompts import PromptCatalogue
from pbx import dialplan_names as names
from workorders.enums import OrderState

DTMF_KEYS: Final = "0123456789*#"
"""The keys a menu may offer (A-D exist in DTMF but not on a phone's keypad)."""

NEXT_VARIABLES: Final = MappingProxyType(
    {names.AGI_IVR_SCRIPT: names.VAR_IVR_NEXT, names.AGI_OVERFLOW_SCRIPT: names.VAR_OVERFLOW_NEXT}
)
"""Per FastAGI script, the variable the dialplan reads after it (deploy/asterisk/extensions.conf)."""

PRIORITY_VARIABLES: Final = frozenset({names.VAR_QUEUE_PRIO})

# Prompts a node uses unless the flow names others.
INPUT_ERROR: Final = "minhu/input-error"
NO_INPUT: Final = "minhu/no-input"
ORDER_NUMBER_INVALID: Final = "minhu/order-number-invalid"
ORDER_UNKNOWN: Final = "minhu/order-unknown"
ORDER_STATE_IS: Final = "minhu/order-state-is"
ORDER_DUE_IS: Final = "minhu/order-due-is"
ORDER_LOOKUP_FAILED: Final = "minhu/order-lookup-failed"
ORDER_STATE_PREFIX: Final = "minhu/order-state-"
CALLBACK_RECORDED: Final = "minhu/callback-recorded"
CALLBACK_FAILED: Final = "minhu/callback-failed"
DATE_PROMPTS: Final = MappingProxyType(
    {
        "year": "minhu/date-year",
        "month": "minhu/date-month",
        "day": "minhu/date-day",
        "hour": "minhu/date-hour",
        "minute": "minhu/date-minute",
    }
)


class FlowError(Exception):
    """A flow that must not serve calls. ``problems`` lists every finding, each naming the flow,
    the node and what is wrong; ``error_id`` is stable."""

    error_id = "ivr-flow-invalid"

    def __init__(self, flow: str, problems: Iterable[str]) -> None:
        self.flow = flow
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"语音导航流程“{flow}”有误，无法启动：\n{lines}")


# --- the schema ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hours:
    """Branch on the service period (服务时间): see :mod:`ivr.hours`."""

    id: str
    open: str
    holiday: str
    after_hours: str
    holiday_closed: str

    def targets(self) -> tuple[str, ...]:
        return (self.open, self.holiday, self.after_hours, self.holiday_closed)

    def prompts(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class Play:
    """Play prompts. ``interruptible``: a key stops the prompts and goes on to ``next`` with
    the key, so that a caller who knows the menu need not wait (type-ahead)."""

    id: str
    prompt_names: tuple[str, ...]
    next: str
    interruptible: bool = True

    def targets(self) -> tuple[str, ...]:
        return (self.next,)

    def prompts(self) -> tuple[str, ...]:
        return self.prompt_names


@dataclass(frozen=True, slots=True)
class Menu:
    """Read one key. A key not offered replays the menu after ``invalid_prompt``; silence
    (``timeout_s`` after the prompts) replays it after ``no_input_prompt``. After ``attempts``
    tries the caller goes to ``on_no_input`` (the last try was silent) or ``on_invalid``."""

    id: str
    prompt_names: tuple[str, ...]
    options: Mapping[str, str]
    on_no_input: str
    on_invalid: str
    timeout_s: float = 5.0
    attempts: int = 3
    invalid_prompt: str = INPUT_ERROR
    no_input_prompt: str = NO_INPUT

    def targets(self) -> tuple[str, ...]:
        return (*self.options.values(), self.on_no_input, self.on_invalid)

    def prompts(self) -> tuple[str, ...]:
        return (*self.prompt_names, self.invalid_prompt, self.no_input_prompt)


@dataclass(frozen=True, slots=True)
class OrderStatusNode:
    """工单查询: key the order number (``digits`` digits, # ends), hear its state and deadline.
    Nothing else about the order is ever read out, whoever calls."""

    id: str
    prompt: str
    next: str
    on_unknown: str
    on_no_input: str
    on_failure: str
    digits: int = 14
    timeout_s: float = 6.0
    attempts: int = 3
    invalid_prompt: str = ORDER_NUMBER_INVALID
    unknown_prompt: str = ORDER_UNKNOWN
    no_input_prompt: str = NO_INPUT
    state_intro: str = ORDER_STATE_IS
    due_intro: str = ORDER_DUE_IS
    failed_prompt: str = ORDER_LOOKUP_FAILED
    state_prompt_prefix: str = ORDER_STATE_PREFIX
    date_prompts: Mapping[str, str] = field(default_factory=lambda: DATE_PROMPTS)

    def targets(self) -> tuple[str, ...]:
        return (self.next, self.on_unknown, self.on_no_input, self.on_failure)

    def state_prompt(self, state: OrderState) -> str:
        return f"{self.state_prompt_prefix}{state.value}"

    def prompts(self) -> tuple[str, ...]:
        return (
            self.prompt,
            self.invalid_prompt,
            self.unknown_prompt,
            self.no_input_prompt,
            self.state_intro,
            self.due_intro,
            self.failed_prompt,
            *(self.state_prompt(s) for s in OrderState),
            *self.date_prompts.values(),
        )


@dataclass(frozen=True, slots=True)
class CallbackOffer:
    """When the estimated wait is at least ``min_wait_s``, offer a call back (回电)."""

    prompt: str
    min_wait_s: float
    accept_key: str = "1"
    timeout_s: float = 5.0
    recorded_prompt: str = CALLBACK_RECORDED
    failed_prompt: str = CALLBACK_FAILED


@dataclass(frozen=True, slots=True)
class QueueNode:
    """To the inbound queue: the dialplan continues into ``Queue(citizens)``."""

    id: str
    topic: str
    prompt_names: tuple[str, ...] = ()
    priority: int = 0
    callback: CallbackOffer | None = None

    def targets(self) -> tuple[str, ...]:
        return ()

    def prompts(self) -> tuple[str, ...]:
        offer = self.callback
        extra = (offer.prompt, offer.recorded_prompt, offer.failed_prompt) if offer else ()
        return (*self.prompt_names, *extra)


@dataclass(frozen=True, slots=True)
class CallbackNode:
    """Record a call-back request, confirm it, hang up; ``on_failure`` when it cannot be
    recorded."""

    id: str
    topic: str
    on_failure: str
    recorded_prompt: str = CALLBACK_RECORDED
    failed_prompt: str = CALLBACK_FAILED

    def targets(self) -> tuple[str, ...]:
        return (self.on_failure,)

    def prompts(self) -> tuple[str, ...]:
        return (self.recorded_prompt, self.failed_prompt)


@dataclass(frozen=True, slots=True)
class HangupNode:
    """A clear message, then a clean hang-up."""

    id: str
    prompt_names: tuple[str, ...] = ()

    def targets(self) -> tuple[str, ...]:
        return ()

    def prompts(self) -> tuple[str, ...]:
        return self.prompt_names


Node = Hours | Play | Menu | OrderStatusNode | QueueNode | CallbackNode | HangupNode
TERMINAL_TYPES: Final = (QueueNode, CallbackNode, HangupNode)


@dataclass(frozen=True)
class Flow:
    name: str
    script: str
    next_variable: str
    start: str
    agent: str
    nodes: Mapping[str, Node]
    priority_variable: str | None = None
    source: str = ""
    extra_variables: Mapping[str, str] = field(default_factory=dict)

    def prompts(self) -> Iterator[tuple[str, str]]:
        """Every (node id, prompt name) the flow may play."""
        for node in self.nodes.values():
            for prompt in node.prompts():
                yield node.id, prompt


# --- loading ------------------------------------------------------------------------------


class _Reader:
    """Reads one node's mapping, collecting problems instead of stopping at the first."""

    def __init__(self, where: str, data: Mapping[str, Any], problems: list[str]) -> None:
        self.where, self.data, self.problems = where, data, problems
        self.used: set[str] = {"type"}

    def text(self, key: str, default: str | None = None) -> str:
        self.used.add(key)
        value = self.data.get(key, default)
        if value is None:
            self.problems.append(f"{self.where}：缺少“{key}”")
            return ""
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value:
            self.problems.append(f"{self.where}：“{key}”应为非空文字")
            return ""
        return value

    def texts(self, key: str, *, required: bool = True) -> tuple[str, ...]:
        self.used.add(key)
        value = self.data.get(key)
        if value is None:
            if required:
                self.problems.append(f"{self.where}：缺少“{key}”")
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.problems.append(f"{self.where}：“{key}”应为提示音名称的列表")
            return ()
        return tuple(value)

    def number(self, key: str, default: float, *, minimum: float = 0.0) -> float:
        self.used.add(key)
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            self.problems.append(f"{self.where}：“{key}”应为不小于{minimum:g}的数")
            return default
        return float(value)

    def integer(self, key: str, default: int, *, minimum: int = 0) -> int:
        self.used.add(key)
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.problems.append(f"{self.where}：“{key}”应为不小于{minimum}的整数")
            return default
        return value

    def flag(self, key: str, default: bool) -> bool:
        self.used.add(key)
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.problems.append(f"{self.where}：“{key}”应为 true 或 false")
            return default
        return value

    def mapping(self, key: str) -> Mapping[str, Any] | None:
        self.used.add(key)
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problems.append(f"{self.where}：“{key}”应为键值表")
            return None
        return {str(k): v for k, v in value.items()}

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            self.problems.append(f"{self.where}：未知的设置 {', '.join(unknown)}")


def _node(node_id: str, data: Mapping[str, Any], agent: str, problems: list[str]) -> Node | None:
    where = f"节点“{node_id}”"
    kind = data.get("type")
    r = _Reader(where, data, problems)
    node: Node
    if kind == "hours":
        node = Hours(
            node_id,
            open=r.text("open"),
            holiday=r.text("holiday", data.get("open")),
            after_hours=r.text("after_hours"),
            holiday_closed=r.text("holiday_closed", data.get("after_hours")),
        )
    elif kind == "play":
        node = Play(node_id, r.texts("prompts"), r.text("next"), r.flag("interruptible", True))
    elif kind == "menu":
        raw = r.mapping("options") or {}
        options: dict[str, str] = {}
        for key, target in raw.items():
            if len(key) != 1 or key not in DTMF_KEYS:
                problems.append(f"{where}：按键“{key}”不是电话键盘上的键（0-9、*、#）")
            if not isinstance(target, str) or not target:
                problems.append(f"{where}：按键“{key}”应指向一个节点")
                continue
            options[key] = target
        if not options:
            problems.append(f"{where}：菜单没有任何选项")
        node = Menu(
            node_id,
            r.texts("prompts"),
            MappingProxyType(options),
            on_no_input=r.text("on_no_input", agent),
            on_invalid=r.text("on_invalid", agent),
            timeout_s=r.number("timeout_s", 5.0, minimum=0.5),
            attempts=r.integer("attempts", 3, minimum=1),
            invalid_prompt=r.text("invalid_prompt", INPUT_ERROR),
            no_input_prompt=r.text("no_input_prompt", NO_INPUT),
        )
    elif kind == "order_status":
        node = OrderStatusNode(
            node_id,
            prompt=r.text("prompt"),
            next=r.text("next"),
            on_unknown=r.text("on_unknown", agent),
            on_no_input=r.text("on_no_input", agent),
            on_failure=r.text("on_failure", agent),
            digits=r.integer("digits", 14, minimum=1),
            timeout_s=r.number("timeout_s", 6.0, minimum=0.5),
            attempts=r.integer("attempts", 3, minimum=1),
            invalid_prompt=r.text("invalid_prompt", ORDER_NUMBER_INVALID),
            unknown_prompt=r.text("unknown_prompt", ORDER_UNKNOWN),
            no_input_prompt=r.text("no_input_prompt", NO_INPUT),
        )
    elif kind == "queue":
        offer_data = r.mapping("callback")
        offer = None
        if offer_data is not None:
            o = _Reader(f"{where}的 callback", offer_data, problems)
            offer = CallbackOffer(
                prompt=o.text("prompt"),
                min_wait_s=o.number("min_wait_s", 120.0),
                accept_key=o.text("accept_key", "1"),
                timeout_s=o.number("timeout_s", 5.0, minimum=0.5),
                recorded_prompt=o.text("recorded_prompt", CALLBACK_RECORDED),
                failed_prompt=o.text("failed_prompt", CALLBACK_FAILED),
            )
            o.finish()
            if offer.accept_key not in DTMF_KEYS or len(offer.accept_key) != 1:
                problems.append(f"{where}：回电按键“{offer.accept_key}”不是电话键盘上的键")
        node = QueueNode(
            node_id,
            topic=r.text("topic"),
            prompt_names=r.texts("prompts", required=False),
            priority=r.integer("priority", 0),
            callback=offer,
        )
    elif kind == "callback":
        node = CallbackNode(
            node_id,
            topic=r.text("topic"),
            on_failure=r.text("on_failure", agent),
            recorded_prompt=r.text("recorded_prompt", CALLBACK_RECORDED),
            failed_prompt=r.text("failed_prompt", CALLBACK_FAILED),
        )
    elif kind == "hangup":
        node = HangupNode(node_id, r.texts("prompts", required=False))
    else:
        problems.append(
            f"{where}：未知的节点类型“{kind}”"
            "（应为 hours、play、menu、order_status、queue、callback、hangup 之一）"
        )
        return None
    r.finish()
    return node


def parse_flow(data: Any, name: str, source: str = "") -> Flow:
    """A flow from its parsed YAML; structural problems raise :class:`FlowError`."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise FlowError(name, ["流程文件应为键值表（script、start、agent、nodes ...）"])
    top = _Reader("流程", data, problems)
    script = top.text("script")
    next_variable = top.text("next_variable", NEXT_VARIABLES.get(script))
    priority_variable = data.get("priority_variable")
    top.used.add("priority_variable")
    start = top.text("start")
    agent = top.text("agent")
    raw_nodes = top.mapping("nodes") or {}
    top.finish()
    if script and script not in names.AGI_SCRIPTS:
        problems.append(f"脚本“{script}”不是拨号方案请求的 FastAGI 脚本（{', '.join(names.AGI_SCRIPTS)}）")
    wanted = NEXT_VARIABLES.get(script)
    if wanted is not None and next_variable and next_variable != wanted:
        problems.append(f"next_variable“{next_variable}”：拨号方案在脚本“{script}”之后读取的是“{wanted}”")
    if priority_variable is not None and priority_variable not in PRIORITY_VARIABLES:
        problems.append(f"priority_variable“{priority_variable}”不是拨号方案读取的变量")
    nodes: dict[str, Node] = {}
    for node_id, node_data in raw_nodes.items():
        if not isinstance(node_data, dict):
            problems.append(f"节点“{node_id}”应为键值表")
            continue
        node = _node(node_id, node_data, agent, problems)
        if node is not None:
            nodes[node_id] = node
    if problems:
        raise FlowError(name, problems)
    return Flow(
        name=name,
        script=script,
        next_variable=next_variable,
        start=start,
        agent=agent,
        nodes=MappingProxyType(nodes),
        priority_variable=priority_variable if isinstance(priority_variable, str) else None,
        source=source,
    )


def load_flow(path: Path) -> Flow:
    """Read a flow file (YAML); the flow is named after the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FlowError(path.stem, [f"无法读取 {path}：{exc}"]) from exc
    return parse_flow(data, path.stem, str(path))


def load_flows(directory: Path) -> dict[str, Flow]:
    """Every ``*.yaml`` flow in ``directory`` by its FastAGI script."""
    flows: dict[str, Flow] = {}
    for path in sorted(directory.glob("*.yaml")):
        flow = load_flow(path)
        if flow.script in flows:
            raise FlowError(flow.name, [f"脚本“{flow.script}”已由流程“{flows[flow.script].name}”定义"])
        flows[flow.script] = flow
    return flows


# --- validation ---------------------------------------------------------------------------


def _reachable(flow: Flow, start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        node_id = todo.pop()
        if node_id in seen or node_id not in flow.nodes:
            continue
        seen.add(node_id)
        todo.extend(flow.nodes[node_id].targets())
    return seen


def validate(flow: Flow, catalogue: PromptCatalogue) -> Flow:
    """Check ``flow`` against itself and the prompt catalogue; raise :class:`FlowError` naming
    every problem, or return the flow."""
    problems: list[str] = []
    for label, node_id in (("start", flow.start), ("agent", flow.agent)):
        if node_id not in flow.nodes:
            problems.append(f"{label}“{node_id}”不是流程中的节点")
    agent = flow.nodes.get(flow.agent)
    if agent is not None and not isinstance(agent, QueueNode):
        problems.append(f"agent“{flow.agent}”应为 queue 节点（所有异常最终转人工）")
    for node in flow.nodes.values():
        for target in node.targets():
            if target not in flow.nodes:
                problems.append(f"节点“{node.id}”指向不存在的节点“{target}”")
    reachable = _reachable(flow, flow.start) | _reachable(flow, flow.agent)
    for node_id in flow.nodes:
        if node_id not in reachable:
            problems.append(f"节点“{node_id}”从起点“{flow.start}”不可达")
    # every node must be able to end the call (a person, a message and hang-up): no trap loops
    ending = {n.id for n in flow.nodes.values() if isinstance(n, TERMINAL_TYPES)}
    changed = True
    while changed:
        changed = False
        for node in flow.nodes.values():
            if node.id not in ending and any(t in ending for t in node.targets()):
                ending.add(node.id)
                changed = True
    for node_id in flow.nodes:
        if node_id not in ending:
            problems.append(f"节点“{node_id}”之后没有任何路径能结束通话（转人工、告知后挂机）")
    missing: dict[str, list[str]] = {}
    for node_id, prompt in flow.prompts():
        if catalogue.problem(prompt) is not None:
            missing.setdefault(prompt, []).append(node_id)
    for prompt, node_ids in sorted(missing.items()):
        used_by = "、".join(dict.fromkeys(node_ids))
        problems.append(f"提示音“{prompt}”（节点“{used_by}”使用）{catalogue.problem(prompt)}")
    if problems:
        raise FlowError(flow.name, problems)
    return flow
