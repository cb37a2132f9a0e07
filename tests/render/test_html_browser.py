"""The HTML page in a real browser: headless Chromium parses and paints it, fully offline.

Needs Debian's ``chromium`` on the PATH (``apt-get install chromium``; ``.ci/run`` installs it
when it can). Without it these tests are skipped, saying so.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from bot.render.html import render_html
from tests.render.test_html import PageParser, council_record

CHROMIUM = shutil.which("chromium")
WINDOW = (1200, 2000)
# Everything that would make Chromium talk to the network on its own, off: a test of a page
# that loads nothing must not depend on, or wait for, anything else.
FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
LIGHT_BACKGROUND = (0xF4, 0xF5, 0xF7)
DARK_BACKGROUND = (0x1E, 0x1F, 0x22)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install chromium): "
    "the page is not checked in a browser",
)

Browser = Callable[..., subprocess.CompletedProcess[bytes]]


@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("page") / "council-42.html"
    path.write_text(render_html(council_record()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, page_file: Path) -> Browser:
    """Runs Chromium on the page with a fresh profile; fails with its stderr if it fails."""

    def run(*args: str) -> subprocess.CompletedProcess[bytes]:
        profile = tmp_path_factory.mktemp("profile")
        result = subprocess.run(
            [
                CHROMIUM or "chromium",
                *FLAGS,
                f"--user-data-dir={profile}",
                *args,
                page_file.as_uri(),
            ],
            capture_output=True,
            timeout=90,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
        return result

    return run


def _screenshot(browser: Browser, folder: Path, name: str, *args: str) -> Image.Image:
    path = folder / name
    browser(f"--screenshot={path}", f"--window-size={WINDOW[0]},{WINDOW[1]}", *args)
    image = Image.open(io.BytesIO(path.read_bytes()))
    image.load()
    return image.convert("RGB")


@pytest.fixture(scope="module")
def dom(browser: Browser) -> PageParser:
    return PageParser(browser("--dump-dom").stdout.decode())


@pytest.fixture(scope="module")
def light(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Image.Image:
    return _screenshot(browser, tmp_path_factory.mktemp("shots"), "light.png")


def test_the_browsers_dom_has_the_personas_votes_questions_and_summary(dom):
    text = dom.all_text
    for persona in ("Claude", "DeepSeek", "Gemini", "Llama"):
        assert persona in text
    votes = [(a["data-up"], a["data-down"]) for a in dom.find("span", **{"class": "votes"})]
    assert votes[:3] == [("4", "1"), ("1", "3"), ("2", "0")]
    assert "👍 4" in text
    assert "What about deliveries & emergency vehicles?" in text
    assert "↻ Changed position" in text
    assert dom.find("section", id="summary")
    assert "DeepSeek wins the audience's vote." in text
    assert "Phase cars out of city centres, transit first." in text
    [chart] = [a for a in dom.find("img") if (a.get("src") or "").startswith("data:image/png")]
    assert "Audience votes" in (chart["alt"] or "")


def test_the_browser_keeps_hostile_reply_text_as_text(dom):
    assert "<script>alert(1)</script>" in dom.all_text
    assert "[x](javascript:alert(1))" in dom.all_text
    assert not [tag for tag, _ in dom.tags if tag in {"script", "iframe", "object", "embed"}]
    assert not [key for _, attrs in dom.tags for key in attrs if key.startswith("on")]
    links = dom.attrs("href")
    assert links
    assert all(href.startswith("#") for href in links)


def test_the_page_paints_in_colour_with_each_personas_colour(light):
    assert light.size == WINDOW
    colours = light.getcolors(maxcolors=WINDOW[0] * WINDOW[1]) or []
    assert len(colours) > 200, "a blank or one-colour page"
    counts = {pixel: count for count, pixel in colours}
    assert counts.get(LIGHT_BACKGROUND, 0) > WINDOW[0] * WINDOW[1] // 10
    for name, rgb in (
        ("Claude", (0xD9, 0x77, 0x57)),
        ("DeepSeek", (0x4D, 0x6B, 0xFE)),
        ("Gemini", (0x1A, 0x73, 0xE8)),
        ("Llama", (0x7C, 0x3A, 0xED)),
    ):
        # Avatar discs and each reply's edge are painted solid in the persona's colour.
        assert counts.get(rgb, 0) > 500, name


def test_a_browser_that_prefers_dark_gets_the_dark_page(browser, light, tmp_path):
    dark = _screenshot(browser, tmp_path, "dark.png", "--force-dark-mode")
    assert light.getpixel((5, 5)) == LIGHT_BACKGROUND
    assert dark.getpixel((5, 5)) == DARK_BACKGROUND
