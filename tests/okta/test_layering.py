"""Okta I/O stays in ``grantsconsole/okta/`` and its clients are built in one
place: product code elsewhere neither sends HTTP with ``requests`` nor
constructs an Okta client or credential source of its own."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "grantsconsole"
FACTORY = PACKAGE / "okta_clients.py"
BUILT_ONLY_BY_THE_FACTORY = {
    "OktaClient",
    "OrgAuthorizationServer",
    "ServiceAppTokenSource",
    "SswsTokenSource",
    "UserTokenSource",
}


def _product_modules() -> list[Path]:
    """Django-side code: everything but the client itself and the simulator
    (a separate server, which may use the stdlib as it likes)."""
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if not {"okta", "oktasim", "migrations"} & set(path.relative_to(PACKAGE).parts)
    ]


def _called_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def test_no_http_through_requests_outside_the_okta_package():
    offenders = []
    for path in _product_modules():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import) and any(
                a.name.split(".")[0] == "requests" for a in node.names
            ):
                offenders.append(f"{path.name}:{node.lineno} import requests")
            if isinstance(node, ast.ImportFrom) and node.module == "requests":
                # Exception classes only (allauth's own calls raise them).
                sent = [a.name for a in node.names if not a.name.endswith("Exception")]
                if sent:
                    offenders.append(f"{path.name}:{node.lineno} {sent}")
    assert offenders == []


def test_okta_clients_are_built_only_by_the_factory():
    offenders = [
        f"{path.relative_to(PACKAGE)}:{node.lineno} {_called_name(node)}()"
        for path in _product_modules()
        if path != FACTORY
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.Call)
        and _called_name(node) in BUILT_ONLY_BY_THE_FACTORY
    ]
    assert offenders == []
    assert not (PACKAGE / "grants" / "okta_clients.py").exists()


# DESIGN.md's arrows: console -> governance -> usage -> grants -> okta. A package
# never imports one above it (governance hears grants through grants/signals.py).
ABOVE = {
    "grants": {"usage", "governance", "console"},
    "usage": {"governance", "console"},
    "governance": {"console"},
}


def test_the_arrows_point_one_way():
    offenders = []
    for package, forbidden in ABOVE.items():
        for path in sorted((PACKAGE / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                names = (
                    [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else []
                )
                for name in names:
                    parts = name.split(".")
                    if (
                        parts[0] == "grantsconsole"
                        and parts[1:2]
                        and (parts[1] in forbidden)
                    ):
                        offenders.append(
                            f"{path.relative_to(PACKAGE)}:{node.lineno} {name}"
                        )
    assert offenders == []
