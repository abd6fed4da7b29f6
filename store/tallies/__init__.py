"""The tallies' SQL, moved whole from services/ (bench/tallies times it): the breakdown keys and their rollup
(keys.py), each case type's indicator aggregates (measures.py), the deadline and backlog counts (deadlines.py),
and the intervals, re-referrals and state-to-state steps (intervals.py).

services/tallies.py and its tally_* modules assemble the figures, hide small cells and compare with targets.
"""
