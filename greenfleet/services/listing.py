"""Filtering, sorting and NextToken pagination shared by the List* operations."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from greenfleet.errors import ValidationError
from greenfleet.metrics.timestamps import parse_time

Item = dict[str, Any]


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def decode_token(token: str) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["o"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationError(f"Invalid NextToken '{token}'") from exc
    if not isinstance(offset, int) or offset < 0:
        raise ValidationError(f"Invalid NextToken '{token}'")
    return offset


def page(
    items: list[Item],
    params: dict[str, Any],
    name_key: str,
    sort_keys: dict[str, Callable[[Item], Any]],
    default_sort: str = "CreationTime",
    extra_filter: Callable[[Item], bool] | None = None,
) -> tuple[list[Item], str | None]:
    """Apply SageMaker's List* filters (NameContains, Creation/LastModifiedTime Before/After),
    SortBy/SortOrder (default CreationTime Descending), MaxResults (default 10) and NextToken."""
    contains = params.get("NameContains")
    if contains:
        items = [i for i in items if contains.lower() in i[name_key].lower()]
    for field, key in (("CreationTime", "CreationTime"), ("LastModifiedTime", "LastModifiedTime")):
        before, after = params.get(f"{field}Before"), params.get(f"{field}After")
        if before is not None:
            items = [i for i in items if i.get(key, 0) < parse_time(before, f"{field}Before")]
        if after is not None:
            items = [i for i in items if i.get(key, 0) > parse_time(after, f"{field}After")]
    if extra_filter is not None:
        items = [i for i in items if extra_filter(i)]
    sort_by = params.get("SortBy", default_sort)
    if sort_by not in sort_keys:
        raise ValidationError(f"SortBy must be one of {', '.join(sort_keys)}; got '{sort_by}'")
    descending = params.get("SortOrder", "Descending") == "Descending"
    items = sorted(items, key=sort_keys[sort_by], reverse=descending)
    offset = decode_token(params["NextToken"]) if params.get("NextToken") else 0
    limit = int(params.get("MaxResults", 10))
    chunk = items[offset : offset + limit]
    more = offset + limit < len(items)
    return chunk, encode_token(offset + limit) if more else None
