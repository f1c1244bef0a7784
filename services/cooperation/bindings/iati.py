"""Inventory-fed actuals in the IATI export: the period's ``<actual value="...">`` gets a
``<comment>`` naming the source metric, its scope, when it was read and the submissions
(2.03 lets an actual carry one comment, after its locations and dimensions and before its
document links)."""

from __future__ import annotations

from typing import Any

from lxml import etree

from services.cooperation.bindings.models import IndicatorBinding
from services.cooperation.bindings.service import comment_text, source_of


def annotate(element: Any, bindings: list[IndicatorBinding]) -> Any:
    """``element`` (an ``iati-activity``) with a comment on each actual read from the
    inventory."""
    results = element.findall("result")
    for binding in bindings:
        if binding.result_index >= len(results):
            continue
        indicators = results[binding.result_index].findall("indicator")
        if binding.indicator_index >= len(indicators):
            continue
        for period in indicators[binding.indicator_index].findall("period"):
            actual, end = period.find("actual"), period.find("period-end")
            if actual is None or end is None or actual.find("comment") is not None:
                continue
            year = (end.get("iso-date") or "")[:4]
            if not year.isdigit():
                continue
            source = source_of(binding, int(year))
            if source.status != "ok" or source.value != actual.get("value"):
                continue
            comment = etree.Element("comment")
            etree.SubElement(comment, "narrative").text = comment_text(source)
            links = actual.findall("document-link")
            if links:
                links[0].addprevious(comment)
            else:
                actual.append(comment)
    return element
