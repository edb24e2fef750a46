"""The product catalog: the shipped defaults plus a lender's own file, validated on load.

Errors name the file, the product and the field (with the YAML line where it can be found), so a
mistake in a lender's catalog is found before any loan is touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from arrears.loans.product import Product

DEFAULT_CATALOG = "products.yaml"


class CatalogError(ValueError):
    """A catalog file that cannot be used, with the place and reason."""


class UnknownProduct(KeyError):
    def __init__(self, code: str, known: list[str]) -> None:
        super().__init__(code)
        self.code = code
        self.known = known

    def __str__(self) -> str:
        return f"unknown product {self.code!r} (known: {', '.join(self.known)})"


@dataclass(frozen=True)
class Catalog:
    products: Mapping[str, Product]
    sources: tuple[str, ...]

    def get(self, code: str) -> Product:
        try:
            return self.products[code]
        except KeyError:
            raise UnknownProduct(code, sorted(self.products)) from None

    def __contains__(self, code: object) -> bool:
        return code in self.products


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that remembers the line of each mapping key, for error messages."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    lines = {
        key_node.value: key_node.start_mark.line + 1
        for key_node, _ in node.value
        if isinstance(key_node, yaml.ScalarNode)
    }
    mapping["__lines__"] = lines
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _strip_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_lines(v) for k, v in value.items() if k != "__lines__"}
    if isinstance(value, list):
        return [_strip_lines(v) for v in value]
    return value


def _line_of(raw: dict[str, Any], code: str, loc: tuple[Any, ...]) -> int | None:
    node: Any = raw["products"][code]
    line = raw["products"]["__lines__"].get(code)
    for part in loc:
        if isinstance(node, dict) and part in node:
            line = node.get("__lines__", {}).get(part, line)
            node = node[part]
        else:
            break
    return line


def parse_catalog(text: str, source: str) -> dict[str, Product]:
    """Products defined in one YAML document; raises CatalogError naming file, line and field."""
    try:
        raw = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("products"), dict):
        raise CatalogError(f"{source}: expected a top-level 'products:' mapping")
    products: dict[str, Product] = {}
    for code, body in raw["products"].items():
        if code == "__lines__":
            continue
        if not isinstance(body, dict):
            raise CatalogError(f"{source}: product {code!r} must be a mapping")
        try:
            products[code] = Product.model_validate({"code": code, **_strip_lines(body)})
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = tuple(first["loc"])
            line = _line_of(raw, code, loc)
            where = f"{source}:{line}" if line else source
            field = ".".join(str(p) for p in loc) or "(product)"
            raise CatalogError(
                f"{where}: product {code!r}, field {field}: {first['msg']}"
            ) from None
    return products


def load_catalog(extra: Path | None = None) -> Catalog:
    """The shipped catalog, with the products of `extra` (if given) added or replacing."""
    text = resources.files("arrears.catalog").joinpath(DEFAULT_CATALOG).read_text(encoding="utf-8")
    products = parse_catalog(text, f"arrears/catalog/{DEFAULT_CATALOG}")
    sources = [f"arrears/catalog/{DEFAULT_CATALOG}"]
    if extra is not None:
        try:
            own = extra.read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogError(f"{extra}: cannot read product catalog: {exc.strerror}") from None
        products.update(parse_catalog(own, str(extra)))
        sources.append(str(extra))
    return Catalog(products=products, sources=tuple(sources))
