"""Subset filters of service-resolver entries: the part of Consul's filter language we translate.

A subset picks instances by their registration (MESH.md §2: tags `vidmesh`, `v<version>`,
metadata `version`, `proto_package`, `hostname`). A filter is one or more clauses joined by
`and`, each one of

    Service.Meta.<key> == "<value>"      Service.Meta.<key> != "<value>"
    "<tag>" in Service.Tags              Service.Tags contains "<tag>"

Values may be quoted or bare words. Anything else (`or`, `not`, `matches`, other selectors) is
refused: the control plane evaluates subsets itself, and a filter it half understood would
route calls where nobody meant them to go.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass


class FilterError(ValueError):
    """A filter outside the translated language; the message says which part."""


_VALUE = r'(?:"(?P<{0}>[^"]*)"|(?P<{0}_bare>[\w.\-]+))'
_META = re.compile(r"Service\.Meta\.(?P<key>[\w\-]+)\s*(?P<op>==|!=)\s*" + _VALUE.format("value"))
_TAG_IN = re.compile(_VALUE.format("tag") + r"\s+in\s+Service\.Tags")
_TAG_CONTAINS = re.compile(r"Service\.Tags\s+contains\s+" + _VALUE.format("tag"))


@dataclass(frozen=True)
class Labels:
    """What a filter looks at in one instance: its Consul metadata and tags."""

    meta: Mapping[str, str]
    tags: frozenset[str]


@dataclass(frozen=True)
class Clause:
    """One comparison: a metadata key equal (or not) to a value, or a tag present."""

    key: str | None  # None: a tag clause
    value: str
    equal: bool = True

    def holds(self, labels: Labels) -> bool:
        if self.key is None:
            return self.value in labels.tags
        return (labels.meta.get(self.key) == self.value) == self.equal


@dataclass(frozen=True)
class Filter:
    """Clauses that must all hold; the text they came from, for logs."""

    text: str
    clauses: tuple[Clause, ...]

    def matches(self, labels: Labels) -> bool:
        """Whether an instance with these labels is in the subset."""
        return all(clause.holds(labels) for clause in self.clauses)


def _value(found: re.Match[str], name: str) -> str:
    quoted = found.group(name)
    return quoted if quoted is not None else found.group(f"{name}_bare")


def _clause(text: str) -> Clause:
    if found := _META.fullmatch(text):
        return Clause(found.group("key"), _value(found, "value"), equal=found.group("op") == "==")
    if found := (_TAG_IN.fullmatch(text) or _TAG_CONTAINS.fullmatch(text)):
        return Clause(None, _value(found, "tag"))
    raise FilterError(f"{text!r} is not a clause the control plane translates: use "
                      'Service.Meta.<key> == "<value>", != , or "<tag>" in Service.Tags')


def parse(text: str) -> Filter:
    """The filter of `text`; FilterError says what is not translated."""
    parts = [part.strip() for part in re.split(r"\s+and\s+", text.strip())]
    if not text.strip() or not all(parts):
        raise FilterError(f"{text!r} is empty or has an empty clause")
    return Filter(text, tuple(_clause(part) for part in parts))
