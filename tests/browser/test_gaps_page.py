"""The gaps section of the PlexSync page in a real browser: Find gaps runs the Show Gaps task through Stash's job
queue, and the page shows the counts and both lists, with links to the scenes in Stash."""

from __future__ import annotations

import pytest

from emulators import demo_library as lib
from tests.browser.test_plexsync_pages import card, click, text_of, wait_for, world  # noqa: F401  (world: fixture)

pytestmark = pytest.mark.e2e


def test_find_gaps_shows_both_sides_with_reasons_and_links(world, browser, screenshot):  # noqa: F811
    world.settings()  # the path map saved: the scenes' files meet Plex's
    only_in_plex = world.plex.add_item(1, file=f"{lib.PLEX_ROOT}/plex only/extra.mp4", size=9, title="Extra Cut")
    browser.get(world.stash.url + "/plugin/PlexSync")
    wait_for(browser, lambda: "No gap report yet" in text_of(browser, "gaps"), "the gaps section never showed")
    click(browser, "action-find-gaps")
    wait_for(browser, lambda: card(browser, "gaps-stash-only") == "1", "the page never showed the report")
    assert card(browser, "gaps-plex-only") == "1" and card(browser, "gaps-not_found") == "1"
    stash_rows = browser.find_elements("css selector", "[data-testid='gaps-stash-row']")
    assert len(stash_rows) == 1 and "Scene unlisted" in stash_rows[0].text
    assert "not found: no Plex item has" in stash_rows[0].text
    link = stash_rows[0].find_element("css selector", "a")
    assert link.get_attribute("href").endswith(f"/scenes/{world.scenes['unlisted']}")
    plex_rows = [row.text for row in browser.find_elements("css selector", "[data-testid='gaps-plex-row']")]
    assert plex_rows == [f"Extra Cut {lib.PLEX_ROOT}/plex only/extra.mp4 Movies"]
    assert world.plex.item(only_in_plex).fields["title"] == "Extra Cut"
    browser.execute_script("document.querySelector(\"[data-testid='gaps']\").scrollIntoView()")
    screenshot("plexsync-gaps")
