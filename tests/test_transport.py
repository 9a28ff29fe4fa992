"""Balanced assignment of wording clusters to declared descriptors (pipeline/analysis/transport.py)."""

import numpy as np

from pipeline.analysis.transport import balanced_assignment

# four wordings; descriptor 0 is a "hub": every wording resembles it a little more than its own
HUB = np.array([
    [0.40, 0.35, 0.30],
    [0.42, 0.30, 0.38],
    [0.45, 0.20, 0.25],
    [0.30, 0.28, 0.10],
])


def test_a_hub_descriptor_cannot_take_every_wording():
    assert HUB.argmax(axis=1).tolist() == [0, 0, 0, 0]  # nearest descriptor: the hub takes all
    assert balanced_assignment(HUB, np.ones(4), np.ones(3)).tolist() == [1, 2, 0, 1]


def test_clear_similarities_win_over_the_equal_share_prior():
    # three wordings all clearly descriptor 1's (0.3 above the rest): the prior does not move them
    s = np.array([[0.1, 0.6, 0.2], [0.2, 0.7, 0.1], [0.1, 0.65, 0.15]])
    assert balanced_assignment(s, np.ones(3), np.ones(3)).tolist() == [1, 1, 1]


def test_a_full_descriptor_takes_no_more_and_mass_counts():
    # descriptor 0 has almost no capacity left (its wordings were confirmed): the hub's pull is gone
    assert balanced_assignment(HUB, np.ones(4), np.array([0.05, 1, 1])).tolist() == [1, 2, 2, 1]
    # one heavy wording (20 phrases) fills descriptor 0's share; the light ones go elsewhere
    assert balanced_assignment(HUB, np.array([1, 1, 20, 1]), np.ones(3)).tolist()[2] == 0


def test_no_rows():
    assert balanced_assignment(np.zeros((0, 3)), np.zeros(0), np.ones(3)).tolist() == []
