"""The catalog in both languages: every catalog text (departments, services, steps, field
labels, staff labels, hints, options) is shown in the reader's language with a fallback
(`core.translations`); the demo catalog has every text in Simplified Chinese and English and a
file missing one is refused; catalog search finds services by their Chinese names and common
words (出生, 搬家, 开办企业) and by English words, several words at once, whatever the reader's
language; choices and yes/no answers are masked whole for staff."""

from __future__ import annotations

import copy
import json

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from core.translations import problems, translated
from demo import data
from services import actions, selectors
from services.constants import ServiceKind
from services.fields import kind_for
from services.models import FieldDefinition

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


# --- The rule -------------------------------------------------------------------------------


def test_translated_takes_the_active_language_then_the_base_then_any():
    row = {"name": "Tax Bureau", "translations": {"zh-hans": {"name": "税务局"}}}
    with translation.override("zh-hans"):
        assert translated(row, "name") == "税务局"
    with translation.override("en"):
        assert translated(row, "name") == "Tax Bureau"
    assert translated(row, "name", language="zh_Hans") == "税务局"  # spelt as a locale
    # A row written in Chinese with an English translation works the same way.
    chinese_base = {"name": "税务局", "translations": {"en": {"name": "Tax Bureau"}}}
    assert translated(chinese_base, "name", language="en") == "Tax Bureau"
    assert translated(chinese_base, "name", language="zh-hans") == "税务局"
    # No base text: any language's rather than nothing, unless asked to stop at the base.
    only_chinese = {"staff_label": "", "translations": {"zh-hans": {"staff_label": "申请人姓名"}}}
    assert translated(only_chinese, "staff_label", language="en") == "申请人姓名"
    assert translated(only_chinese, "staff_label", language="en", any_language=False) == ""


def test_malformed_translations_are_named():
    assert problems({"zh-hans": {"name": "税务局"}}, attrs=["name"], where="x") == []
    assert problems(None, attrs=["name"], where="x") == []
    found = problems(
        {"fr": {"name": "Impôts"}, "zh-hans": {"nom": "税务局", "name": " "}},
        attrs=["name"],
        where="tax",
    )
    assert len(found) == 3
    assert any("fr" in p for p in found) and any("nom" in p for p in found)
    assert problems(["税务局"], attrs=["name"], where="tax") != []


def test_the_actions_refuse_malformed_translations(db):
    with pytest.raises(actions.InvalidInput):
        actions.field_definition_save(
            actor=None,
            key="pet.name",
            label="Your pet's name",
            type="string",
            sensitivity="public",
            translations={"zh-hans": {"title": "宠物名"}},
        )
    with pytest.raises(actions.InvalidInput):
        actions.service_create(
            actor=None,
            slug="pets",
            name="Pets",
            kind=ServiceKind.LIFE_EVENT,
            translations={"klingon": {"name": "x"}},
        )


# --- The demo catalog -----------------------------------------------------------------------


def test_every_demo_text_has_its_chinese(db):
    document = json.loads(data.PATH.read_text(encoding="utf-8"))
    assert data.translation_gaps(document) == []
    staff = {f["key"]: f.get("staff_label") for f in document["fields"]}
    assert staff["applicant.full_name"] == "Applicant's full name"


def test_a_demo_text_without_its_chinese_is_refused(db, tmp_path):
    document = json.loads(data.PATH.read_text(encoding="utf-8"))
    broken = copy.deepcopy(document)
    del broken["departments"][0]["translations"]
    broken["fields"][8]["choices"][0]["translations"] = {}
    broken["services"][0]["workflow"]["steps"][0]["translations"] = {"zh-hans": {"title": "x"}}
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(broken, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(data.DemoDataError) as refused:
        data.load(path)
    message = str(refused.value)
    assert f"department {broken['departments'][0]['slug']}: name has no zh-hans" in message
    assert "choice female: label has no zh-hans" in message
    assert "unknown settings" not in message and "title" in message


def test_catalog_page_and_api_speak_the_readers_language(catalog, client):
    page = client.get("/services/", **ZH).content.decode()
    assert "孩子出生" in page and "搬家" in page and "开办企业" in page
    assert "税务局" in page  # departments involved, by name
    assert "Birth of a child" not in page
    english = client.get("/services/", **EN).content.decode()
    assert "Birth of a child" in english and "Tax Bureau" in english and "孩子出生" not in english

    body = APIClient().get("/api/v1/services/?q=newborn", **ZH).json()["results"][0]
    assert body["name"] == "孩子出生"
    form = body["form"]["properties"]
    assert form["applicant.full_name"]["title"] == "您的姓名"
    assert form["child.sex"]["x-enum-labels"] == {"female": "女", "male": "男"}
    assert form["bank.account"]["description"] == "12至19位数字，不含空格。"  # noqa: RUF001


def test_models_give_each_text_in_the_active_language(catalog):
    field = FieldDefinition.objects.get(key="applicant.full_name")
    with translation.override("zh-hans"):
        assert field.label_translated == "您的姓名"
        assert field.staff_label_translated == "申请人姓名"
        assert FieldDefinition.objects.get(key="child.sex").choice_label("female") == "女"
        assert kind_for("enum").display("male", FieldDefinition.objects.get(key="child.sex")) == (
            "男"
        )
        assert selectors.department_names()["household-registration"] == "公安局户籍管理处"
    with translation.override("en"):
        assert field.label_translated == "Your full name"
        assert field.staff_label_translated == "Applicant's full name"
    # A field without a staff label: staff read the citizen's label.
    hospital = FieldDefinition.objects.get(key="birth.hospital")
    with translation.override("zh-hans"):
        assert hospital.staff_label_translated == "出生医院或出生地点"


# --- Search ---------------------------------------------------------------------------------


def found(query: str) -> list[str]:
    return [s.slug for s in selectors.services_published(query=query)]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_search_finds_services_by_chinese_and_english_words_in_any_language(catalog, language):
    with translation.override(language):
        assert found("出生") == ["newborn"]
        assert found("搬家") == ["moving-house"]
        assert found("开办企业") == ["start-business"]
        assert found("我要搬家") == ["moving-house"]  # Chinese is written without spaces
        assert found("营业执照") == ["start-business"]
        assert found("birth") == ["newborn"]
        assert found("Moving HOUSE") == ["moving-house"]
        assert found("出生 医保") == ["newborn"]  # every word must match
        assert found("出生，搬家") == []  # noqa: RUF001  (no service is both)
        assert found("business tax") == ["start-business"]
        assert sorted(found("户口")) == ["moving-house", "newborn"]
        assert found("dragon") == [] and found("龙") == []
        assert len(found("  ")) == 3


def test_search_through_the_page_and_the_api(catalog, client):
    page = client.get("/services/", {"q": "出生"}, **ZH).content.decode()
    assert "孩子出生" in page and "开办企业" not in page
    api = APIClient()
    slugs = [s["slug"] for s in api.get("/api/v1/services/", {"q": "搬家"}, **EN).json()["results"]]
    assert slugs == ["moving-house"]
    slugs = [
        s["slug"] for s in api.get("/api/v1/services/", {"q": "company"}, **ZH).json()["results"]
    ]
    assert slugs == ["start-business"]


# --- Masks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "value"),
    [("enum", "female"), ("enum", "male"), ("enum", "x"), ("boolean", True), ("boolean", False)],
)
def test_choices_and_yes_no_are_masked_whole(type_, value):
    kind = kind_for(type_)
    definition = FieldDefinition(key="child.sex", type=type_, choices=[])
    shown = kind.staff_display(value, definition, sealed=True)
    assert shown == "•••"
    assert kind.mask(None) == "" and kind.mask("") == ""
    # Other kinds keep their masks.
    assert kind_for("phone").mask("13812345678") == "138****5678"
