"""The policy document: the desired state of the org's ``okta.*`` grants, as YAML.

:func:`parse` turns the text into a frozen :class:`Policy` or raises
:class:`PolicyInvalid` listing every problem with its line, the rule it is in
and why. No Django models here: the text may come from a file in git or from
the console's editor (``policy_versions``).

The vocabulary (``version: 1``)::

    version: 1
    apps:                        # per-app allowed scopes, keyed by Okta app id
      0oa1consoleDEMO000x7:
        label: Grants Console    # optional, for people
        allowed_scopes: [okta.apps.read, okta.appGrants.manage]
        required_scopes: [okta.apps.read]   # optional, within allowed_scopes
        auto_remediate: false    # optional: the enforcer may revoke the excess
    rules:
      - id: no-grant-admin       # unique; findings and plans name it
        kind: forbid_scopes
        scopes: [okta.appGrants.manage, okta.roles.manage]
        unless_allowlisted: true # allowed where the app's allowed_scopes lists it
        app_types: [service]     # optional filter (web, browser, native, service)
        risk: critical           # optional; else each scope's catalog risk
        auto_remediate: false    # optional
      - id: service-manage-uses-keys
        kind: require_auth_method
        app_types: [service]
        when_holding: [manage]   # optional; default: any scope
        method: private_key_jwt
      - id: critical-owner-and-end
        kind: require_owner_and_end
        min_risk: critical       # grants at or above this risk

A scope pattern is a scopeId (``okta.users.manage``), a glob
(``okta.*.manage``, case-sensitive) or the word ``manage``: every manage scope
as the scope catalog says (so ``okta.myAccount.*.manage`` self scopes are not).

What a rule asks of the org, per app (apps removed from Okta are not judged):

- ``forbid_scopes``: the app holds none of ``scopes``. One finding per scope
  held; the plan revokes it.
- apps entry: the app holds nothing outside ``allowed_scopes`` (one finding
  per excess scope; the plan revokes it) and holds every ``required_scopes``
  (one finding per missing scope; the plan grants it).
- ``require_auth_method``: an app that holds a ``when_holding`` scope
  authenticates with ``method`` (Okta's ``token_endpoint_auth_method``). One
  finding per app; no plan step (the fix is in the app's Okta settings).
- ``require_owner_and_end``: each grant at or above ``min_risk`` has an owner
  (an app owner who is not orphaned) and an end time. One finding per grant;
  no plan step (the fix is assigning an owner and an end).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any

import yaml

from grantsconsole.okta import scopes as scope_catalog

APP_TYPES = ("web", "browser", "native", "service")
RISKS = ("low", "medium", "high", "critical")
RULE_KINDS = ("forbid_scopes", "require_auth_method", "require_owner_and_end")
# Okta's token_endpoint_auth_method values.
AUTH_METHODS = (
    "none",
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
)
MAX_TEXT = 200_000  # characters: a policy is a page of YAML, not a data dump
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_APP_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PATTERN_RE = re.compile(r"^[A-Za-z0-9_.:*-]{1,200}$")


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a policy text is refused: ``line`` (1-based; 0 when the
    text as a whole is at fault), ``rule`` (the rule's id, ``apps.<appId>``,
    or "" for the document) and ``why`` in plain words."""

    line: int
    rule: str
    why: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "the document"
        return f"{where}{f', rule {self.rule}' if self.rule else ''}: {self.why}"


class PolicyInvalid(ValueError):
    """The text is not a valid policy; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True, slots=True)
class ScopePattern:
    """A set of scopeIds: exact ids, globs and the word ``manage``."""

    items: tuple[str, ...]

    def matches(self, scope_id: str) -> bool:
        return _matches(self.items, scope_id)


@lru_cache(maxsize=65536)
def _matches(items: tuple[str, ...], scope_id: str) -> bool:
    """Cached: an evaluation asks this for every rule and grant of every app,
    of a few hundred distinct scopeIds."""
    for item in items:
        if item == "manage":
            if scope_catalog.is_manage(scope_id):
                return True
        elif item == scope_id or ("*" in item and fnmatchcase(scope_id, item)):
            return True
    return False


@dataclass(frozen=True, slots=True)
class Rule:
    """One org-wide rule (see the module docstring for each ``kind``).
    ``app_types`` empty means every app; ``risk`` "" means each scope's
    catalog risk; ``when_holding`` None means any scope."""

    id: str
    kind: str
    line: int
    scopes: ScopePattern = ScopePattern(())
    unless_allowlisted: bool = False
    app_types: tuple[str, ...] = ()
    risk: str = ""
    auto_remediate: bool = False
    method: str = ""
    when_holding: ScopePattern | None = None
    min_risk: str = "critical"

    def applies_to(self, application_type: str) -> bool:
        return not self.app_types or application_type in self.app_types


@dataclass(frozen=True, slots=True)
class AppEntry:
    """One app's allowed scopes (and the ones it must hold), by Okta app id."""

    okta_id: str
    line: int
    allowed_scopes: frozenset[str]
    required_scopes: tuple[str, ...] = ()
    label: str = ""
    auto_remediate: bool = False

    @property
    def rule_id(self) -> str:
        return f"apps.{self.okta_id}"


@dataclass(frozen=True, slots=True)
class Policy:
    apps: dict[str, AppEntry] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()

    def allowlisted(self, okta_id: str, scope_id: str) -> bool:
        entry = self.apps.get(okta_id)
        return entry is not None and scope_id in entry.allowed_scopes


# --- parsing ------------------------------------------------------------------------


def _lines(
    node: yaml.Node, path: tuple[Any, ...], out: dict[tuple, int], twice: list[Problem]
) -> None:
    """Map each path (keys and list indexes) to the 1-based line it starts on;
    a key given twice in one mapping (YAML would keep the last silently) goes
    to ``twice``."""
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            line = key.start_mark.line + 1
            if name in seen:
                twice.append(Problem(line, "", f"the key {name!r} is given twice."))
            seen.add(name)
            out[(*path, name, "<key>")] = line
            _lines(value, (*path, name), out, twice)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), out, twice)


class _Checker:
    """Collects problems while reading the loaded document."""

    def __init__(self, lines: dict[tuple, int]) -> None:
        self.lines = lines
        self.problems: list[Problem] = []

    def line(self, path: tuple) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 0)

    def fail(self, path: tuple, rule: str, why: str) -> None:
        self.problems.append(Problem(self.line(path), rule, why))

    def mapping(
        self, value: Any, path: tuple, rule: str, what: str, keys: set[str]
    ) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.fail(path, rule, f"{what} must be a mapping (key: value lines).")
            return None
        for key in value:
            if key not in keys:
                self.fail(
                    (*path, key, "<key>"),
                    rule,
                    f"unknown key {key!r} in {what}; expected one of "
                    f"{', '.join(sorted(keys))}.",
                )
        return value

    def boolean(self, value: Any, path: tuple, rule: str, key: str) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            self.fail(path, rule, f"{key} must be true or false, not {value!r}.")
            return False
        return value

    def choices(
        self, value: Any, path: tuple, rule: str, key: str, allowed: tuple[str, ...]
    ) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            self.fail(path, rule, f"{key} must be a non-empty list.")
            return ()
        for index, item in enumerate(value):
            if item not in allowed:
                self.fail(
                    (*path, index),
                    rule,
                    f"{key} has {item!r}; expected one of {', '.join(allowed)}.",
                )
        return tuple(str(v) for v in value)

    def patterns(
        self, value: Any, path: tuple, rule: str, key: str, *, exact: bool = False
    ) -> tuple[str, ...]:
        """A list of scope patterns (``exact``: scopeIds only)."""
        if not isinstance(value, list) or not value:
            self.fail(path, rule, f"{key} must be a non-empty list of scopeIds.")
            return ()
        items = []
        for index, item in enumerate(value):
            text = item if isinstance(item, str) else ""
            if exact and (text == "manage" or "*" in text):
                self.fail(
                    (*path, index),
                    rule,
                    f"{key} takes exact scopeIds (e.g. okta.users.read), "
                    f"not patterns: {item!r}.",
                )
            elif text != "manage" and (
                not _PATTERN_RE.match(text) or not text.startswith("okta.")
            ):
                self.fail(
                    (*path, index),
                    rule,
                    f"{item!r} in {key} is not a scopeId (okta.<resource>.<read|"
                    "manage>), a glob such as okta.*.manage, or the word manage.",
                )
            else:
                items.append(text)
        return tuple(items)


_TOP_KEYS = {"version", "apps", "rules"}
_APP_KEYS = {"label", "allowed_scopes", "required_scopes", "auto_remediate"}
_RULE_KEYS = {
    "forbid_scopes": {
        "id",
        "kind",
        "scopes",
        "unless_allowlisted",
        "app_types",
        "risk",
        "auto_remediate",
    },
    "require_auth_method": {"id", "kind", "method", "app_types", "when_holding"},
    "require_owner_and_end": {"id", "kind", "min_risk"},
}


def parse(text: str) -> Policy:
    """The :class:`Policy` ``text`` says. Raises :class:`PolicyInvalid` with
    every problem found (line, rule, why): YAML syntax, unknown keys, wrong
    types, unknown kinds, app types, risks or auth methods, malformed
    scopeIds, duplicate rule ids, and required scopes outside an app's
    allowed scopes."""
    if len(text) > MAX_TEXT:
        raise PolicyInvalid(
            [Problem(0, "", f"the policy is longer than {MAX_TEXT} characters.")]
        )
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        why = f"not valid YAML: {exc.problem or exc.context}."
        raise PolicyInvalid([Problem(line, "", why)]) from None
    except yaml.YAMLError as exc:
        raise PolicyInvalid([Problem(0, "", f"not valid YAML: {exc}.")]) from None
    lines: dict[tuple, int] = {}
    twice: list[Problem] = []
    if node is not None:
        _lines(node, (), lines, twice)
    check = _Checker(lines)
    check.problems += twice
    top = check.mapping(data, (), "", "the policy", _TOP_KEYS)
    if top is None:
        raise PolicyInvalid(check.problems)
    if top.get("version") != 1:
        check.fail(("version",), "", "version must be 1 (the only version so far).")
    apps = _parse_apps(check, top.get("apps"))
    rules = _parse_rules(check, top.get("rules"))
    if check.problems:
        raise PolicyInvalid(sorted(check.problems, key=lambda p: p.line))
    return Policy(apps=apps, rules=tuple(rules))


def _parse_apps(check: _Checker, value: Any) -> dict[str, AppEntry]:
    if value is None:
        return {}
    keys = set(value) if isinstance(value, dict) else set()
    apps = check.mapping(value, ("apps",), "", "apps", keys)
    found: dict[str, AppEntry] = {}
    for okta_id, body in (apps or {}).items():
        path = ("apps", okta_id)
        rule = f"apps.{okta_id}"
        if not isinstance(okta_id, str) or not _APP_ID_RE.match(okta_id):
            check.fail((*path, "<key>"), rule, f"{okta_id!r} is not an Okta app id.")
            continue
        entry = check.mapping(body, path, rule, f"app {okta_id}", _APP_KEYS)
        if entry is None:
            continue
        allowed: tuple[str, ...] = ()
        if "allowed_scopes" not in entry:
            check.fail(path, rule, "allowed_scopes is missing (a list of scopeIds).")
        elif entry["allowed_scopes"] == []:
            pass  # the app may hold nothing
        else:
            allowed = check.patterns(
                entry["allowed_scopes"],
                (*path, "allowed_scopes"),
                rule,
                "allowed_scopes",
                exact=True,
            )
        required: tuple[str, ...] = ()
        if entry.get("required_scopes") is not None:
            required = check.patterns(
                entry["required_scopes"],
                (*path, "required_scopes"),
                rule,
                "required_scopes",
                exact=True,
            )
            for index, scope_id in enumerate(required):
                if scope_id not in allowed:
                    check.fail(
                        (*path, "required_scopes", index),
                        rule,
                        f"{scope_id} is required but not in allowed_scopes.",
                    )
        label = entry.get("label", "")
        if not isinstance(label, str):
            check.fail((*path, "label"), rule, "label must be text.")
            label = ""
        found[okta_id] = AppEntry(
            okta_id=okta_id,
            line=check.line(path),
            allowed_scopes=frozenset(allowed),
            required_scopes=required,
            label=label,
            auto_remediate=check.boolean(
                entry.get("auto_remediate"),
                (*path, "auto_remediate"),
                rule,
                "auto_remediate",
            ),
        )
    return found


def _parse_rules(check: _Checker, value: Any) -> list[Rule]:
    if value is None:
        return []
    if not isinstance(value, list):
        check.fail(("rules",), "", "rules must be a list (lines starting with -).")
        return []
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, body in enumerate(value):
        path = ("rules", index)
        rule_id = body.get("id") if isinstance(body, dict) else None
        name = rule_id if isinstance(rule_id, str) else f"rules[{index}]"
        if not isinstance(body, dict):
            check.fail(path, name, "a rule must be a mapping with id and kind.")
            continue
        if not isinstance(rule_id, str) or not _ID_RE.match(rule_id):
            check.fail(
                (*path, "id"),
                name,
                "id is missing or not a name (letters, digits, . _ -; up to 100).",
            )
        elif rule_id in seen:
            check.fail((*path, "id"), name, f"the id {rule_id} is used twice.")
        seen.add(name)
        kind = body.get("kind")
        if kind not in RULE_KINDS:
            check.fail(
                (*path, "kind"),
                name,
                f"kind {kind!r} is not one of {', '.join(RULE_KINDS)}.",
            )
            continue
        check.mapping(body, path, name, f"a {kind} rule", _RULE_KEYS[kind])
        fields: dict[str, Any] = {}
        if "app_types" in body:
            fields["app_types"] = check.choices(
                body["app_types"], (*path, "app_types"), name, "app_types", APP_TYPES
            )
        if kind == "forbid_scopes":
            if "scopes" not in body:
                check.fail(path, name, "scopes is missing (the scopes forbidden).")
            else:
                fields["scopes"] = ScopePattern(
                    check.patterns(body["scopes"], (*path, "scopes"), name, "scopes")
                )
            fields["unless_allowlisted"] = check.boolean(
                body.get("unless_allowlisted"),
                (*path, "unless_allowlisted"),
                name,
                "unless_allowlisted",
            )
            fields["auto_remediate"] = check.boolean(
                body.get("auto_remediate"),
                (*path, "auto_remediate"),
                name,
                "auto_remediate",
            )
            if "risk" in body:
                if body["risk"] not in RISKS:
                    check.fail(
                        (*path, "risk"),
                        name,
                        f"risk must be one of {', '.join(RISKS)}.",
                    )
                else:
                    fields["risk"] = body["risk"]
        elif kind == "require_auth_method":
            if body.get("method") not in AUTH_METHODS:
                check.fail(
                    (*path, "method"),
                    name,
                    f"method must be one of {', '.join(AUTH_METHODS)} "
                    "(Okta's token_endpoint_auth_method).",
                )
            fields["method"] = str(body.get("method", ""))
            if "when_holding" in body:
                fields["when_holding"] = ScopePattern(
                    check.patterns(
                        body["when_holding"],
                        (*path, "when_holding"),
                        name,
                        "when_holding",
                    )
                )
        elif kind == "require_owner_and_end":
            min_risk = body.get("min_risk", "critical")
            if min_risk not in RISKS:
                check.fail(
                    (*path, "min_risk"),
                    name,
                    f"min_risk must be one of {', '.join(RISKS)}.",
                )
            fields["min_risk"] = str(min_risk)
        rules.append(Rule(id=name, kind=kind, line=check.line(path), **fields))
    return rules
