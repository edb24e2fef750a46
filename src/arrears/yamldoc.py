"""YAML documents checked by a Pydantic model, with errors that name the file, line and field.

Policies (collection stages, contact rules, reminders) are YAML files a lender edits by hand, so a
mistake must point at its line: `lender.yaml:23: field 字段 stages.1.max_dpd (value 'thirty'): …`.
The loader keeps the line of every mapping key and sequence item; the model sees plain data.
"""

from __future__ import annotations

from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


class _LineLoader(yaml.SafeLoader):
    """Keeps the line of every mapping key (as `__lines__`) for error messages."""


class _Lines(list):  # type: ignore[type-arg]
    """A list that remembers the line of each item."""

    def __init__(self, items: list[Any], lines: list[int]) -> None:
        super().__init__(items)
        self.lines = lines


def _mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__lines__"] = {
        k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)
    }
    return mapping


def _sequence(loader: _LineLoader, node: yaml.SequenceNode) -> list[Any]:
    items = loader.construct_sequence(node, deep=True)
    return _Lines(items, [n.start_mark.line + 1 for n in node.value])


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def load_with_lines(text: str) -> Any:
    """The YAML document with line numbers kept (raises `yaml.YAMLError`)."""
    return yaml.load(text, Loader=_LineLoader)


def plain(value: Any) -> Any:
    """The document without its line bookkeeping."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "__lines__"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def line_of(raw: Any, loc: tuple[Any, ...]) -> int | None:
    """The line of the deepest part of `loc` (a Pydantic error location) found in `raw`."""
    line, node = None, raw
    for part in loc:
        if isinstance(node, dict) and part in node:
            line = node.get("__lines__", {}).get(part, line)
            node = node[part]
        elif isinstance(node, _Lines) and isinstance(part, int) and part < len(node):
            line = node.lines[part]
            node = node[part]
        else:
            break
    return line


def parse_document(
    text: str,
    source: str,
    model: type[Model],
    error: type[Exception],
    *,
    top: str = "a mapping at the top (顶层须为映射)",
    what: str = "",
) -> Model:
    """`text` (from `source`) validated by `model`; any problem raises `error` naming the file,
    line, field and value. `what` (e.g. "(联系策略无效)") ends the message."""
    try:
        raw = load_with_lines(text)
    except yaml.YAMLError as exc:
        raise error(f"{source}: not valid YAML 格式错误: {exc}") from None
    if not isinstance(raw, dict):
        raise error(f"{source}: expected {top}")
    try:
        return model.model_validate(plain(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(p for p in first["loc"] if not str(p).startswith("function-"))
        line = line_of(raw, loc)
        where = f"{source}:{line}" if line else source
        field = ".".join(str(p) for p in loc) or "(document)"
        value = first.get("input")
        shown = "" if isinstance(value, dict | list) else f" (value {value!r})"
        tail = f" {what}" if what else ""
        raise error(f"{where}: field 字段 {field}{shown}: {first['msg']}{tail}") from None
