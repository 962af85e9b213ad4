"""Write docs/screenshots/<page>-<language>.png for the main pages (tests/e2e/inventory.py,
MAIN_PAGES) in Simplified Chinese and English, with Chromium (/usr/bin/chromium, or CHROMIUM).

Runs tests/e2e/screenshots.py with pytest: the pages are built the way the browser walks build
them (the demo data and a live server on the test database of DATABASE_URL, else SQLite).

    python tools/screenshots.py            # or: make screenshots
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    os.chdir(ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    return pytest.main(
        [
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            "0",
            "tests/e2e/screenshots.py",
            *sys.argv[1:],
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
