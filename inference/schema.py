"""The annotation schema: layers, entity types, relation types, sector categories.

The schema is data (``configs/schema.yaml``; a copy ships inside the package and
inside every checkpoint's config), so a user who extends the guide edits YAML,
not code.

>>> s = Schema.default()
>>> s.layer_of("ROLE")
'role'
>>> s.allowed("said_by", "QUOTE", "PER")
True
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_DEFAULT_PATH = Path(__file__).with_name("schema.yaml")


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
    _type_to_layer: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for layer, types in self.layers.items():
            for t in types:
                if t in self._type_to_layer:
                    raise ValueError(f"schema: type {t} is declared in two layers")
                self._type_to_layer[t] = layer

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

    def layer_labels(self, layer: str) -> list[str]:
        """BIO labels of a layer. The sector layer is tagged by category, so a
        SECTOR span's category comes out of the tagger directly."""
        types = self.sector_categories if layer == "sector" else self.layers[layer]
        return ["O"] + [f"{p}-{t}" for t in types for p in ("B", "I")]
