"""inference/schema.py: the layer attribute ``tag_by`` replaces the code's SECTOR special cases."""
import pytest

from goftar.inference.document import Document, Entity
from goftar.inference.formats.labelstudio import labelstudio_config, span_label
from goftar.inference.schema import Schema
from goftar.inference.validate import validate_document


def test_sector_is_tagged_by_category_because_the_yaml_says_so():
    s = Schema.default()
    assert s.tag_by == {"sector": "category"}
    assert s.layer_labels("sector")[:3] == ["O", "B-ECONOMY", "I-ECONOMY"]
    assert s.layer_type("sector") == "SECTOR" and s.layer_type("ne") is None
    assert s.category_types == ["SECTOR"] and s.tag_of("SECTOR", "TRADE") == "TRADE" and s.tag_of("PER", None) == "PER"
    assert Schema.from_dict(s.to_dict()).tag_by == s.tag_by


def test_a_schema_without_tag_by_is_read_as_guide_1_0():
    d = Schema.default().to_dict()
    del d["tag_by"]  # checkpoints written before the attribute
    assert Schema.from_dict(d).by_category("sector")


def test_changing_the_yaml_alone_changes_every_user():
    d = Schema.default().to_dict()
    d["tag_by"] = {"sector": "type"}
    s = Schema.from_dict(d)
    assert s.layer_labels("sector") == ["O", "B-SECTOR", "I-SECTOR"]
    doc = Document("d", "صادرات نفت", [Entity("T1", "SECTOR", 0, 6)])
    assert validate_document(doc, s) == []                      # no category needed now
    assert "SECTOR without a category" in " ".join(validate_document(doc, Schema.default()))
    assert span_label(Entity("T1", "SECTOR", 0, 6, "TRADE"), s) == "SECTOR"
    assert "SECTOR:TRADE" not in labelstudio_config(s) and "SECTOR:TRADE" in labelstudio_config()


@pytest.mark.parametrize("tag_by, message", [({"nope": "category"}, "unknown layer"),
                                             ({"sector": "colour"}, "not one of"),
                                             ({"ne": "category"}, "exactly one type")])
def test_bad_tag_by_is_refused(tag_by, message):
    d = Schema.default().to_dict()
    d["tag_by"] = tag_by
    with pytest.raises(ValueError, match=message):
        Schema.from_dict(d)
