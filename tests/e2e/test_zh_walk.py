"""The zh-hans walk: every page of the inventory, as each role that opens it, in Simplified
Chinese, shows no English user-interface text. Allowed: what people typed (names, email
addresses, answers, references, the slugs of departments and services: `World.typed`, each
value where it stands whole), digits, data that is not words (masked values, identifiers such as
field keys and slugs with a dot, colon or underscore, codes and digests, a password hasher's
code, the admin's raw JSON on lines of its own, and what a page marks as not to be translated
with the HTML attribute `translate="no"`, such as the audit log's target references), the
language switcher's own names of the languages (English is called "English"), and the few
abbreviations in `ALLOWED`.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.inventory import PAGES
from tests.e2e.walk import page_params

pytestmark = [
    pytest.mark.services,
    pytest.mark.browser,
    pytest.mark.zh_walk,
    pytest.mark.django_db(transaction=True),
]

# Abbreviations Chinese text uses as they are, and the names of keys as printed on keyboards
# (Django's admin: "按住 Control 键或 Mac 上的 Command 键来选择多项").
ALLOWED = {"API", "JSON", "CSV", "PDF", "QR", "ID", "IP", "TOTP", "Control", "Command", "Mac"}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_URL = re.compile(r"https?://\S+")
_REFERENCE = re.compile(r"\b[AC]-[2-9A-Z]{4}-[2-9A-Z]{4}\b")
# Data that is not words: masked values (L****i), identifiers (applicant.full_name,
# department:tax, catalog.version_publish, routing@worker-1), codes and digests (a TOTP secret,
# a hash), and raw JSON the admin shows as stored.
_MASKED = re.compile(r"\S*\*\S*")
_IDENTIFIER = re.compile(r"[\w-]*\w[._:@/][\w.:@/-]*\w")
_CODE = re.compile(r"\b(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{16,}\b")
# The code of the test settings' password hasher: the admin's user page shows a password's
# algorithm as Django names it ("md5"), the way it shows the salt and hash.
_HASHER = re.compile(r"\bmd5\b")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*[A-Za-z]|[A-Za-z]")

# The text a person reads: visible text, the page title, and the names and hints that are not
# visible text (labels of icons, placeholders, button values). The language switcher's options
# are each language's own name, on purpose.
_READ = """() => {
  // The language switcher names each language in itself; identifiers the page marks as not to
  // be translated (translate="no", the HTML attribute for codes such as audit targets) are data.
  const skip = Array.from(document.querySelectorAll('select[name=language], [translate=no]'));
  skip.forEach(el => el.setAttribute('hidden', ''));
  const texts = [document.title, document.body.innerText];
  const named = '[aria-label], [title], [placeholder], img[alt], input[type=submit], '
    + 'input[type=button]';
  for (const el of document.querySelectorAll(named)) {
    if (el.closest('select[name=language]')) continue;
    for (const name of ['aria-label', 'title', 'placeholder', 'alt']) {
      const value = el.getAttribute(name);
      if (value) texts.push(value);
    }
    if (el.matches('input[type=submit], input[type=button]') && el.value) texts.push(el.value);
  }
  skip.forEach(el => el.removeAttribute('hidden'));
  return texts;
}"""


def english_in(texts: list[str], typed: set[str]) -> list[str]:
    """The lines of `texts` that hold English words outside what is allowed."""
    found = []
    # A typed value counts where it stands whole (a slug "tax" does not hide "syntax").
    typed_pattern = re.compile(
        r"(?<![A-Za-z0-9])(?:"
        + ("|".join(re.escape(v) for v in sorted(typed, key=len, reverse=True)) or "(?!)")
        + r")(?![A-Za-z0-9])",
        re.IGNORECASE,  # a name may be shown in capitals (CSS text-transform)
    )
    for text in texts:
        for line in text.splitlines():
            if line.strip().startswith(("{", "[")):
                continue  # JSON as stored, in the admin
            rest = _URL.sub(" ", _EMAIL.sub(" ", line))
            for pattern in (_REFERENCE, _MASKED, _IDENTIFIER, _CODE, _HASHER):
                rest = pattern.sub(" ", rest)
            rest = typed_pattern.sub(" ", rest)
            words = [w for w in _WORD.findall(rest) if w not in ALLOWED]
            if words:
                found.append(line.strip())
    return list(dict.fromkeys(found))


def test_allowlist_keeps_typed_text_and_finds_english():
    texts = [
        "申请 A-7KQ3-M9XC 已提交 citizen@demo.gov Li Wei API 2026",
        "欢迎， LI WEI. 姓名 L****i applicant.full_name department:tax FZ65TY24QEHMOGEOS436A4",  # noqa: RUF001
        "Check your answers",
        "字段 Your full name",
        "部门 tax",
        "Syntax",
    ]
    assert english_in(texts, {"Li Wei", "tax"}) == [
        "Check your answers",
        "字段 Your full name",
        "Syntax",
    ]


@pytest.mark.parametrize(
    ("page", "language"), page_params([p for p in PAGES if p.zh_walk], ["zh-hans"])
)
def test_no_english_on_chinese_pages(page, language, walk_world, walk_page):
    tab = walk_page(page, language)
    texts = tab.evaluate(_READ)
    english = english_in(texts, walk_world.typed())
    assert english == [], f"{page.key}: English on the zh-hans page:\n" + "\n".join(english)
