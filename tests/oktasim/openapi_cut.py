"""Load Okta's Management API spec once and cut it to the operations the console uses.

The 3.4 MB ``shared/okta/management-minimal.yaml`` takes seconds to parse and far
longer for openapi-core to prepare whole, so the fidelity suite keeps only the
paths and methods below plus every component they reach through ``$ref``. Nothing
is committed: the cut happens at test time from the shared file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

_SPEC = Path("shared") / "okta" / "management-minimal.yaml"


def _find_spec() -> Path:
    """OKTA_MANAGEMENT_SPEC, else ``shared/okta/`` beside the repository (or beside
    any parent folder, or /work/shared for fresh clones elsewhere on this machine)."""
    if os.environ.get("OKTA_MANAGEMENT_SPEC"):
        return Path(os.environ["OKTA_MANAGEMENT_SPEC"])
    repo = Path(__file__).resolve().parents[2]
    for folder in [*repo.parents, Path("/work")]:
        if (folder / _SPEC).exists():
            return folder / _SPEC
    return repo.parent / _SPEC


SPEC_PATH = _find_spec()

OPERATIONS = {
    "/api/v1/apps": ["get"],
    "/api/v1/apps/{appId}": ["get"],
    "/api/v1/apps/{appId}/grants": ["get", "post"],
    "/api/v1/apps/{appId}/grants/{grantId}": ["get", "delete"],
    "/api/v1/users/{userId}/roles": ["get"],
    "/api/v1/logs": ["get"],
    "/oauth2/v1/clients/{clientId}/roles": ["get"],
}


def _refs(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            out.add(ref)
        for v in node.values():
            _refs(v, out)
    elif isinstance(node, list):
        for v in node:
            _refs(v, out)


def _resolve(spec: dict, ref: str) -> Any:
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def load_spec() -> dict:
    """Parse the full spec (~3 s with libyaml). It lives beside the repository, in
    ``../shared/okta/``; OKTA_MANAGEMENT_SPEC may point elsewhere."""
    if not SPEC_PATH.exists():
        raise FileNotFoundError(
            f"Okta's Management API spec is not at {SPEC_PATH}; the fidelity suite needs "
            "it (set OKTA_MANAGEMENT_SPEC to its path)."
        )
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open() as f:
        return yaml.load(f, Loader=loader)


def cut_spec(full: dict, server_url: str) -> dict:
    """A valid OpenAPI 3 document with only OPERATIONS and what they reference."""
    paths: dict[str, Any] = {}
    for path, methods in OPERATIONS.items():
        item = full["paths"][path]
        paths[path] = {
            k: v for k, v in item.items() if k in methods or k == "parameters"
        }
    seen: set[str] = set()
    todo: set[str] = set()
    _refs(paths, todo)
    _refs(full.get("security", []), todo)
    while todo:
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _refs(_resolve(full, ref), todo)
    components: dict[str, dict] = {}
    for ref in seen:
        _, section, kind, name = ref.split("/", 3)
        assert section == "components", ref
        components.setdefault(kind, {})[name] = full["components"][kind][name]
    components["securitySchemes"] = full["components"]["securitySchemes"]
    return {
        "openapi": full["openapi"],
        "info": full["info"],
        "servers": [{"url": server_url}],
        "security": full.get("security", []),
        "paths": paths,
        "components": components,
    }
