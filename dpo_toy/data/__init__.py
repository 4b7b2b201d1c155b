"""Data shipped with the package: the AVRO 1938 and Zurich 1953 chess tournaments."""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CHESS_CSV = Path(__file__).with_name("chess_1938_1953.csv")


@dataclass(frozen=True)
class Games:
    """Pairwise results: ``names[player_a[k]]`` met ``names[player_b[k]]`` and scored ``score_a[k]``."""

    names: tuple
    player_a: np.ndarray  # (n_games,) int
    player_b: np.ndarray  # (n_games,) int
    score_a: np.ndarray  # (n_games,) 1 win, 0.5 draw, 0 loss
    event: np.ndarray  # (n_games,) str

    @property
    def n_players(self):
        return len(self.names)

    def index(self, name):
        """The index of the player called ``name``."""
        try:
            return self.names.index(name)
        except ValueError:
            raise ValueError(f"no player called {name!r}; players are: {', '.join(self.names)}") from None

    def totals(self):
        """Each player's total score (draws count ½), in ``names`` order."""
        return np.bincount(self.player_a, self.score_a, self.n_players) + np.bincount(
            self.player_b, 1.0 - self.score_a, self.n_players
        )


def load_chess(event=None):
    """Every game of AVRO 1938 and Zurich 1953; ``event`` = "AVRO" or "Zurich Candidates" keeps one of them.

    Players are numbered in order of first appearance in the file.
    """
    with open(CHESS_CSV, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    events = sorted({r["event"] for r in rows})
    if event is not None:
        if event not in events:
            raise ValueError(f"event must be one of {events} or None, got {event!r}")
        rows = [r for r in rows if r["event"] == event]
    names = {}
    for r in rows:
        for key in ("player_a", "player_b"):
            names.setdefault(r[key], len(names))
    return Games(
        names=tuple(names),
        player_a=np.array([names[r["player_a"]] for r in rows]),
        player_b=np.array([names[r["player_b"]] for r in rows]),
        score_a=np.array([float(r["score_a"]) for r in rows]),
        event=np.array([r["event"] for r in rows]),
    )
