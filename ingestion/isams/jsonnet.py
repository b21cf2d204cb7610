"""XML <-> Json.NET-style JSON, the way iSAMS turns its XML into ``json.ashx`` output.

iSAMS builds its JSON by converting its XML with Json.NET (reference section 1.3), which gives:
- attributes as ``"@Name"``; an element with attributes *and* text puts the text under ``"#text"``;
- every leaf is a string; an empty element is ``null``;
- a repeated child seen once is a single object, seen twice or more it is a list.

The sandbox renders *element dicts* (the same shape, except that repeated children are always lists) to
XML with :func:`to_xml`, then to JSON with :func:`xml_to_jsonnet`, so its JSON has exactly these quirks; for a
JSON request it skips the XML text with :func:`to_jsonnet`, which gives the same result without it (proved
against the round trip on the whole sandbox in the tests) and hands anything it cannot prove back. Tests use :func:`xml_to_jsonnet` to turn the real sample XML responses into the JSON iSAMS would send.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any
from xml.sax.saxutils import escape, quoteattr

Json = Any


def _element_to_jsonnet(el: ET.Element) -> Json:
    children = list(el)
    text = el.text if el.text is not None and (el.text.strip() or not children) else None
    if not el.attrib and not children:
        return text if text not in (None, "") else None
    out: dict[str, Json] = {f"@{k}": v for k, v in el.attrib.items()}
    grouped: dict[str, list[Json]] = {}
    for child in children:
        grouped.setdefault(child.tag, []).append(_element_to_jsonnet(child))
    for tag, values in grouped.items():
        out[tag] = values[0] if len(values) == 1 else values  # Json.NET: one child is an object
    if text not in (None, ""):
        out["#text"] = text
    return out


def xml_to_jsonnet(xml_text: str | bytes) -> dict[str, Json]:
    """Convert one XML document to the Json.NET-style dict iSAMS serves from ``json.ashx``."""
    if isinstance(xml_text, str):
        # ElementTree refuses a str with an encoding declaration ("utf-16" in iSAMS error bodies).
        xml_text = xml_text.encode("utf-8") if not xml_text.lstrip().startswith("<?xml") else (
            xml_text.split("?>", 1)[1].encode("utf-8")
        )
    root = ET.fromstring(xml_text)
    return {root.tag: _element_to_jsonnet(root)}


def to_xml(tag: str, value: Json, indent: str = "") -> str:
    """Render an element dict (repeated children as lists) as XML text."""
    if isinstance(value, list):
        return "".join(to_xml(tag, item, indent) for item in value)
    if value is None:
        return f"{indent}<{tag}/>\n"
    if not isinstance(value, dict):
        return f"{indent}<{tag}>{escape(str(value))}</{tag}>\n"
    attrs = "".join(f" {k[1:]}={quoteattr(str(v))}" for k, v in value.items() if k.startswith("@") and v is not None)
    text = value.get("#text")
    children = [(k, v) for k, v in value.items() if not k.startswith("@") and k != "#text"]
    if not children:
        if text is None:
            return f"{indent}<{tag}{attrs}/>\n"
        return f"{indent}<{tag}{attrs}>{escape(str(text))}</{tag}>\n"
    inner = "".join(to_xml(k, v, indent + "  ") for k, v in children)
    return f"{indent}<{tag}{attrs}>\n{inner}{indent}</{tag}>\n"


class _Unsure(Exception):
    """A value whose XML round trip :func:`to_jsonnet` does not reproduce: let the round trip decide."""


# XML turns \r into \n and refuses the other control characters: only the round trip knows what comes back
_NOT_XML_SAFE = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    if _NOT_XML_SAFE.search(text):
        raise _Unsure
    return text


def _direct(value: Json) -> Json:
    if value is None:
        return None
    if not isinstance(value, dict):
        text = _xml_safe(str(value))
        return text if text != "" else None
    out: dict[str, Json] = {k: _xml_safe(str(v)) for k, v in value.items() if k.startswith("@") and v is not None}
    children = [(k, v) for k, v in value.items() if not k.startswith("@") and k != "#text"]
    if not children:
        text = value.get("#text")
        text = None if text is None else _xml_safe(str(text))
        if not out:
            return text if text not in (None, "") else None
        if text not in (None, ""):
            out["#text"] = text
        return out
    for key, child in children:  # a dict's keys are distinct, so each is one group of same-named children
        if isinstance(child, list):
            if not child:
                raise _Unsure  # no element at all: the parent's whitespace becomes its text
            out[key] = _direct(child[0]) if len(child) == 1 else [_direct(c) for c in child]
        else:
            out[key] = _direct(child)
    return out


def to_jsonnet(tag: str, value: Json) -> dict[str, Json]:
    """``xml_to_jsonnet(to_xml(tag, value))`` for one element dict, built without the XML text (~6x faster)."""
    if not isinstance(value, list):
        try:
            return {tag: _direct(value)}
        except _Unsure:
            pass
    return xml_to_jsonnet(to_xml(tag, value))
