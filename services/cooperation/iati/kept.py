"""An imported ``iati-activity`` kept as the publisher sent it, and merged back at export.

The service models part of an activity as columns (what the matrix, the filters and the
API edit); the rest is kept in the activity's XML as received (``kept_activities``). The
export then writes one element from three:

- ``generated``: the activity as its columns give it now;
- ``projected``: the activity as the same columns gave it right after the import (the kept
  XML read through the model again);
- ``original``: the kept XML.

Wherever ``generated`` and ``projected`` agree, nothing was edited there, and the original
is written as it came (every attribute, narrative and child the model does not hold).
Where they differ, an edit did it: the edited element is the original with the modelled
attributes, texts and children the edit changed replaced, element by element, so that an
edit changes only what it touches. Unmodelled elements are never touched. Children keep
the schema order: the order of the original, with elements it did not have placed as the
generated element places them (both follow the 2.03 sequence).

Pure lxml, no database.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from io import BytesIO
from typing import Any

from lxml import etree

from ._xml_read import XML_LANG

__all__ = [
    "kept_activities",
    "kept_element",
    "kept_tags",
    "merge_activity",
    "read_kept",
    "same_activity",
]

STAMP = "last-updated-datetime"
Align = Callable[[list[Any], list[Any], "_Context"], dict[int, int]]


def _tidy(element: Any) -> Any:
    """``element`` without comments, processing instructions and indentation (white space
    around child elements); the text of leaf elements is left as it is."""
    for node in list(element.iter(etree.Comment, etree.ProcessingInstruction)):
        parent = node.getparent()
        if parent is None:
            continue
        # Keep the text that followed the node.
        if node.tail and node.tail.strip():
            previous = node.getprevious()
            if previous is not None:
                previous.tail = (previous.tail or "") + node.tail
            else:
                parent.text = (parent.text or "") + node.tail
        parent.remove(node)
    for node in element.iter():
        if len(node) and node.text is not None and not node.text.strip():
            node.text = None
        if node.tail is not None and not node.tail.strip():
            node.tail = None
    element.tail = None
    return element


def kept_element(element: Any) -> str:
    """The text an activity element is kept as: itself, tidied (``_tidy``)."""
    tidy = _tidy(copy.deepcopy(element))
    text: str = etree.tostring(tidy, encoding="unicode")
    return text


def kept_activities(xml: bytes) -> Iterator[tuple[int, str]]:
    """The source line and kept text of each ``iati-activity`` of a document, in order."""
    events = etree.iterparse(
        BytesIO(xml),
        events=("end",),
        tag="iati-activity",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )
    for _event, element in events:
        yield element.sourceline or 0, kept_element(element)
        element.clear()
        parent = element.getparent()
        while parent is not None and element.getprevious() is not None:
            del parent[0]


def read_kept(text: str) -> Any:
    """A kept activity as an element again."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(text.encode(), parser)


def recipients(kept: str | None) -> tuple[str, str]:
    """The recipient country and region codes of a kept activity, each space-separated
    (``("AF AG", "489")``): the activity's, else those of its transactions; an activity
    entered here (nothing kept) is Peru's."""
    if kept is None:
        return "PE", ""
    element = read_kept(kept)
    countries, regions = _codes(element, "recipient-country"), _codes(element, "recipient-region")
    if not countries and not regions:  # declared on each transaction instead (IATI 3.6.2)
        countries = _codes(element, "transaction/recipient-country")
        regions = _codes(element, "transaction/recipient-region")
    return countries, regions


def _codes(element: Any, path: str) -> str:
    found = (c.get("code", "").strip() for c in element.xpath(path))
    return " ".join(dict.fromkeys(code for code in found if code))


def kept_tags(element: Any, modelled: set[str]) -> list[str]:
    """The children of an activity that are kept as sent only (not in ``modelled``)."""
    seen: dict[str, None] = {}
    for child in element.iterchildren(tag=etree.Element):
        if child.tag not in modelled:
            # An extension in its own namespace as the file names it (``usg:treasury-account``).
            name = etree.QName(child).localname
            seen[f"{child.prefix}:{name}" if child.prefix else str(child.tag)] = None
    return list(seen)


def same_activity(a: str, b: str) -> bool:
    """Whether two kept activities are the same but for ``last-updated-datetime``."""
    one, other = read_kept(a), read_kept(b)
    for element in (one, other):
        element.attrib.pop(STAMP, None)
    return _canon(one) == _canon(other)


class _Context:
    """The default narrative languages of the original and of the generated activity."""

    def __init__(self, original: Any, generated: Any) -> None:
        self.original_lang = original.get(XML_LANG) or "en"
        self.generated_lang = generated.get(XML_LANG) or "en"

    def lang(self, narrative: Any, *, generated: bool) -> str:
        default = self.generated_lang if generated else self.original_lang
        return str(narrative.get(XML_LANG) or default)


def _canon(element: Any) -> bytes:
    data: bytes = etree.tostring(element, encoding="UTF-8")
    return data


def merge_activity(generated: Any, projected: Any, original: Any) -> Any:
    """The activity to export (see the module docstring); a new element."""
    context = _Context(original, generated)
    if _same_but_stamp(generated, projected):
        return copy.deepcopy(original)
    merged = _merge(generated, projected, original, context)
    if generated.get(STAMP) is not None:
        merged.set(STAMP, generated.get(STAMP))
    return merged


def _same_but_stamp(generated: Any, projected: Any) -> bool:
    a, b = copy.copy(generated), copy.copy(projected)
    for element in (a, b):
        element.attrib.pop(STAMP, None)
    return _canon(a) == _canon(b)


def _merge(generated: Any, projected: Any, original: Any, context: _Context) -> Any:
    """``original`` with what differs between ``projected`` and ``generated`` set as
    ``generated`` has it: attributes, text, and children group by group."""
    out = etree.Element(original.tag, attrib=dict(original.attrib), nsmap=original.nsmap)
    for name in {*generated.attrib, *projected.attrib} - {STAMP}:
        if generated.get(name) != projected.get(name):
            if generated.get(name) is None:
                out.attrib.pop(name, None)
            else:
                out.set(name, generated.get(name))
    out.text = original.text
    if len(generated) == 0 and len(projected) == 0 and generated.text != projected.text:
        out.text = generated.text
    for tag in _tag_order(original, generated):
        for child in _group(tag, generated, projected, original, context):
            out.append(child)
    return out


def _tags(element: Any) -> list[str]:
    seen: dict[str, None] = {}
    for child in element.iterchildren(tag=etree.Element):
        seen[str(child.tag)] = None
    return list(seen)


def _tag_order(original: Any, generated: Any) -> list[str]:
    """The original's child tags in its order, with the generated element's other tags
    inserted after the tag that precedes them there (both orders follow the schema)."""
    order = _tags(original)
    previous: str | None = None
    for tag in _tags(generated):
        if tag not in order:
            at = order.index(previous) + 1 if previous is not None else 0
            order.insert(at, tag)
        previous = tag
    return order


def _children(element: Any, tag: str) -> list[Any]:
    return list(element.iterchildren(tag=tag))


def _group(tag: str, generated: Any, projected: Any, original: Any, context: _Context) -> list[Any]:
    """The children ``tag`` of the merged element (see ``_merge``)."""
    g, p, o = (_children(e, tag) for e in (generated, projected, original))
    if [_canon(x) for x in g] == [_canon(x) for x in p]:
        return [copy.deepcopy(x) for x in o]
    pairs = ALIGN.get(tag, _by_index)(p, o, context)  # original index -> projected index
    canon_p = [_canon(x) for x in p]
    kept: set[int] = set()  # projected items a generated one still equals
    new: list[int] = []
    for i, item in enumerate(g):
        found = _equal(canon_p, _canon(item), kept, prefer=i)
        if found is None:
            new.append(i)
        else:
            kept.add(found)
    edits: dict[int, int] = {}  # projected index -> generated index, same position
    if len(g) == len(p):
        read = set(pairs.values())  # projected items read from an original one
        edits = {i: i for i in new if i not in kept and i in read}
        new = [i for i in new if i not in edits]
    out = []
    for j, item in enumerate(o):
        k = pairs.get(j)
        if k is None or k in kept:
            out.append(copy.deepcopy(item))  # not modelled, or modelled and unchanged
        elif k in edits:
            out.append(_merge(g[edits[k]], p[k], item, context))
        # else: removed by an edit
    out += [_labelled(copy.deepcopy(g[i]), context) for i in new]
    return out


def _equal(canon: list[bytes], value: bytes, taken: set[int], *, prefer: int) -> int | None:
    if prefer < len(canon) and prefer not in taken and canon[prefer] == value:
        return prefer
    return next((k for k, c in enumerate(canon) if k not in taken and c == value), None)


def _labelled(element: Any, context: _Context) -> Any:
    """A generated element placed in the original: its narratives keep their language
    when the two activities' default languages differ."""
    if context.original_lang != context.generated_lang:
        for narrative in element.iter("narrative"):
            if narrative.get(XML_LANG) is None:
                narrative.set(XML_LANG, context.generated_lang)
    return element


def _by_index(p: list[Any], o: list[Any], _context: _Context) -> dict[int, int]:
    """Projected and original elements in order: one per element, or the model read the
    first only (a period's first target, of several)."""
    return {j: j for j in range(min(len(p), len(o)))}


def _by_key(key: Callable[[Any], Any]) -> Align:
    def align(p: list[Any], o: list[Any], _context: _Context) -> dict[int, int]:
        free = {k: key(x) for k, x in enumerate(p)}
        pairs = {}
        for j, item in enumerate(o):
            found = next((k for k, v in free.items() if v == key(item)), None)
            if found is not None:
                pairs[j] = found
                del free[found]
        return pairs

    return align


def _narratives(p: list[Any], o: list[Any], context: _Context) -> dict[int, int]:
    """Each projected narrative with the original one the model read it from: by language
    (the last of a language wins, as when read); one without a language (a name) is the
    original's in its default language, else its first; the model's English may be the
    first language that is not Spanish."""
    languages = [context.lang(x, generated=False) for x in o]
    pairs: dict[int, int] = {}
    for k, item in enumerate(p):
        if item.get(XML_LANG) is None:
            wanted = context.original_lang
            candidates = [j for j, lang in enumerate(languages) if lang == wanted] or [0]
        else:
            wanted = str(item.get(XML_LANG))
            candidates = [j for j, lang in enumerate(languages) if lang == wanted]
            others = [lang for lang in languages if lang != "es"]
            if not candidates and wanted == "en" and others:
                candidates = [j for j, lang in enumerate(languages) if lang == others[0]]
        found = next((j for j in reversed(candidates) if j < len(o) and j not in pairs), None)
        if found is not None:
            pairs[found] = k
    return pairs


def _descriptions(p: list[Any], o: list[Any], context: _Context) -> dict[int, int]:
    """The general description (type 1 or none, read as one) and the others in order."""
    if not any(x.get("type") for x in p):  # a transaction's, a result's ...: no types
        return _by_index(p, o, context)
    general = [j for j, x in enumerate(o) if x.get("type") in (None, "1")]
    others = [j for j, x in enumerate(o) if x.get("type") not in (None, "1")]
    p_general = [k for k, x in enumerate(p) if x.get("type") == "1"]
    p_others = [k for k, x in enumerate(p) if x.get("type") != "1"]
    pairs = dict(zip(general[:1], p_general, strict=False))
    if len(others) == len(p_others):
        pairs |= dict(zip(others, p_others, strict=True))
    return pairs


def _date_key(x: Any) -> tuple[str | None, str]:
    return x.get("type"), (x.get("iso-date") or "").strip()[:10]


ALIGN: dict[str, Align] = {
    "narrative": _narratives,
    "description": _descriptions,
    "activity-date": _by_key(_date_key),
    "tag": _by_key(lambda x: (x.get("vocabulary"), x.get("code"))),
    # The model's one link is to the work program; the publisher's others are its own.
    "related-activity": _by_key(lambda x: (x.get("ref"), x.get("type"))),
}
