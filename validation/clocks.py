"""Where Plex's clock meets ours: one rule for every comparison across the two.

**The clock rule.** A Plex stamp (``updatedAt``, ``lastViewedAt``, ``viewedAt``, ``lastRatedAt``: Plex's epoch
seconds, a ``plex_stamp``) meets one of our moments (``time.time()`` seconds, ``_s``) only through these
functions: the two machines' clocks agree only within :data:`CLOCK_SKEW_S`.
"""

from __future__ import annotations

CLOCK_SKEW_S = 120  # Plex's clock and ours agree within this (NTP on both; a stamp further off is not believed)


def believable(plex_stamp: int, now_s: float) -> bool:
    """A stamp Plex's clock could show by our ``now_s``: an item dated further ahead (an edited date, a wrong
    clock) must not count as the newest change, or it would hold back every change after it."""
    return plex_stamp <= now_s + CLOCK_SKEW_S


def earliest_plex_present(now_s: float) -> int:
    """The earliest second Plex's clock can show while ours shows ``now_s``: anything Plex stamps from now on
    carries this stamp or a later one."""
    return int(now_s) - CLOCK_SKEW_S


def stamped_since(plex_stamp: int, our_s: float) -> bool:
    """Could Plex have stamped ``plex_stamp`` at or after our moment ``our_s``? Within the skew it could: a stamp a
    little before ``our_s`` may be the same moment on a slower clock."""
    return plex_stamp >= earliest_plex_present(our_s)


def plex_later(plex_stamp: int, other_s: float) -> bool:
    """Is Plex's stamp the later of the two? Read as given: within the skew the order is a best guess, and a tie
    goes to the other side (a Stash edit also reaches Plex through the push)."""
    return plex_stamp > other_s
