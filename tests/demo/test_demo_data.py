"""The demo data file is checked by the catalog's own rules when it is loaded."""

from __future__ import annotations

import copy
import json

import pytest

from demo import data


@pytest.fixture
def document():
    return json.loads(data.PATH.read_text(encoding="utf-8"))


def test_the_shipped_demo_data_follows_the_catalog_rules(document, db):
    assert data.problems(document) == []
    loaded = data.load()
    assert {d["slug"] for d in loaded["departments"]} >= {"civil-registry", "tax", "transport"}
    assert len(loaded["services"]) == 3


def test_a_broken_file_is_refused_with_every_problem(document, tmp_path, db):
    broken = copy.deepcopy(document)
    broken["fields"][0]["type"] = "colour"  # not a kind of field
    service = broken["services"][0]
    service["fields"].append({"key": "nobody.knows"})  # not in the dictionary
    service["workflow"]["steps"][0]["department"] = "ministry-of-magic"  # not a department
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(broken), encoding="utf-8")

    with pytest.raises(data.DemoDataError) as refused:
        data.load(path)
    message = str(refused.value)
    assert f"field {broken['fields'][0]['key']}: type" in message
    assert "nobody.knows" in message
    assert "ministry-of-magic" in message


def test_a_file_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "demo.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(data.DemoDataError):
        data.load(path)


def test_a_document_without_its_sections_is_refused():
    assert data.problems([]) == ["the document is not a JSON object"]
    assert data.problems({"fields": []}) == ["missing sections: citizens, departments, services"]
