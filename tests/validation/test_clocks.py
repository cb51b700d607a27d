"""The one rule where Plex's clock meets ours (validation.clocks)."""

from validation.clocks import CLOCK_SKEW_S, believable, earliest_plex_present, plex_later, stamped_since

NOW_S = 1_800_000_000.7


def test_a_stamp_ahead_by_more_than_the_skew_is_not_believed():
    assert believable(int(NOW_S) + CLOCK_SKEW_S, NOW_S)
    assert not believable(int(NOW_S) + CLOCK_SKEW_S + 2, NOW_S)


def test_plex_present_is_our_clock_less_the_skew_in_whole_seconds():
    assert earliest_plex_present(NOW_S) == 1_800_000_000 - CLOCK_SKEW_S


def test_a_stamp_from_a_slower_plex_clock_still_counts_as_since_our_moment():
    assert stamped_since(int(NOW_S) - 60, NOW_S)  # Plex a minute behind us stamped it just now
    assert stamped_since(int(NOW_S) - CLOCK_SKEW_S, NOW_S)
    assert not stamped_since(int(NOW_S) - CLOCK_SKEW_S - 1, NOW_S)


def test_a_tie_is_not_plex_later():
    assert plex_later(101, 100)
    assert not plex_later(100, 100)
