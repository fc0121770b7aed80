"""The AWS query protocol, driven by botocore's shapes: form parameters (``Dimensions.member.1.Name=...``,
``Tags.entry.1.key=...``) decoded into the same dicts the JSON protocols carry, and results encoded as
``<OpResponse><OpResult>...</OpResult><ResponseMetadata/></OpResponse>`` XML (lists as ``<member>``).

Decoding mirrors botocore's QuerySerializer: lists are ``Name.member.N`` (``Name.N`` when flattened),
maps ``Name.entry.N.key/value``, an empty list is ``Name=``; scalars are converted by shape type and
timestamps (ISO 8601) become epoch seconds."""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from greenfleet.errors import ValidationError
from greenfleet.metrics.timestamps import iso, parse_time


class QueryDecodeError(Exception):
    """A parameter whose text does not fit its shape (``field`` is its dotted name)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, f"{field}: {message}"


@dataclass
class _Node:
    """One dotted segment of the form: a value, children by segment, or both."""

    value: str | None = None
    children: dict[str, _Node] = field(default_factory=dict)


def _tree(pairs: list[tuple[str, str]]) -> _Node:
    root = _Node()
    for key, value in pairs:
        node = root
        for part in key.split("."):
            node = node.children.setdefault(part, _Node())
        node.value = value
    return root


def _name(shape: Shape, default: str) -> str:
    return str(shape.serialization.get("name", default))


def _numbered(node: _Node, where: str) -> list[tuple[int, _Node]]:
    items = []
    for index, child in node.children.items():
        if not index.isdigit() or int(index) < 1:
            raise QueryDecodeError(f"{where}.{index}", "expected a member number from 1")
        items.append((int(index), child))
    return sorted(items, key=lambda item: item[0])


def _decode(shape: Shape, node: _Node, where: str) -> Any:
    if isinstance(shape, StructureShape):
        out = {}
        for member, member_shape in shape.members.items():
            child = node.children.get(_name(member_shape, member))
            if child is not None:
                out[member] = _decode(member_shape, child, f"{where}.{member}" if where else member)
        return out
    if isinstance(shape, ListShape):
        if not node.children:
            if node.value:
                raise QueryDecodeError(where, "expected a list written Name.member.N")
            return []  # ``Name=``: the query protocol's empty list
        items = node if shape.serialization.get("flattened") else node.children.get(_name(shape.member, "member"))
        if items is None:
            raise QueryDecodeError(where, "expected a list written Name.member.N")
        return [_decode(shape.member, child, f"{where}.member.{i}") for i, child in _numbered(items, where)]
    if isinstance(shape, MapShape):
        entries = node if shape.serialization.get("flattened") else node.children.get("entry", _Node())
        out_map = {}
        for i, entry in _numbered(entries, f"{where}.entry"):
            key, value = entry.children.get(_name(shape.key, "key")), entry.children.get(_name(shape.value, "value"))
            if key is None or value is None:
                raise QueryDecodeError(f"{where}.entry.{i}", "each entry needs a key and a value")
            out_map[_decode(shape.key, key, where)] = _decode(shape.value, value, f"{where}.entry.{i}")
        return out_map
    if node.value is None:
        raise QueryDecodeError(where, "expected a value, not nested parameters")
    return _scalar(shape, node.value, where)


def _scalar(shape: Shape, text: str, where: str) -> Any:
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("double", "float"):
            return float(text)
        if kind == "boolean":
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"
        if kind == "timestamp":
            return parse_time(text, where)
        if kind == "blob":
            return base64.b64decode(text, validate=True)
    except (ValueError, ValidationError, binascii.Error):
        raise QueryDecodeError(where, f"'{text}' is not a valid {kind}") from None
    return text


def decode(shape: StructureShape | None, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """The operation's parameters from form pairs (Action and Version already removed)."""
    if shape is None:
        return {}
    result: dict[str, Any] = _decode(shape, _tree(pairs), "")
    return result


# -- responses --------------------------------------------------------------------------------------------
def _text(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return iso(parse_time(value, shape.name))
    if kind in ("double", "float"):
        number = float(value)
        if not math.isfinite(number):
            return "NaN" if math.isnan(number) else ("Infinity" if number > 0 else "-Infinity")
        return repr(number)
    if kind == "blob":
        return base64.b64encode(value).decode()
    return str(value)


def _encode(parent: ElementTree.Element, tag: str, shape: Shape, value: Any) -> None:
    if isinstance(shape, ListShape):
        if shape.serialization.get("flattened"):
            for item in value:
                _encode(parent, tag, shape.member, item)
            return
        element = ElementTree.SubElement(parent, tag)
        for item in value:
            _encode(element, _name(shape.member, "member"), shape.member, item)
        return
    element = ElementTree.SubElement(parent, tag)
    if isinstance(shape, StructureShape):
        _members(element, shape, value)
    elif isinstance(shape, MapShape):
        for key, item in value.items():
            entry = ElementTree.SubElement(element, "entry")
            _encode(entry, _name(shape.key, "key"), shape.key, key)
            _encode(entry, _name(shape.value, "value"), shape.value, item)
    else:
        element.text = _text(shape, value)


def _members(element: ElementTree.Element, shape: StructureShape, value: dict[str, Any]) -> None:
    for member, member_shape in shape.members.items():
        if value.get(member) is not None:
            _encode(element, _name(member_shape, member), member_shape, value[member])


def encode(operation: OperationModel, result: dict[str, Any], request_id: str) -> bytes:
    root = ElementTree.Element(f"{operation.name}Response", xmlns=operation.metadata["xmlNamespace"])
    output = operation.output_shape
    if isinstance(output, StructureShape):
        wrapper = ElementTree.SubElement(root, output.serialization.get("resultWrapper", f"{operation.name}Result"))
        _members(wrapper, output, result)
    metadata = ElementTree.SubElement(root, "ResponseMetadata")
    ElementTree.SubElement(metadata, "RequestId").text = request_id
    return bytes(ElementTree.tostring(root, encoding="utf-8", xml_declaration=True))


def encode_error(code: str, message: str, request_id: str, namespace: str, fault: str = "Sender") -> bytes:
    root = ElementTree.Element("ErrorResponse", xmlns=namespace)
    error = ElementTree.SubElement(root, "Error")
    ElementTree.SubElement(error, "Type").text = fault
    ElementTree.SubElement(error, "Code").text = code
    ElementTree.SubElement(error, "Message").text = message
    ElementTree.SubElement(root, "RequestId").text = request_id
    return bytes(ElementTree.tostring(root, encoding="utf-8", xml_declaration=True))
