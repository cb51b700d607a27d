"""A scene's trouble in words: never a class name, a server's page or a URL; always what to do when something can
be done."""

from __future__ import annotations

import pytest

from worker.tasks.reasons import explain, explain_entry, plain

OLD_REFUSAL = ("Plex refused the request: (413) request_entity_too_large; http://plex:32400/library/sections/1/all "
               "<html><head><title>413 Request Entity Too Large</title></head><body><center>nginx</center></body>"
               "</html>")


@pytest.mark.parametrize(("message", "expected"), [
    (OLD_REFUSAL, "Plex refused the request (413 Request Entity Too Large)"),
    ("Unexpected error talking to Plex (TypeError): 'NoneType' object is not subscriptable",
     "Unexpected error talking to Plex: 'NoneType' object is not subscriptable"),
    ("ModuleNotFoundError: No module named 'plexapi'", "No module named 'plexapi'"),
    ("Plex did not answer in time at http://plex:32400/identity?X-Plex-Token=x", "Plex did not answer in time"),
])
def test_plain_keeps_the_words_and_drops_pages_urls_and_class_names(message, expected):
    assert plain(message) == expected


def test_each_kind_of_trouble_says_what_to_do():
    too_large = explain("dead", "PlexRejected", OLD_REFUSAL)
    assert "larger than a proxy in front of Plex accepts" in too_large.words
    assert "client_max_body_size" in too_large.fix and "Retry Failed Jobs" in too_large.fix
    skipped = explain("skipped", "ItemNotInPlex", "No Plex item has this file: /media/a.mp4")
    assert skipped.words == "Not in Plex, so skipped (Skip scenes not in Plex is on): /media/a.mp4"
    assert explain("dead", "SceneDataError", "date: '2024-13-45' is not a date").words == \
        "date: '2024-13-45' is not a date"
    bug = explain_entry({"scene_id": 4, "error_class": "KeyError", "message": "KeyError: 'ratingKey'"})
    assert bug.words == "An unexpected error: 'ratingKey'" and "worker log" in bug.fix
    assert explain("synced_in_part", "ImageUnusable", "the cover is 12 MB").words == \
        "Synced, but without its cover: the cover is 12 MB"
    for reason in (too_large, skipped, bug):
        assert not any(name in reason.words + reason.fix for name in ("PlexRejected", "ItemNotInPlex", "KeyError"))
