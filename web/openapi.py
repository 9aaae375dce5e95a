"""The OpenAPI 3.1 document of the JSON API, built from the operations' descriptions and the result
dataclasses themselves (their type hints become JSON Schema), so it cannot drift from the code."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

OPENAPI_VERSION = "3.1.0"
PROBLEM = {
    "type": "object",
    "description": "An error (RFC 9457 problem details).",
    "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                   "detail": {"type": "string"}},
    "required": ["type", "title", "status", "detail"],
}
ERROR_TEXT = {400: "Bad input", 404: "Not found", 406: "Not acceptable", 413: "Input too large",
              415: "Unsupported media or file type", 503: "Search or store unavailable"}


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    schema: Any = str  # a Python type, turned into JSON Schema
    required: bool = False
    repeated: bool = False  # may be given several times (?kind=a&kind=b)
    where: str = "query"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # OpenAPI style: /api/things/{id}
    operation_id: str
    summary: str
    description: str
    response: Any  # a Python type (usually a dataclass) describing the JSON answer
    response_extra: dict[str, Any] = field(default_factory=dict)  # more top-level properties: name -> type
    params: tuple[Param, ...] = ()
    body: dict[str, Any] = field(default_factory=dict)  # media type -> Python type of the request body
    errors: tuple[int, ...] = ()


@dataclass(frozen=True)
class Serialised:
    """How a dataclass's own to_dict() differs from its fields: the properties it adds (name -> Python type)
    and the fields it leaves out."""

    adds: dict[str, Any] = field(default_factory=dict)
    drops: tuple[str, ...] = ()


class Schemas:
    """The JSON Schema components of one document, as they are built: a dataclass goes in once under its name
    (two dataclasses with one __name__, say kg.entity.Link and search.overlaps.Link, get their module's name in
    front) and refers to the others by $ref."""

    def __init__(self, components: dict[str, Any], serialised: Mapping[type, Serialised] | None = None) -> None:
        self.components = components
        self.serialised = serialised or {}
        self._names: dict[type, str] = {}

    def of(self, tp: Any) -> dict[str, Any]:
        """JSON Schema for a Python type."""
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            return {"$ref": f"#/components/schemas/{self._component(tp)}"}
        simple = {str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}
        if tp in simple:
            return {"type": simple[tp]}
        if tp is bytes:
            return {"type": "string", "format": "binary"}
        if tp is Any or tp is object:
            return {}
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin in (typing.Union, types.UnionType):
            return {"anyOf": [self.of(a) for a in args]}
        if origin in (tuple, list):
            if origin is tuple and args and args[-1] is not Ellipsis:
                return {"type": "array", "prefixItems": [self.of(a) for a in args], "items": False}
            return {"type": "array", "items": self.of(args[0]) if args else {}}
        if origin is dict:
            return {"type": "object", "additionalProperties": self.of(args[1]) if args else {}}
        raise TypeError(f"no JSON Schema for {tp!r}")

    def _component(self, tp: type) -> str:
        if tp in self._names:
            return self._names[tp]
        name = tp.__name__
        if name in self.components:
            name = tp.__module__.rsplit(".", 1)[-1].capitalize() + name
        self._names[tp] = name
        self.components[name] = {}  # placeholder: a dataclass that refers to itself stops here
        shape = self.serialised.get(tp, Serialised())
        hints = typing.get_type_hints(tp)
        fields_ = [f for f in dataclasses.fields(tp) if f.name not in shape.drops]
        properties = {f.name: self.of(hints[f.name]) for f in fields_}
        properties.update({name_: self.of(added) for name_, added in shape.adds.items()})
        required = [f.name for f in fields_ if f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING]
        self.components[name] = {
            "type": "object",
            **({"description": _description(tp)} if _description(tp) else {}),
            "properties": properties,
            "required": [*required, *shape.adds],
        }
        return name


def json_schema(tp: Any, components: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema for a Python type; dataclasses go to `components` once and are referred to."""
    return Schemas(components).of(tp)


def _description(tp: type) -> str:
    """The first line of a dataclass's own docstring (not the signature dataclasses writes when there is none)."""
    doc = (tp.__doc__ or "").strip()
    return "" if not doc or doc.startswith(f"{tp.__name__}(") else doc.splitlines()[0]


def _response_schema(op: Operation, schemas: Schemas) -> dict[str, Any]:
    schema = schemas.of(op.response)
    if not op.response_extra:
        return schema
    extra = {name: schemas.of(tp) for name, tp in op.response_extra.items()}
    return {"allOf": [schema, {"type": "object", "properties": extra, "required": list(extra)}]}


def _parameter(param: Param, schemas: Schemas) -> dict[str, Any]:
    schema = schemas.of(param.schema)
    if param.repeated:
        schema = {"type": "array", "items": schema}
    out: dict[str, Any] = {"name": param.name, "in": param.where, "description": param.description,
                           "required": param.required or param.where == "path", "schema": schema}
    if param.repeated:
        out.update(style="form", explode=True)
    return out


def _operation(op: Operation, schemas: Schemas) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"description": "OK", "content": {
        "application/json": {"schema": _response_schema(op, schemas)}}}}
    for status in op.errors:
        responses[str(status)] = {"description": ERROR_TEXT.get(status, "Error"),
                                  "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary, "description": op.description,
                           "responses": responses}
    if op.params:
        out["parameters"] = [_parameter(p, schemas) for p in op.params]
    if op.body:
        out["requestBody"] = {"required": True, "content": {
            media: {"schema": schemas.of(tp)} for media, tp in op.body.items()}}
    return out


def openapi_document(operations: tuple[Operation, ...], *, title: str, version: str, description: str,
                     server: str, serialised: Mapping[type, Serialised] | None = None) -> dict[str, Any]:
    """The document; `serialised` says where a result's to_dict() differs from its dataclass fields."""
    components: dict[str, Any] = {"Problem": PROBLEM}
    schemas = Schemas(components, serialised)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, schemas)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version, "description": description,
                 "license": {"name": "CC BY 4.0 (data)", "identifier": "CC-BY-4.0"}},
        "servers": [{"url": server}],
        "paths": paths,
        "components": {"schemas": dict(sorted(components.items()))},
    }
