"""The annotation schema: layers, entity types, relation types, sector categories.

The schema is data (``inference/schema.yaml``, the one real file;
``configs/schema.yaml`` is a link to it, and a copy lives inside every
checkpoint's config), so a user who extends the guide edits YAML, not code.
A layer's ``tag_by`` says what its BIO tags name: its types (the default) or,
for ``tag_by: category`` (the sector layer), its entities' categories.

>>> s = Schema.default()
>>> s.layer_of("ROLE")
'role'
>>> s.allowed("said_by", "QUOTE", "PER")
True
>>> s.by_category("sector"), s.has_categories("SECTOR"), s.has_categories("PER")
(True, True, False)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_DEFAULT_PATH = Path(__file__).with_name("schema.yaml")
TAG_BY = ("type", "category")
# Schemas written before ``tag_by`` existed (guide 1.0 checkpoints) tagged the sector layer by category.
_LEGACY_TAG_BY = {"sector": "category"}


@dataclass(frozen=True)
class RelationType:
    name: str
    head: tuple[str, ...]
    tail: tuple[str, ...]
    max_per_head: int | None = None


@dataclass
class Schema:
    layers: dict[str, list[str]]
    relations: dict[str, RelationType]
    sector_categories: list[str]
    guide_version: str = "1.0"
    tag_by: dict[str, str] = field(default_factory=dict)  # layer → "type" (default) or "category"
    _type_to_layer: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for layer, types in self.layers.items():
            for t in types:
                if t in self._type_to_layer:
                    raise ValueError(f"schema: type {t} is declared in two layers")
                self._type_to_layer[t] = layer
        for layer, how in self.tag_by.items():
            if layer not in self.layers:
                raise ValueError(f"schema: tag_by names unknown layer {layer!r} (layers: {', '.join(self.layers)})")
            if how not in TAG_BY:
                raise ValueError(f"schema: tag_by of layer {layer!r} is {how!r}, not one of {', '.join(TAG_BY)}")
            if how == "category" and len(self.layers[layer]) != 1:
                raise ValueError(f"schema: layer {layer!r} is tagged by category, so it holds exactly one type")

    # -- construction -------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Schema":
        rels = {
            name: RelationType(name, tuple(r["head"]), tuple(r["tail"]), r.get("max_per_head"))
            for name, r in d["relations"].items()
        }
        return cls(
            layers={k: list(v) for k, v in d["layers"].items()},
            relations=rels,
            sector_categories=list(d["sector_categories"]),
            guide_version=str(d.get("guide_version", "1.0")),
            tag_by=dict(d["tag_by"]) if "tag_by" in d
            else {k: v for k, v in _LEGACY_TAG_BY.items() if k in d["layers"]},
        )

    @classmethod
    def from_yaml(cls, path: str | Path) -> "Schema":
        import yaml

        with open(path, encoding="utf-8") as f:
            return cls.from_dict(yaml.safe_load(f))

    @classmethod
    def default(cls) -> "Schema":
        """The schema of ANNOTATION.md as shipped with goftar."""
        return cls.from_yaml(_DEFAULT_PATH)

    def to_dict(self) -> dict[str, Any]:
        return {
            "guide_version": self.guide_version,
            "layers": {k: list(v) for k, v in self.layers.items()},
            "relations": {
                r.name: {"head": list(r.head), "tail": list(r.tail), **({"max_per_head": r.max_per_head} if r.max_per_head else {})}
                for r in self.relations.values()
            },
            "sector_categories": list(self.sector_categories),
            "tag_by": dict(self.tag_by),
        }

    # -- queries ------------------------------------------------------
    @property
    def entity_types(self) -> list[str]:
        return [t for types in self.layers.values() for t in types]

    def layer_of(self, entity_type: str) -> str | None:
        return self._type_to_layer.get(entity_type)

    def allowed(self, relation: str, head_type: str, tail_type: str) -> bool:
        r = self.relations.get(relation)
        return r is not None and head_type in r.head and tail_type in r.tail

    def relations_for(self, head_type: str, tail_type: str) -> list[str]:
        return [r.name for r in self.relations.values() if head_type in r.head and tail_type in r.tail]

    def by_category(self, layer: str) -> bool:
        """True when the layer's BIO tags name categories (``tag_by: category``), not types."""
        return self.tag_by.get(layer, "type") == "category"

    def has_categories(self, entity_type: str) -> bool:
        """True when entities of this type carry a category (their layer is tagged by category)."""
        layer = self.layer_of(entity_type)
        return layer is not None and self.by_category(layer)

    @property
    def category_types(self) -> list[str]:
        """The entity types that carry a category (``["SECTOR"]``)."""
        return [t for t in self.entity_types if self.has_categories(t)]

    def layer_type(self, layer: str) -> str | None:
        """The one entity type of a layer tagged by category (``"SECTOR"``), else None: tags are types."""
        return self.layers[layer][0] if self.by_category(layer) else None

    def tag_names(self, layer: str) -> list[str]:
        """What the layer's B-/I- tags name: its categories when tagged by category, else its types."""
        return list(self.sector_categories) if self.by_category(layer) else list(self.layers[layer])

    def tag_of(self, entity_type: str, category: str | None) -> str | None:
        """The tag name of one entity in its layer: its category when the layer is tagged by category."""
        return category if self.has_categories(entity_type) else entity_type

    def layer_labels(self, layer: str) -> list[str]:
        """BIO labels of a layer. A layer tagged by category (the sector layer)
        has one label pair per category, so a SECTOR span's category comes out
        of the tagger directly."""
        return ["O"] + [f"{p}-{t}" for t in self.tag_names(layer) for p in ("B", "I")]
