"""Everything checked before the server accepts a call: flows, prompts, service hours."""

from __future__ import annotations

from collections.abc import Mapping

from ivr.engine import FlowRunner, IvrServices
from ivr.flows import Flow, FlowError, load_flows, validate
from ivr.prompts import load_catalogue
from ivr.server import Handler, flow_handler
from ivr.settings import IvrSettings


def load_checked_flows(settings: IvrSettings) -> dict[str, Flow]:
    """The flows of ``settings.flows_dir`` by script, validated against the prompt catalogue
    (and the prompt directory when set); raises FlowError / PromptCatalogueError."""
    catalogue = load_catalogue(settings.prompt_catalogue)
    if settings.prompt_dir is not None:
        catalogue = catalogue.with_directory(settings.prompt_dir)
    return {script: validate(flow, catalogue) for script, flow in load_flows(settings.flows_dir).items()}


def routes(
    flows: Mapping[str, Flow], services: IvrServices, extra: Mapping[str, Handler] | None = None
) -> dict[str, Handler]:
    """A handler per script: the flows', plus ``extra`` ones (the revisit survey, see
    :func:`ivr.survey.survey_routes`); a script served twice is a boot error."""
    out = {script: flow_handler(FlowRunner(flow, services)) for script, flow in flows.items()}
    for script, handler in (extra or {}).items():
        if script in out:
            raise FlowError(script, [f"脚本“{script}”已由流程提供，不能再挂载其他处理程序 / served twice"])
        out[script] = handler
    return out
