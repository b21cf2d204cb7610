"""Turn Json.NET-style iSAMS Batch JSON into plain records.

iSAMS serves its XML converted by Json.NET (reference ``isams-api.md`` 1.3), so the same dataset can come
back in several shapes: one item as an object instead of a list, an empty collection as ``null``, the
collection itself occasionally as a list, attributes as ``@X`` and attribute-plus-text elements as
``{"@Legacy": "True", "#text": ...}``. This module absorbs those shapes and does *structural*
normalisation only; names and types are the job of dbt staging.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from ingestion.isams.datasets import BatchDataset

Json = Any


def _as_list(value: Json) -> list[Json]:
    """Json.NET renders one repeated child as an object and none as null; always give a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def items(doc: dict, dataset: BatchDataset) -> list[dict]:
    """The raw items of ``dataset`` in a Batch document, ``[]`` when its manager or collection is absent."""
    manager, collection, item = dataset.path
    root = doc.get("iSAMS") if isinstance(doc, dict) else None
    out: list[dict] = []
    for mgr in _as_list(root.get(manager) if isinstance(root, dict) else None):
        if not isinstance(mgr, dict):
            continue
        # U1 quirk: the collection node itself may be a list; merge the items of each element.
        for coll in _as_list(mgr.get(collection)):
            if isinstance(coll, dict):
                out.extend(i for i in _as_list(coll.get(item)) if isinstance(i, dict))
    return out


def _is_legacy(value: Json) -> bool:
    return isinstance(value, dict) and str(value.get("@Legacy", "")).lower() == "true"


def _children(value: dict) -> list[str]:
    return [k for k in value if not k.startswith("@") and k != "#text"]


def _is_wrapper(value: Json) -> bool:
    """``Roles: {"Role": [...]}``: one child element holding an object or a list of objects."""
    if not isinstance(value, dict) or "#text" in value:
        return False
    kids = _children(value)
    if len(kids) != 1:
        return False
    inner = value[kids[0]]
    return isinstance(inner, dict) or (
        isinstance(inner, list) and bool(inner) and all(isinstance(i, dict) for i in inner)
    )


def _is_text_element(value: Json) -> bool:
    """An element with attributes and (possibly empty) text, but no child elements."""
    return isinstance(value, dict) and not _children(value)


def flatten(item: dict) -> dict:
    """Flatten one Batch item: attributes to plain keys, legacy/text elements to columns, wrappers to lists.

    Leaves stay strings/None; unknown fields pass through with the same rules.
    """
    out: dict[str, Json] = {k[1:]: v for k, v in item.items() if k.startswith("@")}
    attrs = set(out)
    if "#text" in item:  # an item with text of its own (rare): keep it rather than drop data
        out["text"] = item["#text"]
    for name in _children(item):
        value = item[name]
        # the attribute keeps the plain name (it is the newer, id-bearing form); the element yields
        key = f"{name}_element" if name in attrs else name
        if _is_legacy(value):
            out[f"{name}_legacy"] = value.get("#text")
            for attr, attr_value in value.items():
                if attr.startswith("@") and attr != "@Legacy":
                    out[f"{name}_legacy_{attr[1:]}"] = attr_value
        elif _is_text_element(value):
            out[key] = value.get("#text")
            for attr, attr_value in value.items():
                if attr.startswith("@"):
                    out[f"{key}_{attr[1:]}"] = attr_value
        elif _is_wrapper(value):
            inner = value[_children(value)[0]]
            out[key] = [flatten(i) for i in _as_list(inner)]
            for attr, attr_value in value.items():
                if attr.startswith("@"):
                    out[f"{key}_{attr[1:]}"] = attr_value
        elif isinstance(value, dict):
            out[key] = flatten(value)  # e.g. Address: dlt turns it into address__* columns
        elif isinstance(value, list):  # a repeated child directly under the item
            out[key] = [flatten(v) if isinstance(v, dict) else v for v in value]
        else:
            out[key] = value
    return out


def parse_error_body(body: str | bytes) -> tuple[str | None, str | None, str | None]:
    """(MessageId, Title, Description) of an iSAMS XML error body; all None if it is not one."""
    if isinstance(body, bytes):
        for encoding in ("utf-8-sig", "utf-16"):
            try:
                body = body.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            return None, None, None
    text = body.strip().lstrip("\ufeff")
    if text.startswith("<?xml"):  # ElementTree refuses a str whose declaration says utf-16
        text = text.split("?>", 1)[1]
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None, None, None
    if root.tag != "Message":
        return None, None, None

    def field(tag: str) -> str | None:
        node = root.find(tag)
        return node.text.strip() if node is not None and node.text else None

    return field("MessageId"), field("Title"), field("Description")
