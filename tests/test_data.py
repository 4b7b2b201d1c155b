"""The shipped chess data: it loads, and it reproduces the published tournament totals."""

import numpy as np
import pytest

from dpo_toy.data import load_chess

# Final scores as published in the tournament books (AVRO 1938; Zurich Candidates 1953).
AVRO = {
    "Paul Keres": 8.5, "Reuben Fine": 8.5, "Mikhail Botvinnik": 7.5, "Alexander Alekhine": 7.0,
    "Max Euwe": 7.0, "Samuel Reshevsky": 7.0, "Jose Raul Capablanca": 6.0, "Salo Flohr": 4.5,
}  # fmt: skip
ZURICH = {
    "Vasily Smyslov": 18.0, "David Bronstein": 16.0, "Paul Keres": 16.0, "Samuel Reshevsky": 16.0,
    "Tigran Petrosian": 15.0, "Efim Geller": 14.5, "Miguel Najdorf": 14.5, "Alexander Kotov": 14.0,
    "Mark Taimanov": 14.0, "Yuri Averbakh": 13.5, "Isaac Boleslavsky": 13.5, "Laszlo Szabo": 13.0,
    "Svetozar Gligoric": 12.5, "Max Euwe": 11.5, "Gideon Stahlberg": 8.0,
}  # fmt: skip


@pytest.mark.parametrize("event, published, n_games", [("AVRO", AVRO, 56), ("Zurich Candidates", ZURICH, 210)])
def test_totals_match_the_published_crosstables(event, published, n_games):
    """Every player's total, recomputed from the games, equals the published one."""
    games = load_chess(event)
    assert len(games.score_a) == n_games
    assert dict(zip(games.names, games.totals())) == published


def test_double_round_robin_structure():
    """Each pair in an event met exactly twice; 20 players pooled; only three played both events."""
    games = load_chess()
    assert games.n_players == 20 and len(games.score_a) == 266
    for event in ("AVRO", "Zurich Candidates"):
        mask = games.event == event
        pairs = np.sort(np.c_[games.player_a[mask], games.player_b[mask]], axis=1)
        _, counts = np.unique(pairs, axis=0, return_counts=True)
        assert (counts == 2).all()
    both = set(load_chess("AVRO").names) & set(load_chess("Zurich Candidates").names)
    assert both == {"Paul Keres", "Samuel Reshevsky", "Max Euwe"}


def test_unknown_event_and_name_are_clear_errors():
    """Asking for an event or a player that is not there names what is."""
    with pytest.raises(ValueError, match="event must be one of"):
        load_chess("Linares")
    with pytest.raises(ValueError, match="no player called"):
        load_chess().index("Magnus Carlsen")
