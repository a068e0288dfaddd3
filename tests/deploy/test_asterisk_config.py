"""deploy/asterisk/ read by a real parser of Asterisk's configuration syntax.

The parser is asterisklint (the ``asterisklint-jjs`` release, which knows the applications and
options of Asterisk 20 and 22). Its dialplan checker reads extensions.conf as Asterisk's
pbx_config does and reports unknown applications, bad application options, jumps to missing
contexts or labels, bad patterns and whitespace that Asterisk would misread. Its generic config
reader (with asterisklint's own file reader: encoding, comments, ``#include``) reads the other
files. Two gaps of that generic reader are filled here, in :class:`_ConfigParser`:

* a section header with templates is matched only when the template list is one character long
  (``[x](!)``), so ``[1001](minhu-agent-sip)`` would be a parse error: the header regex is
  widened to any template list, ``(+)`` included;
* ``#include`` takes no wildcard, while Asterisk expands ``#include pjsip.d/*.conf`` with
  glob(3): the include is expanded the same way, sorted.

asterisklint does not implement templates (``I_NOTIMPL_TEMPLATES``, the only message ignored),
so the test resolves them itself, as res_pjsip's sorcery does, before checking the objects.

Then every name that pbx/dialplan_names.py gives Minhu's code is looked up in the parsed config.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from asterisklint import FileConfigParser, FileDialplanParser
from asterisklint.application import AppLoader
from asterisklint.config import ConfigParser
from asterisklint.defines import MessageDefManager
from asterisklint.dialplan import Dialplan, DialplanContext
from asterisklint.varfun import FuncLoader
from asterisklint.version import AsteriskVersion

from pbx import dialplan_names as names

ASTERISK_DIR = Path(__file__).resolve().parents[2] / "deploy" / "asterisk"
AMI_TEST_SECRET = "test-secret-not-for-production"
_SECRET_FILES = ("manager_secret.conf", "pjsip_secrets.conf")

# Asterisk version the in-process checks use (asterisklint keeps it process-wide); Asterisk 20
# is checked in a subprocess.
AsteriskVersion("v22")

IGNORED_MESSAGES = frozenset({"I_NOTIMPL_TEMPLATES"})


# --- the parser ---------------------------------------------------------------------------------


class _ConfigParser(FileConfigParser):
    """asterisklint's generic config reader, with template headers and wildcard includes."""

    regexes = (
        (
            re.compile(r"^(\s*)\[([^]]*)\]\s*\(([^)]*)\)$"),
            ConfigParser.regexes[0][1],
        ),
        *ConfigParser.regexes[1:],
    )

    def include(self, filename: str) -> None:
        if glob.has_magic(filename):
            matches = sorted(glob.glob(filename))
            if not matches:
                raise FileNotFoundError(filename)
            for match in reversed(matches):  # the reader is a stack: push the last first
                super().include(match)
            return
        super().include(filename)


def _messages() -> list[str]:
    return [
        f"{message.where} {name}: {message.message.format(**message.fmtkwargs)}"
        for name, raised in sorted(MessageDefManager.raised.items())
        if name not in IGNORED_MESSAGES
        for message in raised
    ]


def _start_parse() -> None:
    MessageDefManager.reset()
    MessageDefManager.muted = True


@dataclass
class Section:
    name: str
    templates: list[str]
    options: list[tuple[str, str]] = field(default_factory=list)

    @property
    def is_template(self) -> bool:
        return "!" in self.templates

    def get(self, key: str, default: str | None = None) -> str | None:
        values = self.all(key)
        return values[-1] if values else default

    def all(self, key: str) -> list[str]:
        return [value for option, value in self.options if option == key]


def parse_config(path: Path) -> tuple[list[Section], list[str]]:
    """Sections of one config file (includes followed) and the parser's messages."""
    _start_parse()
    parser = _ConfigParser()
    parser.include(str(path))
    sections = [
        Section(
            name=context.name,
            templates=[t.strip() for t in context._templates.split(",") if t.strip()],
            options=[(varset.variable, varset.value) for varset in context],
        )
        for context in parser
    ]
    return sections, _messages()


def parse_dialplan(path: Path) -> tuple[Dialplan, list[str]]:
    _start_parse()
    parser = FileDialplanParser()
    parser.include(str(path))
    dialplan = next(iter(parser))
    dialplan.walk_jump_destinations()
    return dialplan, _messages()


def resolve(sections: list[Section]) -> list[Section]:
    """Objects as Asterisk builds them: templates applied, ``(+)`` appended, templates dropped."""
    templates: dict[str, Section] = {}
    objects: list[Section] = []
    for section in sections:
        if section.templates == ["+"]:
            matching = [obj for obj in objects if obj.name == section.name]
            assert matching, f"[{section.name}](+) appends to a section that does not exist"
            matching[-1].options.extend(section.options)
            continue
        options: list[tuple[str, str]] = []
        for template in section.templates:
            if template == "!":
                continue
            assert template in templates, f"[{section.name}] uses unknown template {template!r}"
            options.extend(templates[template].options)
        resolved = Section(section.name, section.templates, options + section.options)
        if section.is_template:
            templates[section.name] = resolved
        else:
            objects.append(resolved)
    return objects


def by_type(objects: list[Section], type_: str) -> dict[str, Section]:
    return {obj.name: obj for obj in objects if obj.get("type") == type_}


def classes(value: str | None) -> set[str]:
    return {part.strip() for part in (value or "").split(",") if part.strip()}


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def etc_asterisk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """deploy/asterisk as an operator installs it: copied, secrets generated by its script."""
    target = tmp_path_factory.mktemp("asterisk") / "etc-asterisk"
    shutil.copytree(ASTERISK_DIR, target, ignore=shutil.ignore_patterns(*_SECRET_FILES))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MINHU_AMI_SECRET": AMI_TEST_SECRET}
    subprocess.run(  # noqa: S603 - our own script, fixed arguments
        ["/bin/sh", str(target / "generate-secrets.sh"), str(target)],
        check=True,
        env=env,
        capture_output=True,
        timeout=10,
    )
    return target


@pytest.fixture(scope="module")
def dialplan(etc_asterisk: Path) -> Dialplan:
    parsed, messages = parse_dialplan(etc_asterisk / "extensions.conf")
    assert messages == []
    return parsed


@pytest.fixture(scope="module")
def pjsip(etc_asterisk: Path) -> list[Section]:
    sections, messages = parse_config(etc_asterisk / "pjsip.conf")
    assert messages == []
    return resolve(sections)


def _sections(etc_asterisk: Path, filename: str) -> dict[str, Section]:
    sections, messages = parse_config(etc_asterisk / filename)
    assert messages == []
    return {section.name: section for section in sections}


def _config_files() -> Iterator[Path]:
    """The files in git (an operator's secrets generated in the work tree are not)."""
    for path in sorted(ASTERISK_DIR.glob("*.conf")) + sorted(ASTERISK_DIR.glob("pjsip.d/*.conf")):
        if path.name not in _SECRET_FILES:
            yield path


# --- every file parses ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(_config_files()), ids=lambda p: str(p.relative_to(ASTERISK_DIR)))
def test_given_a_config_file_when_parsed_then_asterisklint_reports_nothing(
    path: Path, etc_asterisk: Path
) -> None:
    installed = etc_asterisk / path.relative_to(ASTERISK_DIR)
    if path.name == "extensions.conf":
        _, messages = parse_dialplan(installed)
    else:
        _, messages = parse_config(installed)
    assert messages == []


@pytest.mark.parametrize("version", ["20", "22"])
def test_given_asterisk_version_when_dialplan_checked_then_clean(version: str) -> None:
    """asterisklint's own ``dialplan-check`` command, as an operator runs it, for 20 and 22."""
    result = subprocess.run(  # noqa: S603 - the venv's interpreter, fixed arguments
        [
            sys.executable,
            "-c",
            "import os, sys; from asterisklint.main import main; sys.exit(main(sys.argv[1:], os.environ))",
            "dialplan-check",
            "--asterisk-version",
            version,
            str(ASTERISK_DIR / "extensions.conf"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "ALINT_IGNORE": ""},
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_given_planted_mistakes_when_dialplan_checked_then_the_parser_reports_them(
    tmp_path: Path,
) -> None:
    """The checker is alive: a misspelt application, a jump to a missing context and a Queue option
    that Asterisk 21 removed are all reported."""
    broken = tmp_path / "extensions.conf"
    broken.write_text(
        (ASTERISK_DIR / "extensions.conf").read_text(encoding="utf-8")
        + "\n[broken]\n"
        + "exten => s,1,Payback(hello)\n"
        + " same => n,Goto(minhu-no-such-context,s,1)\n"
        + " same => n,Queue(citizens,w)\n",
        encoding="utf-8",
    )
    _, messages = parse_dialplan(broken)
    reported = {message.split()[1].rstrip(":") for message in messages}
    assert {"E_APP_MISSING", "E_DP_GOTO_NOCONTEXT", "E_APP_ARG_BADOPT"} <= reported


def test_given_the_repository_when_searched_then_no_secret_is_committed() -> None:
    for path in _config_files():
        for line in path.read_text(encoding="utf-8").splitlines():
            setting = line.split(";", 1)[0].strip()
            assert not re.match(r"(secret|password|turnpassword)\s*=", setting), f"{path.name}: {line}"
    for secret_file in _SECRET_FILES:
        assert secret_file in (ASTERISK_DIR / ".gitignore").read_text(encoding="utf-8")


# --- modules.conf and the rest ---------------------------------------------------------------------


def test_given_modules_conf_then_autoload_is_off_and_everything_used_is_loaded(
    etc_asterisk: Path, dialplan: Dialplan
) -> None:
    modules = _sections(etc_asterisk, "modules.conf")["modules"]
    assert modules.get("autoload") == "no"
    loaded = {value.strip() for value in modules.all("load")}

    used = {f"{m}.so" for m in AppLoader().used_modules + FuncLoader().used_modules if m != "<builtin>"}
    assert used, "the dialplan uses applications"
    assert used <= loaded, f"used by extensions.conf but not loaded: {sorted(used - loaded)}"

    globals_text = " ".join(value for _, value in _varsets(dialplan.globals))
    if "${ENV(" in globals_text:
        assert "func_env.so" in loaded

    # The module that reads each config file, and what WebRTC needs.
    for needed in (
        "pbx_config.so",
        "res_pjsip.so",
        "chan_pjsip.so",
        "app_queue.so",
        "app_confbridge.so",
        "bridge_softmix.so",
        "res_musiconhold.so",
        "res_rtp_asterisk.so",
        "res_pjsip_transport_websocket.so",
        "res_http_websocket.so",
        "res_srtp.so",
        "res_audiosocket.so",
        "res_sorcery_config.so",
        "res_sorcery_astdb.so",
        "res_timing_timerfd.so",
    ):
        assert needed in loaded, needed

    # A static dialplan: no realtime configuration anywhere.
    assert not (ASTERISK_DIR / "extconfig.conf").exists()
    assert not any(m.startswith(("res_config_", "pbx_realtime", "pbx_lua", "pbx_ael")) for m in loaded)


def _varsets(context: object) -> list[tuple[str, str]]:
    return [(varset.variable, varset.value) for varset in context]  # type: ignore[attr-defined]


def test_given_globals_then_minhu_settings_come_from_the_environment(dialplan: Dialplan) -> None:
    settings = dict(_varsets(dialplan.globals))
    for variable in ("MINHU_AGI_HOST", "MINHU_AGI_PORT", "MINHU_AUDIOSOCKET_ADDR"):
        assert settings[variable] == f"${{ENV({variable})}}"
    general = dict(_varsets(dialplan.general))
    assert (general["static"], general["writeprotect"]) == ("yes", "yes")


# --- names from pbx/dialplan_names.py --------------------------------------------------------------

CONTEXT_NAMES = [
    value for key, value in vars(names).items() if key.endswith("_CONTEXT") and isinstance(value, str)
]


def _context(dialplan: Dialplan, name: str) -> DialplanContext:
    assert name in dialplan.contexts_by_name, f"context {name!r} missing from extensions.conf"
    return dialplan.contexts_by_name[name]


def _included(dialplan: Dialplan, name: str) -> set[str]:
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(include.context_name for include in _context(dialplan, current).includes)
    return seen


def _apps(dialplan: Dialplan, context_name: str) -> list[str]:
    return [extension.app.raw for extension in _context(dialplan, context_name)]


@pytest.mark.parametrize("context", CONTEXT_NAMES)
def test_given_a_context_name_in_python_then_extensions_conf_defines_it(
    dialplan: Dialplan, context: str
) -> None:
    assert len(_context(dialplan, context)) > 0 or _context(dialplan, context).includes


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """An extension pattern as Asterisk matches it (asterisklint's matcher accepts an extension
    longer than a fixed-length pattern, so the test does not use it)."""
    if not pattern.startswith("_"):
        return re.compile(re.escape(pattern))
    regex = []
    for token in re.findall(r"\[[^]]*\]|.", pattern[1:]):
        upper = token.upper()
        if token.startswith("["):
            regex.append(token)
        elif upper in {"X", "Z", "N"}:
            regex.append({"X": "[0-9]", "Z": "[1-9]", "N": "[2-9]"}[upper])
        elif token == ".":
            regex.append(".+")
        elif token == "!":
            regex.append(".*")
        else:
            regex.append(re.escape(token))
    return re.compile("".join(regex))


def test_given_extensions_then_entry_points_match_what_minhu_originates(dialplan: Dialplan) -> None:
    def reaches(context: str, exten: str) -> bool:
        return any(
            _pattern_regex(str(extension.pattern.raw)).fullmatch(exten)
            for name in _included(dialplan, context)
            for extension in _context(dialplan, name)
            if extension.pattern is not None
        )

    assert reaches(names.CARRIER_INBOUND_CONTEXT, names.HOTLINE_NUMBER)
    assert reaches(names.CITIZEN_ENTRY_CONTEXT, names.HOTLINE_NUMBER)
    assert reaches(names.AGENTS_CONTEXT, names.HOTLINE_NUMBER)
    assert reaches(names.UNITS_CONTEXT, names.HOTLINE_NUMBER)
    assert reaches(names.AGENTS_CONTEXT, "13800138000")  # agents call out
    assert not reaches(names.UNITS_CONTEXT, "13800138000")  # units do not
    assert not reaches(names.CARRIER_INBOUND_CONTEXT, "13800138000")
    for context in (
        names.INBOUND_QUEUE_CONTEXT,
        names.OVERFLOW_CONTEXT,
        names.SATISFACTION_CONTEXT,
        names.SURVEY_CONTEXT,
    ):
        assert reaches(context, "s"), context
    assert reaches(names.THREE_PARTY_CONTEXT, "900")
    assert reaches(names.DIAL_UNIT_CONTEXT, "2001")
    assert reaches(names.DIAL_UNIT_CONTEXT, "01012345678")
    assert reaches(names.DIAL_CITIZEN_CONTEXT, "13800138000")
    assert not reaches(names.DIAL_CITIZEN_CONTEXT, "2001")
    assert reaches(names.TRANSCRIBE_CONTEXT, names.TRANSCRIBE_SPY_EXTEN)
    assert reaches(names.TRANSCRIBE_CONTEXT, names.TRANSCRIBE_STREAM_EXTEN)


def test_given_phone_contexts_then_none_includes_a_context_only_minhu_reaches(dialplan: Dialplan) -> None:
    for phone_context in (names.AGENTS_CONTEXT, names.UNITS_CONTEXT, names.CARRIER_INBOUND_CONTEXT):
        assert not _included(dialplan, phone_context) & set(names.ORIGINATE_CONTEXTS), phone_context


def test_given_agi_scripts_then_each_is_requested_from_the_environment_host(dialplan: Dialplan) -> None:
    requested = {
        match.group(1)
        for context in dialplan.contexts
        for extension in context
        for match in re.finditer(
            r"AGI\(agi://\$\{MINHU_AGI_HOST\}:\$\{MINHU_AGI_PORT\}/([a-z-]+)", extension.app.raw
        )
    }
    assert requested == set(names.AGI_SCRIPTS)
    assert any(app.startswith("AGI(") for app in _apps(dialplan, names.CITIZEN_ENTRY_CONTEXT))
    assert any(f"/{names.AGI_SURVEY_SCRIPT}?" in app for app in _apps(dialplan, names.SURVEY_CONTEXT))


def test_given_the_call_flow_then_queue_recording_confbridge_and_audiosocket_are_used(
    dialplan: Dialplan,
) -> None:
    assert any(
        app.startswith(f"Queue({names.INBOUND_QUEUE},")
        for app in _apps(dialplan, names.INBOUND_QUEUE_CONTEXT)
    )
    conference = [app for app in _apps(dialplan, names.THREE_PARTY_CONTEXT) if app.startswith("ConfBridge(")]
    assert conference == [
        f"ConfBridge(${{EXTEN}},{names.THREE_PARTY_BRIDGE_PROFILE},${{MINHU_CONF_USER}},"
        f"{names.THREE_PARTY_MENU})"
    ]
    threeparty_text = " ".join(_apps(dialplan, names.THREE_PARTY_CONTEXT))
    for profile in (*names.THREE_PARTY_USER_PROFILES.values(), names.THREE_PARTY_DEFAULT_USER_PROFILE):
        assert profile in threeparty_text
    for role in names.THREE_PARTY_USER_PROFILES:
        assert f'"${{{names.THREE_PARTY_ROLE_VARIABLE}}}" = "{role}"' in threeparty_text
    assert any(app.startswith("MixMonitor(") for app in _apps(dialplan, "minhu-sub-record"))
    assert any(app.startswith("AudioSocket(") for app in _apps(dialplan, names.TRANSCRIBE_CONTEXT))
    handlers = {str(extension.pattern.raw) for extension in _context(dialplan, "minhu-dialed-status")}
    assert {"dialed-BUSY", "dialed-NOANSWER", "dialed-CONGESTION", "dialed-CHANUNAVAIL"} <= handlers


def test_given_queues_conf_then_the_inbound_queue_is_configured_for_a_hotline(etc_asterisk: Path) -> None:
    queues = _sections(etc_asterisk, "queues.conf")
    queue = queues[names.INBOUND_QUEUE]
    assert queue.get("ringinuse") == "no"
    assert int(queue.get("wrapuptime", "0") or 0) > 0
    assert queue.get("announce-holdtime") in {"yes", "once"}
    assert queue.get("setinterfacevar") == "yes"  # the dialplan reads MEMBERINTERFACE
    assert queues["general"].get("persistentmembers") == "no"
    text = (ASTERISK_DIR / "queues.conf").read_text(encoding="utf-8")
    for code, label in names.PAUSE_REASONS.items():
        assert re.search(rf"^;\s+{code}\s+{label}\s", text, re.MULTILINE), code


def test_given_confbridge_conf_then_the_three_party_profiles_exist(etc_asterisk: Path) -> None:
    profiles = _sections(etc_asterisk, "confbridge.conf")
    assert profiles[names.THREE_PARTY_BRIDGE_PROFILE].get("type") == "bridge"
    assert profiles[names.THREE_PARTY_MENU].get("type") == "menu"
    for profile in (*names.THREE_PARTY_USER_PROFILES.values(), names.THREE_PARTY_DEFAULT_USER_PROFILE):
        assert profiles[profile].get("type") == "user", profile
    citizen = profiles[names.THREE_PARTY_USER_PROFILES["citizen"]]
    assert citizen.get("marked") == "yes"
    for role in ("agent", "unit"):
        assert profiles[names.THREE_PARTY_USER_PROFILES[role]].get("end_marked") == "yes"


def test_given_manager_conf_then_minhu_has_only_its_classes_on_a_private_address(etc_asterisk: Path) -> None:
    manager = _sections(etc_asterisk, "manager.conf")
    general = manager["general"]
    assert general.get("enabled") == "yes"
    assert general.get("bindaddr") == "127.0.0.1"
    assert int(general.get("port") or 0) == names.AMI_DEFAULT_PORT
    user = manager[names.AMI_USERNAME]
    assert classes(user.get("read")) == names.AMI_READ_CLASSES
    assert classes(user.get("write")) == names.AMI_WRITE_CLASSES
    assert "all" not in names.AMI_READ_CLASSES | names.AMI_WRITE_CLASSES
    assert user.get("secret") == AMI_TEST_SECRET  # from manager_secret.conf, by #include
    assert user.get("deny") == "0.0.0.0/0.0.0.0"
    assert user.all("permit")
    assert [name for name in manager if name != "general"] == [names.AMI_USERNAME]


def test_given_manager_conf_without_secret_file_then_the_include_is_missing_not_empty(tmp_path: Path) -> None:
    """Asterisk refuses a config whose #include is missing: no file, no AMI (never a user
    without a secret)."""
    shutil.copy(ASTERISK_DIR / "manager.conf", tmp_path / "manager.conf")
    sections, messages = parse_config(tmp_path / "manager.conf")
    assert [m.split()[1] for m in messages] == ["W_PP_INCLUDE_MISSING:"]
    assert next(s for s in sections if s.name == names.AMI_USERNAME).get("secret") is None
    assert "#include manager_secret.conf" in (ASTERISK_DIR / "manager.conf").read_text(encoding="utf-8")


def test_given_pjsip_then_every_reference_resolves(pjsip: list[Section], dialplan: Dialplan) -> None:
    endpoints = by_type(pjsip, "endpoint")
    auths = by_type(pjsip, "auth")
    aors = by_type(pjsip, "aor")
    transports = by_type(pjsip, "transport")
    assert endpoints and auths and aors
    for name, endpoint in endpoints.items():
        assert endpoint.get("context") in dialplan.contexts_by_name, name
        for aor in classes(endpoint.get("aors")):
            assert aor in aors, f"{name}: aor {aor}"
        for key in ("auth", "outbound_auth"):
            if endpoint.get(key):
                assert endpoint.get(key) in auths, f"{name}: {key}"
        if endpoint.get("transport"):
            assert endpoint.get("transport") in transports, name
    for name, auth in auths.items():
        assert auth.get("password"), f"{name} has no password after pjsip_secrets.conf"
    for obj in pjsip:
        if obj.get("type") in {"registration", "identify"}:
            assert obj.get("endpoint") in endpoints, obj.name


def test_given_pjsip_then_agents_units_and_carrier_land_in_their_contexts(pjsip: list[Section]) -> None:
    endpoints = by_type(pjsip, "endpoint")
    transports = by_type(pjsip, "transport")
    contexts = {name: endpoint.get("context") for name, endpoint in endpoints.items()}
    assert contexts.pop("carrier") == names.CARRIER_INBOUND_CONTEXT
    agents = {name for name in contexts if name[0] in "15"}
    units = {name for name in contexts if name[0] == "2"}
    assert agents and units and agents | units == set(contexts)
    assert {contexts[name] for name in agents} == {names.AGENTS_CONTEXT}
    assert {contexts[name] for name in units} == {names.UNITS_CONTEXT}

    assert {t.get("protocol") for t in transports.values()} >= {"udp", "tcp", "wss"}
    webrtc = [endpoints[name] for name in agents if name.startswith("5")]
    assert webrtc
    for endpoint in webrtc:
        assert endpoint.get("webrtc") == "yes"
        assert endpoint.get("media_encryption") == "dtls"
        assert endpoint.get("dtls_verify") == "fingerprint"
        assert endpoint.get("ice_support") == "yes"
    for name in agents | units:
        assert endpoints[name].get("direct_media") == "no", name  # recording needs the media

    kinds = {obj.get("type") for obj in pjsip if obj.name.startswith("carrier")}
    assert {"endpoint", "aor", "auth", "registration", "identify"} <= kinds


def test_given_http_conf_then_webrtc_is_served_over_tls(etc_asterisk: Path) -> None:
    general = _sections(etc_asterisk, "http.conf")["general"]
    assert general.get("enabled") == "yes"
    assert general.get("tlsenable") == "yes"
    assert general.get("bindaddr") == "127.0.0.1"
