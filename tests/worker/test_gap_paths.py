"""The gap report maps a library's paths one folder at a time (``worker.tasks.gaps.FolderKeys``): for every path it
must give exactly what mapping the whole path gives (``PathMapper.to_plex``, then ``path_key``)."""

from __future__ import annotations

import pytest

from plex.matcher import PathMapper, path_key
from worker.tasks.gaps import FolderKeys

RULES = [("/data/videos", "/media/stash"), ("D:\\Videos", "/mnt/videos"), ("/data/videos/special", "E:\\Special"),
         ("\\\\nas\\share", "/volume1/share"), ("/", "/root-mapped")]
PATHS = [
    "/data/videos/a.mp4", "/data/videos/sub dir/Zoë.mkv", "/data/videos/special/x/y.MP4",
    "/data/videos2/not-under.mp4", "/elsewhere/b.mp4", "/c.mp4", "//double/slash.mp4",
    "D:\\Videos\\Studio\\Café.mp4", "d:/videos/lower/case.mp4", "D:\\Other\\CASE.mp4",
    "\\\\nas\\share\\folder\\f.mp4", "\\\\?\\C:\\long\\path\\file.mp4", "C:\\root.mp4",
    "/data/videos/nfd/Zoe\u0308.mp4", "/data/videos/trailing/",
]


@pytest.mark.parametrize("rules", [RULES, RULES[:-1], []], ids=["with a root rule", "usual", "no path map"])
def test_folder_mapping_gives_what_mapping_the_whole_path_gives(rules):
    mapper = PathMapper(rules)
    keys = FolderKeys(mapper)
    for path in PATHS + PATHS:  # the second time from the folder cache
        assert keys.mapped(path) == (mapper.to_plex(path), path_key(mapper.to_plex(path))), path
