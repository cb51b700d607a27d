"""The PlexSync page and the scene badge in a real browser, against the emulated Stash that runs the real
PlexSync.py for every runPluginOperation and runPluginTask, exactly as Stash does."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from emulators import demo_library as lib
from emulators.plex_server import PlexEmulator
from emulators.stash_server import StashEmulator
from sync_queue.store import Store

REPO = Path(__file__).resolve().parents[2]
WAIT = 45.0

pytestmark = pytest.mark.e2e


class World:
    """Four scenes: two that sync, two whose Plex PUT is refused (dead letters), one Plex has not listed."""

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
        stash.set_plugin_settings("PlexSync", lib.plugin_settings(plex.url, max_retries=1))
        self.host = stash.install_plugin(REPO, stash_dir)
        self.refuse("broken")
        self.refuse("flaky")

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

    def stop_worker(self) -> None:
        with Store(self.data_dir) as store:
            holder = store.lease_holder()
        if holder is not None and holder["pid"]:
            import os
            import signal

            try:
                os.kill(holder["pid"], getattr(signal, "SIGKILL", signal.SIGTERM))
            except OSError:
                pass


@pytest.fixture()
def world(tmp_path):
    with PlexEmulator(token=lib.PLEX_TOKEN) as plex, StashEmulator() as stash:
        built = World(stash, plex, tmp_path / "stash")
        result = built.run_task("Sync All Scenes")
        assert result.output["succeeded"] == 2, result.output
        yield built
        built.stop_worker()


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


def click(browser, test_id: str) -> None:
    from selenium.webdriver.common.by import By

    browser.find_element(By.CSS_SELECTOR, f"[data-testid='{test_id}']").click()


def test_status_page_shows_the_store_and_its_buttons_work(world, browser, screenshot):
    status = world.status()
    assert (status["synced"], status["dead"], status["waiting_for_plex"]) == (2, 2, 1), status
    browser.get(world.stash.url + "/")
    wait_for(browser, lambda: text_of(browser, "plexsync-nav"), "no PlexSync button in the nav bar")
    click(browser, "plexsync-nav")  # reached from the nav bar, as a user does
    wait_for(browser, lambda: card(browser, "synced") == "2", "the page never showed the synced count")
    for test_id, key in (("dead", "dead"), ("waiting", "waiting_for_plex"), ("skipped", "skipped")):
        assert card(browser, test_id) == str(status[key]), test_id
    # the waiting scene is among status's pending ones; the page does not count it twice
    assert card(browser, "pending") == str(status["pending"] - status["waiting_for_plex"]) == "0"
    dead_text = text_of(browser, "dead-letters")
    for letter in world.dead_letters():
        assert f"scene {letter['scene_id']}" in dead_text and letter["error_class"] in dead_text
    assert "Circuit to Plex closed" in text_of(browser, "facts")
    assert "unlisted" not in dead_text and f"scene {world.scenes['unlisted']}" in text_of(browser, "attention")
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
    wait_for(browser, lambda: "2 dead letters moved back" in text_of(browser, "message"), "retry not reported")
    wait_for(browser, lambda: card(browser, "synced") == "3" and card(browser, "dead") == "1",
             "the page never showed the retried scene synced and the broken one dead again")
    assert world.plex.item(world.keys["flaky"]).fields.get("title") == "Scene flaky"

    click(browser, "action-clear-dead-letters")
    browser.switch_to.alert.accept()
    wait_for(browser, lambda: "1 dead letters deleted" in text_of(browser, "message"), "clear not reported")
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


def test_scene_badge_shows_the_link_and_sync_now_queues_the_scene(world, browser, screenshot):
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
    assert "400" in text_of(browser, "plex-badge-detail") or "Bad" in text_of(browser, "plex-badge-detail")
