"""Request-body validation against Discord's own OpenAPI description (openapi.json, MIT).

The 1.2 MB document is loaded once per process on first use and each route's validator is built
once; routes without a JSON request schema are not checked.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

OPENAPI_PATH = Path(__file__).with_name("openapi.json")

try:
    import jsonschema
except ImportError:  # pragma: no cover - the dev extras install it
    jsonschema = None  # validation is skipped without it


def is_available() -> bool:
    """Whether jsonschema is installed, so bodies can be validated."""
    return jsonschema is not None


@functools.cache
def _document() -> dict[str, Any]:
    with OPENAPI_PATH.open(encoding="utf-8") as fh:
        doc = dict(json.load(fh))
    # The description types snowflakes as digit strings, but Discord also accepts integers, and
    # discord.py sends attachment placeholder ids (0, 1, ...) as integers.
    snowflake = doc["components"]["schemas"]["SnowflakeType"]
    doc["components"]["schemas"]["SnowflakeType"] = {
        "anyOf": [snowflake, {"type": "integer", "minimum": 0}]
    }
    return doc


@functools.cache
def _validator(method: str, route: str, content_type: str) -> Any:
    doc = _document()
    operation = doc["paths"].get(route, {}).get(method.lower())
    if operation is None or "requestBody" not in operation:
        return None
    schema = operation["requestBody"].get("content", {}).get(content_type, {}).get("schema")
    if schema is None:
        return None
    # "$ref": "#/components/..." resolves against the root resource, so carry the components.
    root = {**schema, "components": doc["components"]}
    validator_cls = jsonschema.validators.validator_for(
        root, default=jsonschema.Draft202012Validator
    )
    return validator_cls(root)


def validate_body(method: str, route: str, body: Any, *, multipart: bool = False) -> list[str]:
    """Schema errors for a request body (empty when valid or when the route has no schema).

    `route` is the OpenAPI path template, e.g. ``/channels/{channel_id}/messages``.
    """
    if jsonschema is None:
        return []
    content_type = "multipart/form-data" if multipart else "application/json"
    validator = _validator(method, route, content_type)
    if validator is None:
        return []
    errors = []
    for err in validator.iter_errors(body):
        # anyOf/oneOf failures say little; the deepest matching sub-error names the field.
        best = err
        while best.context:
            best = min(best.context, key=lambda e: (-len(e.absolute_path), e.message))
        where = "/".join(str(p) for p in best.absolute_path) or "(body)"
        errors.append(f"{where}: {best.message[:200]}")
    return errors
