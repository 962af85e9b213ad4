"""Simplified Chinese is the default language and English the second (docs/translation.md).

The zh_Hans catalog is complete (no empty or fuzzy entry, the msgids' placeholders in every
translation), its committed .mo holds exactly its translations, and it holds every msgid the
code uses and no other (makemessages on a copy of the project). Pages are in Chinese by default
and in English when chosen; the choice persists (cookie, and `User.language` for a signed-in
person); the API answers errors in the request's language; dates read as in China, in the
city's time zone, on pages and in CSV; emails are in the recipient's language."""

from __future__ import annotations

import csv
import importlib
import io
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime

import polib
import pytest
from django.core import mail
from django.template import Context, Template
from django.utils import formats, timezone, translation

from tests.support import ROOT

CATALOG = ROOT / "config" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
COMPILED = CATALOG.with_suffix(".mo")
# What `make messages` gives makemessages (Makefile: MESSAGES_IGNORE).
IGNORE = [".venv", "var", "bench", "tests", "node_modules", "build"]
# Every package of the project (each top-level folder with an __init__.py), tests and bench aside.
SOURCES = sorted(
    p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name not in {"tests", "bench"}
)

PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifr]|%[sdif]|\{(\w+)\}")


def _catalog() -> polib.POFile:
    return polib.pofile(str(CATALOG))


def _key(entry) -> tuple[str | None, str, str | None]:
    return (entry.msgctxt, entry.msgid, entry.msgid_plural or None)


def _placeholders(text: str) -> Counter:
    return Counter(m.group(0) for m in PLACEHOLDER.finditer(text))


# --- The catalog ----------------------------------------------------------------------------------


def test_the_catalog_is_at_the_conventional_path_too():
    assert (ROOT / "locale").is_symlink()
    assert (ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").resolve() == CATALOG


def test_every_message_is_translated_and_none_is_fuzzy():
    po = _catalog()
    assert len(po) > 500
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    assert [e.msgid for e in po.obsolete_entries()] == []
    assert not po.metadata_is_fuzzy
    assert po.metadata["Language"] == "zh_Hans"


def test_translations_keep_the_placeholders_of_their_msgid():
    wrong = []
    for entry in _catalog().translated_entries():
        expected = _placeholders(entry.msgid)
        if entry.msgid_plural:
            # One plural form in Chinese: it says what the plural msgid says.
            expected = _placeholders(entry.msgid_plural)
            translations = list(entry.msgstr_plural.values())
        else:
            translations = [entry.msgstr]
        wrong += [(entry.msgid, t) for t in translations if _placeholders(t) != expected]
    assert wrong == []


def test_the_placeholder_check_catches_a_missing_or_renamed_placeholder():
    assert _placeholders("Case %(ref)s is due on %(due)s.") != _placeholders("办件 %(ref)s 到期")
    assert _placeholders("Hello {name}") != _placeholders("您好 {nom}")
    assert _placeholders("第 %(n)d 个") == _placeholders("Field %(n)d")


def _strings(entries) -> dict:
    return {
        _key(e): ({int(k): v for k, v in e.msgstr_plural.items()} if e.msgid_plural else e.msgstr)
        for e in entries
        if e.msgid
    }


def test_the_committed_mo_holds_exactly_the_translations_of_the_po():
    compiled = _strings(polib.mofile(str(COMPILED)))
    source = _strings(_catalog().translated_entries())
    assert compiled == source, "run `make compilemessages` and commit the .mo"


def test_the_catalog_holds_every_msgid_of_the_code_and_no_other(tmp_path):
    """makemessages in check mode: run on a copy of the project's sources (never on the
    repository's own catalog), compare the msgids it finds with the committed catalog's."""
    if shutil.which("xgettext") is None:
        pytest.skip("GNU gettext is not installed (make gettext)")
    copy = tmp_path / "project"
    copy.mkdir()
    skip = shutil.ignore_patterns("__pycache__", "locale", "*.pyc", "*.mo", "*.po")
    for name in SOURCES:
        shutil.copytree(ROOT / name, copy / name, ignore=skip)
    (copy / "locale").mkdir()
    # Without settings makemessages writes to ./locale only (with them it would use the
    # repository's LOCALE_PATHS); importing nothing from the project needs none.
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}
    ignores = [arg for name in IGNORE for arg in ("-i", name)]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-obsolete",
            *ignores,
        ],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    in_code = {_key(e) for e in found}
    in_catalog = {_key(e) for e in _catalog()}
    assert len(in_code) > 500
    assert sorted(in_code - in_catalog, key=str) == [], "run `make messages` and translate"
    assert sorted(in_catalog - in_code, key=str) == [], "the code no longer uses these"


def test_no_message_is_translated_when_its_module_is_imported():
    """`gettext` (not lazy) at module or class level would freeze one language for every
    request; there, only the lazy forms may be used."""
    import ast

    eager_names = {"gettext", "ngettext", "pgettext", "npgettext"}
    found = []
    for name in SOURCES:
        for path in (ROOT / name).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            eager = {
                alias.asname or alias.name
                for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"
                for alias in node.names
                if alias.name in eager_names
            }

            def visit(node, in_function, path=path, eager=eager):
                for child in ast.iter_child_nodes(node):
                    inside = in_function or isinstance(
                        child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
                    )
                    call = isinstance(child, ast.Call) and isinstance(child.func, ast.Name)
                    if not inside and call and child.func.id in eager:
                        found.append(f"{path.relative_to(ROOT)}:{child.lineno}")
                    visit(child, inside)

            visit(tree, False)
    assert found == []


# --- The language of a request --------------------------------------------------------------------


@pytest.fixture
def product_default(settings) -> None:
    """The product's default language, replacing the suite's English (tests/fixtures.py)."""
    settings.LANGUAGE_CODE = "zh-hans"


def test_the_product_default_is_simplified_chinese_then_english(monkeypatch):
    from config.settings import base

    monkeypatch.delenv("LANGUAGE_CODE", raising=False)
    try:
        fresh = importlib.reload(base)
        assert fresh.LANGUAGE_CODE == "zh-hans"
        assert fresh.LANGUAGES == [("zh-hans", "简体中文"), ("en", "English")]
        assert fresh.TIME_ZONE == "Asia/Shanghai"
    finally:
        importlib.reload(base)


@pytest.mark.django_db
def test_an_anonymous_visitor_without_accept_language_reads_chinese(client, product_default):
    page = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "市民服务平台" in page and "登录" in page and "注册账号" in page
    assert "Sign in" not in page and "Create an account" not in page
    # The switcher names each language in itself.
    assert 'lang="zh-hans" selected>简体中文</option>' in page
    assert 'lang="en">English</option>' in page


@pytest.mark.django_db
def test_accept_language_english_reads_english(client, product_default):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in page and "Sign in" in page


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["zh-CN,zh;q=0.9,en;q=0.8", "zh", "zh-Hans-CN"])
def test_what_browsers_in_china_send_reads_chinese(client, header):
    """Even where the default is English (the suite's), a browser asking for Chinese gets it."""
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=header)
    assert '<html lang="zh-hans">' in response.content.decode()
    assert response["Content-Language"] == "zh-hans"


@pytest.mark.django_db
def test_the_switcher_choice_persists_in_a_cookie(client, product_default):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/services/"})
    assert response.status_code == 302 and response["Location"] == "/services/"
    assert response.cookies["django_language"].value == "en"
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<html lang="en">' in page
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-hans">' in client.get("/").content.decode()


def _choose_language(client, user, language: str) -> str:
    """`user` signs in and chooses `language` in the switcher: the language stored for them."""
    client.force_login(user)
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    user.refresh_from_db()
    return user.language


@pytest.mark.django_db
def test_a_signed_in_persons_choice_is_stored_and_follows_them(client, citizen, product_default):
    from django.test import Client

    from audit.models import AuditEvent

    assert _choose_language(client, citizen, "en") == "en"
    event = AuditEvent.objects.filter(action="user.update").latest("pk")
    assert event.details == {"fields": ["language"]}
    # Another browser, no cookie, a Chinese Accept-Language: the stored choice wins.
    other = Client()
    other.force_login(citizen)
    page = other.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<html lang="en">' in page
    # An explicit choice in this browser (its cookie) comes first.
    other.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-hans">' in other.get("/").content.decode()
    citizen.refresh_from_db()
    assert citizen.language == "zh-hans"


@pytest.mark.django_db
def test_an_unknown_language_is_not_stored(client, citizen, product_default):
    assert _choose_language(client, citizen, "xx") == ""


# --- The API's errors -------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_errors_come_in_the_requests_language(client, api, product_default):
    chinese = client.get("/api/v1/applications/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    english = client.get("/api/v1/applications/", HTTP_ACCEPT_LANGUAGE="en")
    assert chinese.status_code == english.status_code and chinese.status_code in (401, 403)
    assert re.search(r"[\u4e00-\u9fff]", chinese.json()["detail"])
    assert english.json()["detail"].isascii()

    # DRF's own validation message, and the project's.
    for services, zh, en in (
        ([], "该字段必须包含至少 1 个元素。", "Ensure this field has at least 1 elements."),
        (["no-such"], "未知的服务事项：no-such", "Unknown service: no-such"),  # noqa: RUF001
    ):
        body = {"services": services, "answers": {}}
        chinese = api.post(
            "/api/v1/applications/", body, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
        )
        english = api.post("/api/v1/applications/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
        assert chinese.status_code == english.status_code == 400
        assert chinese.json()["errors"]["services"] == [zh]
        assert english.json()["errors"]["services"] == [en]

    chinese = api.get("/api/v1/applications/NO-SUCH/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.status_code == 404
    assert re.search(r"[\u4e00-\u9fff]", chinese.json()["detail"])


# --- Dates, times and the time zone ---------------------------------------------------------------

MOMENT = datetime(2026, 12, 2, 6, 30, tzinfo=UTC)  # 14:30 in Shanghai


def test_dates_and_times_read_as_in_china():
    with translation.override("zh-hans"), timezone.override("Asia/Shanghai"):
        local = timezone.localtime(MOMENT)
        assert formats.date_format(local, "DATETIME_FORMAT") == "2026年12月2日 14:30"
        assert formats.date_format(local, "DATE_FORMAT") == "2026年12月2日"
        template = Template('{{ at|date:"DATETIME_FORMAT" }} / {{ at|date:"DATE_FORMAT" }}')
        assert template.render(Context({"at": MOMENT})) == "2026年12月2日 14:30 / 2026年12月2日"


def test_templates_use_the_named_formats_not_english_patterns():
    literal = re.compile(r'\|date:"[^"]*\b[MNFDlb]\b[^"]*"')
    found = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "config" / "templates").rglob("*")
        if path.is_file() and literal.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []


@pytest.mark.django_db
def test_the_audit_csv_is_in_the_citys_time(demo, client):
    from accounts.models import User
    from audit.models import AuditEvent

    client.force_login(User.objects.get(email="supervisor@demo.gov"))
    content = b"".join(client.get("/audit/export.csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(content)))
    assert rows
    for row in rows:
        at = datetime.fromisoformat(row["at"])
        assert at.utcoffset().total_seconds() == 8 * 3600
        stored = AuditEvent.objects.get(pk=int(row["seq"])).occurred_at
        assert at == stored


def test_the_css_names_the_cjk_fonts():
    css = (ROOT / "config" / "static" / "css" / "portal.css").read_text(encoding="utf-8")
    for font in ('"Noto Sans CJK SC"', '"Noto Sans SC"', '"PingFang SC"', '"Microsoft YaHei"'):
        assert font in css


# --- Emails ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_confirmation_email_is_in_the_citizens_language(demo, settings):
    from services import notifications
    from tests.factories import UserFactory, submit_moving

    settings.LANGUAGE_CODE = "zh-hans"
    settings.PORTAL_BASE_URL = "https://portal.city.example"
    chinese = submit_moving(citizen=UserFactory())  # no choice: the portal's default
    english = submit_moving(citizen=UserFactory(language="en"))
    mail.outbox.clear()
    notifications.application_submitted(application_id=chinese.pk)
    notifications.application_submitted(application_id=english.pk)
    zh, en = mail.outbox
    assert zh.subject == f"已收到申请 {chinese.reference}"
    assert "我们已收到您的申请。" in zh.body and "后续流程" in zh.body
    assert f"申请编号：{chinese.reference}" in zh.body  # noqa: RUF001
    assert f"Reference: {english.reference}" in en.body
    assert f"https://portal.city.example/applications/{chinese.reference}/" in zh.body
    assert en.subject == f"Application {english.reference} received"
    assert "We have received your application." in en.body
    assert f"https://portal.city.example/applications/{english.reference}/" in en.body


@pytest.mark.django_db
def test_a_question_from_a_department_sends_one_email_quoting_it(
    demo, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """One change (a clerk asks the citizen something) gives exactly one email, in the
    citizen's language, with the question and what to do next."""
    from tests.factories import ApplicationFactory, CaseFactory, UserFactory
    from workflows import routing
    from workflows import tasks as workflow_tasks

    settings.LANGUAGE_CODE = "en"  # the citizen's own choice must win over the default
    monkeypatch.setattr(
        workflow_tasks.notify_applications_changed,
        "delay",
        lambda ids: workflow_tasks.notify_applications_changed.apply(args=[ids]),
    )
    application = ApplicationFactory(routed=True, citizen=UserFactory(language="zh-hans"))
    CaseFactory(application=application, step="tax", claimed=True)
    with django_capture_on_commit_callbacks(execute=True):
        routing.route_requested(application_id=application.pk)
    mail.outbox.clear()

    case = application.cases.get(step="tax")
    from tests.factories import clerk_of
    from workflows import actions

    actions.case_request_info(
        case=case,
        actor=clerk_of(case.department),
        message="请提供新住址的租赁合同。",
    )
    with django_capture_on_commit_callbacks(execute=True):
        routing.route_requested(application_id=application.pk)

    assert len(mail.outbox) == 1
    (message,) = mail.outbox
    assert message.to == [application.citizen.email]
    assert application.reference in message.subject
    assert "部门提出的问题： 请提供新住址的租赁合同。" in message.body  # noqa: RUF001
    assert "下一步：有部门需要您补充信息。" in message.body  # noqa: RUF001
    assert f"{settings.PORTAL_BASE_URL}/applications/{application.reference}/" in message.body
    # Routing again without a change sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        routing.route_requested(application_id=application.pk)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_staff_deadline_emails_are_in_their_language_with_the_local_date(demo, settings):
    from tests.factories import CaseFactory
    from workflows import notifications

    settings.LANGUAGE_CODE = "zh-hans"
    case = CaseFactory(step="tax", claimed=True)
    case.assignee.language = ""
    case.assignee.save(update_fields=["language"])
    case.due_at = MOMENT.replace(hour=20)  # 04:30 the next day in Shanghai
    case.save(update_fields=["due_at"])
    mail.outbox.clear()
    notifications.case_reminder(case_id=case.pk)
    (message,) = mail.outbox
    assert message.subject == f"办件 {case.reference} 即将到期"
    assert "2026年12月3日" in message.body and "下一步" in message.body
    assert f"/workbench/cases/{case.reference}/" in message.body


@pytest.mark.django_db
def test_allauths_sign_up_page_and_email_are_in_chinese(client, product_default):
    from accounts.models import User

    page = client.get("/accounts/signup/").content.decode()
    assert "注册" in page and "Sign Up" not in page
    response = client.post(
        "/accounts/signup/",
        {
            "email": "xin.shimin@example.org",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.subject.startswith("[市民服务平台] ")
    assert message.body.startswith("您好！这是市民服务平台发送的邮件。")  # noqa: RUF001
    assert "/accounts/confirm-email/" in message.body
    # The language of the sign-up is stored: the emails workers send later use it.
    assert User.objects.get(email="xin.shimin@example.org").language == "zh-hans"
    assert "感谢您使用市民服务平台。" in message.body
    assert re.search(r"[\u4e00-\u9fff]", message.subject[len("[市民服务平台] ") :])
    too_short = client.post(
        "/accounts/signup/",
        {"email": "b@example.org", "password1": "kurz-pw", "password2": "kurz-pw"},
    )
    assert "密码太短，至少需要包含 10 个字符。" in too_short.content.decode()  # noqa: RUF001


@pytest.mark.django_db
def test_a_person_who_signs_up_in_english_gets_english_emails_later(client, product_default):
    from accounts.models import User

    client.post(
        "/accounts/signup/",
        {
            "email": "new.resident@example.org",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert mail.outbox[0].subject.startswith("[Citizen portal] ")
    assert User.objects.get(email="new.resident@example.org").language == "en"


def test_messages_missing_from_the_packages_catalogs_are_translated_by_the_project():
    from django.contrib.auth.password_validation import MinimumLengthValidator

    from accounts.adapters import AccountAdapter

    with translation.override("zh-hans"):
        too_short = "密码太短，至少需要包含 10 个字符。"  # noqa: RUF001
        assert MinimumLengthValidator(10).get_error_message() == too_short
        assert translation.gettext("Add link") == "添加链接"
        assert AccountAdapter().format_email_subject("确认邮箱") == "[市民服务平台] 确认邮箱"
    with translation.override("en"):
        assert AccountAdapter().format_email_subject("Confirm") == "[Citizen portal] Confirm"


def test_language_for_falls_back_to_the_default(settings):
    from core.i18n import language_for

    settings.LANGUAGE_CODE = "zh-hans"

    class Person:
        language = ""

    assert language_for(Person()) == "zh-hans"
    Person.language = "en"
    assert language_for(Person()) == "en"
    Person.language = "fr"
    assert language_for(Person()) == "zh-hans"
    assert language_for(None) == "zh-hans"
