"""The PlexSync page and the scene badge in a real browser, against the emulated Stash that runs the real
PlexSync.py for every runPluginOperation and runPluginTask, exactly as Stash does."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from emulators import demo_library as lib
from emulators.plex.server import PlexEmulator
from emulators.stash.server import StashEmulator
from sync_queue.store import Store
from tests.e2e.conftest import stop_detached_worker

REPO = Path(__file__).resolve().parents[2]
WAIT = 45.0

pytestmark = pytest.mark.e2e


class World:
    """Five scenes: two that sync, two whose Plex PUT is refused (dead letters), one Plex has not listed. Nothing
    has run yet: PlexSync was just installed and its Plex URL and token saved, but not its path map."""

    def __init__(self, stash: StashEmulator, plex: PlexEmulator, stash_dir: Path) -> None:
        self.stash, self.plex = stash, plex
        self.data_dir = stash_dir / "plugin_data" / "PlexSync"
        section = plex.add_section(title="Movies", locations=[lib.PLEX_ROOT])
        self.keys = {}
        for name in ("good", "second", "broken", "flaky"):
            self.keys[name] = plex.add_item(section, file=f"{lib.PLEX_ROOT}/{name}.mp4", size=100, title=name)
        self.scenes = {name: stash.add_scene(title=f"Scene {name}", files=[{"path": f"{lib.STASH_ROOT}/{name}.mp4",
                                                                            "size": 100}])
                       for name in ("good", "second", "broken", "flaky", "unlisted")}
        self.settings(path_map="")
        self.host = stash.install_plugin(REPO, stash_dir)
        self.refuse("broken")
        self.refuse("flaky")

    def settings(self, **overrides) -> None:
        self.stash.set_plugin_settings("PlexSync", lib.plugin_settings(self.plex.url, max_retries=1, **overrides))

    def refuse(self, name: str) -> None:
        self.plex.fail(rf"[?&]id={self.keys[name]}(&|$)", 400, times=None, method="PUT")

    def run_task(self, task_name: str):
        job_id = self.host.run_task("PlexSync", task_name, None, None)
        deadline = time.time() + WAIT
        while self.host.find_job(job_id)["status"] != "FINISHED":
            assert time.time() < deadline, f"{task_name} did not finish"
            time.sleep(0.2)
        return self.host.results[job_id]

    def status(self) -> dict:
        return self.run_task("Queue Status").output

    def dead_letters(self) -> list[dict]:
        with Store(self.data_dir) as store:
            return store.dead_letters()


@pytest.fixture()
def world(tmp_path):
    with PlexEmulator(token=lib.PLEX_TOKEN) as plex, StashEmulator() as stash:
        built = World(stash, plex, tmp_path / "stash")
        yield built
        stop_detached_worker(built.data_dir)


def synced_world(world: World) -> World:
    world.settings()
    result = world.run_task("Sync All Scenes")
    assert result.output["succeeded"] == 2, result.output
    return world


def wait_for(browser, condition, message: str, timeout: float = WAIT):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, poll_frequency=0.2).until(lambda _driver: condition(), message)


def text_of(browser, test_id: str) -> str:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        return browser.find_element(By.CSS_SELECTOR, f"[data-testid='{test_id}']").text
    except (NoSuchElementException, StaleElementReferenceException):
        return ""


def card(browser, test_id: str) -> str:
    return text_of(browser, test_id).split("\n")[0]


def clickable(browser, test_id: str):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        found = browser.find_element(By.CSS_SELECTOR, f"[data-testid='{test_id}']")
        return found if found.is_enabled() else None
    except (NoSuchElementException, StaleElementReferenceException):
        return None


def click(browser, test_id: str) -> None:
    """Once the button takes clicks: the page disables its buttons while an action runs."""
    wait_for(browser, lambda: clickable(browser, test_id), f"{test_id} never became clickable").click()


def checks(browser) -> dict[str, str]:
    from selenium.webdriver.common.by import By

    try:
        return {item.get_attribute("data-testid")[len("setup-"):]: item.get_attribute("data-state")
                for item in browser.find_elements(By.CSS_SELECTOR, "[data-testid^='setup-']")}
    except Exception:  # re-rendered while read
        return {}


def test_a_new_install_works_through_the_checklist_with_its_buttons(world, browser, screenshot):
    browser.get(world.stash.url + "/")
    wait_for(browser, lambda: text_of(browser, "plexsync-nav"), "no PlexSync button in the nav bar")
    click(browser, "plexsync-nav")  # reached from the nav bar, as a user does
    wait_for(browser, lambda: len(checks(browser)) == 5, "no setup checklist")
    assert browser.find_element("css selector", "[data-testid='plexsync-page'] section").get_attribute(
        "data-testid") == "setup"  # the checklist comes first
    assert set(checks(browser).values()) == {"unknown"}
    assert "press Health Check" in text_of(browser, "fix-plex")

    # Health Check: Plex answers and takes the token, the library is found; the empty path map maps nothing,
    # and the line says which rule to set.
    click(browser, "action-health-check")
    wait_for(browser, lambda: "Health Check finished" in text_of(browser, "message"), "Health Check not reported")
    wait_for(browser, lambda: checks(browser).get("path_map") == "problem", "the path map problem is not shown")
    assert checks(browser) == {"plex": "ok", "token": "ok", "libraries": "ok", "path_map": "problem",
                               "sync_all": "unknown"}
    assert f"Set Path map to {lib.STASH_ROOT}={lib.PLEX_ROOT}" in text_of(browser, "fix-path_map")
    assert "Movies" in text_of(browser, "setup-libraries")
    screenshot("plexsync-setup")

    world.settings()  # the user sets the suggested rule in PlexSync's settings
    click(browser, "action-health-check")
    wait_for(browser, lambda: "Health Check finished" in text_of(browser, "message"), "Health Check not reported")
    wait_for(browser, lambda: checks(browser).get("path_map") == "ok", "the fixed path map is not ticked")
    click(browser, "action-sync-all")
    wait_for(browser, lambda: checks(browser).get("sync_all") == "ok", "Sync All is not ticked")
    assert set(checks(browser).values()) == {"ok"} and text_of(browser, "setup").startswith("Setup: all done")
    wait_for(browser, lambda: card(browser, "synced") == "2", "the page never showed the synced count")
    assert world.plex.item(world.keys["good"]).fields.get("title") == "Scene good"


def test_status_page_names_scenes_by_title_in_words_and_its_buttons_work(world, browser, screenshot):
    synced_world(world)
    world.run_task("Health Check")
    status = world.status()
    assert (status["synced"], status["dead"], status["waiting_for_plex"]) == (2, 2, 1), status
    browser.get(world.stash.url + "/plugin/PlexSync")
    wait_for(browser, lambda: card(browser, "synced") == "2", "the page never showed the synced count")
    for test_id, key in (("dead", "dead"), ("waiting", "waiting_for_plex"), ("skipped", "skipped")):
        assert card(browser, test_id) == str(status[key]), test_id
    # the waiting scene is among status's pending ones; the page does not count it twice
    assert card(browser, "pending") == str(status["pending"] - status["waiting_for_plex"]) == "0"
    assert text_of(browser, "connection") == "Plex connection: OK"
    tops = browser.execute_script(
        "return Array.from(document.querySelectorAll('.plexsync-card')).map(c => c.getBoundingClientRect().top)")
    assert browser.get_window_size()["width"] == 1280 and len(tops) == 7 and len(set(tops)) == 1, tops

    wait_for(browser, lambda: "Scene broken" in text_of(browser, "problems-failed"), "failed scenes not by title")
    failed = text_of(browser, "problems-failed")
    for name in ("broken", "flaky"):
        assert f"Scene {name}: Plex refused the request (400 Bad Request)" in failed, failed
    assert "To fix: Check the scene in Stash" in failed and "1 attempt," in failed
    waiting = text_of(browser, "problems-waiting_for_plex")
    assert f"Scene unlisted: Plex has not listed its file yet: {lib.PLEX_ROOT}/unlisted.mp4" in waiting, waiting
    page = text_of(browser, "plexsync-page")
    for raw in ("PlexRejected", "ItemNotInPlex", "<html", "Circuit", "scene " + world.scenes["broken"]):
        assert raw not in page, raw
    screenshot("plexsync-page")

    # A destructive button asks first; saying no deletes nothing.
    click(browser, "action-clear-dead-letters")
    browser.switch_to.alert.dismiss()
    wait_for(browser, lambda: "Nothing was deleted" in text_of(browser, "message"), "no answer to a refused clear")
    assert len(world.dead_letters()) == 2

    # Retry Failed: the flaky scene's Plex now takes the write, the broken one still refuses it.
    world.plex.clear_faults()
    world.refuse("broken")
    click(browser, "action-retry-failed")
    wait_for(browser, lambda: "2 failed scenes moved back" in text_of(browser, "message"), "retry not reported")
    wait_for(browser, lambda: card(browser, "synced") == "3" and card(browser, "dead") == "1",
             "the page never showed the retried scene synced and the broken one dead again")
    assert world.plex.item(world.keys["flaky"]).fields.get("title") == "Scene flaky"

    click(browser, "action-clear-dead-letters")
    browser.switch_to.alert.accept()
    wait_for(browser, lambda: "1 dead letter deleted." in text_of(browser, "message"), "clear not reported")
    assert world.dead_letters() == []
    wait_for(browser, lambda: card(browser, "dead") == "0", "the page kept showing the cleared dead letter")

    # Long work runs as Stash tasks (the job queue), followed until they finish.
    jobs_before = len(world.host.jobs)
    click(browser, "action-process-queue")
    wait_for(browser, lambda: "Process Queue finished" in text_of(browser, "message"), "Process Queue not reported")
    click(browser, "action-sync-recent")
    wait_for(browser, lambda: "Sync Recent finished" in text_of(browser, "message"), "Sync Recent not reported")
    ran = [job["description"] for job in list(world.host.jobs.values())[jobs_before:]]
    assert ran == ["Running plugin task: Process Queue", "Running plugin task: Sync Recent Scenes"]
    assert all(world.host.results[job_id].error is None for job_id in list(world.host.jobs)[jobs_before:])

    # Preview: a title changed in Stash (no hook fired) is shown old → new, and nothing reaches Plex.
    world.stash.update_scene(world.scenes["good"], title="Previewed title")
    writes_before = world.plex.writes()
    click(browser, "action-preview-sync")
    wait_for(browser, lambda: "Preview ready" in text_of(browser, "message"), "the preview never finished")
    wait_for(browser, lambda: any("Previewed title" in row.text and row.text.startswith("Previewed title")
                                  for row in browser.find_elements("css selector", "[data-testid='preview-row']")),
             "the preview does not name the scene by its title")
    rows = [row.text for row in browser.find_elements("css selector", "[data-testid='preview-row']")]
    assert any("title" in row and "Scene good" in row and row.count("Previewed title") == 2 for row in rows), rows
    assert "would change" in text_of(browser, "preview")
    assert world.plex.writes() == writes_before  # a preview writes nothing
    assert world.plex.item(world.keys["good"]).fields["title"] == "Scene good"
    browser.execute_script("document.querySelector(\"[data-testid='preview']\").scrollIntoView()")
    screenshot("plexsync-preview")


def test_scene_badge_shows_the_link_and_sync_now_queues_the_scene(world, browser, screenshot):
    synced_world(world)
    good = world.scenes["good"]
    browser.get(f"{world.stash.url}/scenes/{good}")
    wait_for(browser, lambda: text_of(browser, "plex-badge-label").startswith("Plex: synced"), "no synced badge")
    assert text_of(browser, "plex-badge-item") == f"· Plex item {world.keys['good']} (path)"
    screenshot("scene-badge")

    # A rename that fired no hook: only "Sync now" brings it to Plex.
    world.stash.update_scene(good, title="Renamed in Stash")
    started = time.perf_counter()
    click(browser, "sync-now")
    wait_for(browser, lambda: "Queued for Plex" in text_of(browser, "plex-badge-note"), "Sync now not confirmed")
    assert time.perf_counter() - started < 10  # queued and answered at once, no sync inside the request
    wait_for(browser, lambda: world.plex.item(world.keys["good"]).fields.get("title") == "Renamed in Stash",
             "the queued scene never reached Plex")

    browser.get(f"{world.stash.url}/scenes/{world.scenes['unlisted']}")
    wait_for(browser, lambda: "waiting for Plex to list the file" in text_of(browser, "plex-badge-label"),
             "the unlisted scene's badge does not say it waits for Plex")
    browser.get(f"{world.stash.url}/scenes/{world.scenes['broken']}")
    wait_for(browser, lambda: text_of(browser, "plex-badge-label") == "Plex: failed", "no failed badge")
    detail = text_of(browser, "plex-badge-detail")
    assert detail.startswith("— Plex refused the request (400 Bad Request) — Check the scene in Stash"), detail
    assert "PlexRejected" not in detail and "<" not in detail
