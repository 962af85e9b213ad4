"""Layout that everyone can use: visible focus (the focus outline has a contrast of at least
3:1 against both of its neighbours, measured from the computed styles), navigation that fits a
320px and a 375px phone (no horizontal scrolling; the links behind a "Menu" button that works
without JavaScript). Sentence case is checked on the English page loads of the axe walk
(tests/e2e/test_axe.py)."""

from __future__ import annotations

import pytest

from tests.e2e.inventory import MAIN_PAGES, page
from tests.e2e.walk import page_params

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# --- Focus ----------------------------------------------------------------------------------

# For the focused element: its outline, and the colours on both sides of the outline. The
# outline sits `outline-offset` outside the element's border box: with a positive offset both
# neighbours are the background behind the element (its nearest ancestor's opaque background);
# with none, the inner neighbour is the element's own background.
_FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const opaque = (node) => {
    for (; node; node = node.parentElement) {
      const bg = getComputedStyle(node).backgroundColor;
      const m = bg.match(/rgba?\\(([^)]+)\\)/);
      if (m) {
        const parts = m[1].split(',').map(Number);
        if (parts.length < 4 || parts[3] > 0.5) return parts.slice(0, 3);
      }
    }
    return [255, 255, 255];
  };
  const style = getComputedStyle(el);
  const outline = style.outlineColor.match(/rgba?\\(([^)]+)\\)/)[1].split(',').map(Number);
  const behind = opaque(el.parentElement);
  const offset = parseFloat(style.outlineOffset) || 0;
  return {
    what: el.outerHTML.slice(0, 120),
    style: style.outlineStyle,
    width: parseFloat(style.outlineWidth) || 0,
    outline: outline.slice(0, 3),
    inner: offset > 0 ? behind : opaque(el),
    outer: behind,
  };
}"""


def _luminance(rgb) -> float:
    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_formula():
    assert round(contrast((0, 0, 0), (255, 255, 255)), 1) == 21.0
    assert round(contrast((255, 221, 0), (255, 255, 255)), 2) < 3  # yellow on white fails


FOCUS_PAGES = ["home-anonymous", "sign-in-anonymous", "form-citizen", "case-clerk"]


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("key", FOCUS_PAGES)
def test_focus_is_visible_against_both_neighbours(key, width, walk_page):
    tab = walk_page(page(key), "en", viewport={"width": width, "height": 800})
    problems, seen = [], 0
    for _ in range(60):
        tab.keyboard.press("Tab")
        focus = tab.evaluate(_FOCUS)
        if focus is None:
            break
        seen += 1
        inner = contrast(focus["outline"], focus["inner"])
        outer = contrast(focus["outline"], focus["outer"])
        if focus["style"] == "none" or focus["width"] < 2 or min(inner, outer) < 3:
            problems.append(
                f"{focus['what']}: {focus['style']} {focus['width']}px, "
                f"contrast {inner:.2f} inside, {outer:.2f} outside"
            )
    assert seen >= 3, f"{key}: the keyboard reached only {seen} elements"
    assert problems == [], f"{key} at {width}px:\n" + "\n".join(dict.fromkeys(problems))


# --- Phones ---------------------------------------------------------------------------------

PHONE_PAGES = [page(key) for key in MAIN_PAGES] + [page("admin-admin")]


@pytest.mark.parametrize("width", [320, 375])
@pytest.mark.parametrize(("page_", "language"), page_params(PHONE_PAGES, ["zh-hans", "en"]))
def test_phone_has_no_horizontal_scroll_and_a_menu(page_, language, width, walk_page):
    tab = walk_page(page_, language, viewport={"width": width, "height": 700}, javascript=False)
    overflow = tab.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page_.key}: {overflow}px of horizontal scrolling at {width}px"
    if page_.name.startswith("admin:"):
        return  # the admin site has its own responsive navigation
    menu = tab.locator("nav.site-nav details.nav-menu")
    assert tab.locator("nav.site-nav ul.nav-row").is_hidden()
    links = menu.locator("ul a")
    assert links.first.is_hidden()
    menu.locator("summary").click()
    assert links.first.is_visible()
    assert links.count() >= 2
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box is not None and box["x"] + box["width"] <= width, "a menu link is cut off"
    href = links.nth(1).get_attribute("href")
    links.nth(1).click()
    tab.wait_for_url(f"**{href}")
