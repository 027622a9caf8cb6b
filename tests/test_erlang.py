"""Erlang C against published values.

The worked example of Call Centre Helper's "Erlang C formula made simple": 100 calls in half an hour
(200 an hour), 180 s handle time (10 erlangs), target 80 % answered in 20 s. Published: with 11 to 14
agents the chance of waiting is 68.21 %, 44.94 %, 28.53 %, 17.41 % and the service level 39.0 %,
64.0 %, 79.6 %, 88.8 % (13 agents fall just short of 80 %); 14 agents are needed, with an ASA of 7.8 s,
and 20 once 30 % shrinkage is allowed for.
"""
from __future__ import annotations

import pytest

from handoff.reports.erlang import agents_needed, average_speed_of_answer, service_level, wait_probability

PUBLISHED = {11: (0.6821, 0.390), 12: (0.4494, 0.640), 13: (0.2853, 0.796), 14: (0.1741, 0.888)}


@pytest.mark.parametrize("agents", sorted(PUBLISHED))
def test_wait_probability_and_service_level_match_the_published_table(agents):
    waiting, level = PUBLISHED[agents]
    assert wait_probability(10.0, agents) == pytest.approx(waiting, abs=5e-4)
    assert service_level(10.0, agents, 180, 20) == pytest.approx(level, abs=5e-4)  # published to 0.1 %


def test_agents_needed_with_shrinkage_and_the_occupancy_cap():
    plan = agents_needed(200, 180, target=0.8, answer_seconds=20, max_occupancy=1.0, shrinkage=0.3)
    assert (plan.traffic, plan.agents, plan.scheduled) == (10.0, 14, 20)
    assert plan.asa_seconds == 7.8
    capped = agents_needed(200, 180, target=0.8, answer_seconds=20, max_occupancy=0.6, shrinkage=0.0)
    assert capped.agents == 17 and capped.occupancy <= 0.6                     # 10 / 0.6 -> 17, above 14


def test_edge_cases():
    assert wait_probability(5.0, 5) == 1.0 and average_speed_of_answer(5.0, 4, 180) == float("inf")
    assert agents_needed(0, 180).agents == 0
    assert agents_needed(2000, 300, shrinkage=0).agents > 2000 * 300 / 3600     # large traffic: no overflow
    with pytest.raises(ValueError):
        agents_needed(10, 180, target=1.5)
