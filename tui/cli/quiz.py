"""Diagnose it: the rounds a seed chooses, each a preset and a hidden case (no Textual).

Each round draws its case independently, every case equally likely ("no bug" is one of
them, so a learner cannot assume something is broken, nor guess the last round by
elimination), then a preset on which that case's harm shows in the panes within 100
steps (``tests/cli/test_quiz.py`` proves it for every pair in :data:`POOL`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from engine import bugs
from engine.training.presets import PRESETS
from tui.cli.config import RunConfig

NO_BUG = "no-bug"
# The answer sheet's order: 1-6 the catalogue's bugs, 0 "no bug".
CASES: tuple[str, ...] = (NO_BUG, *bugs.BUGS)
QUIZ_PRESETS: tuple[str, ...] = ("tutorial", "moons", "xor", "circles", "spiral", "blobs")
# A case a preset cannot show: tanh's derivative in moons' relu net does nothing.
_HARMLESS = {("moons", bugs.TANH_DERIVATIVE)}
POOL: dict[str, tuple[str, ...]] = {
    case: tuple(p for p in QUIZ_PRESETS if (p, case) not in _HARMLESS) for case in CASES
}
DEFAULT_ROUNDS = 6
MAX_ROUNDS = 50


@dataclass(frozen=True)
class Round:
    number: int  # from 1
    preset: str
    case: str  # NO_BUG or a bug id

    @property
    def bug_ids(self) -> tuple[str, ...]:
        return () if self.case == NO_BUG else (self.case,)

    def run_config(self) -> RunConfig:
        """An ordinary run: the preset's data and settings, the hidden case's bug."""
        return RunConfig(dataset=self.preset, session=PRESETS[self.preset], bugs=self.bug_ids)


def case_title(case: str) -> str:
    return "no bug" if case == NO_BUG else bugs.BUGS[case].title


def rounds(seed: int, count: int = DEFAULT_ROUNDS) -> tuple[Round, ...]:
    """The rounds ``seed`` chooses: the same seed, the same rounds."""
    rng = random.Random(f"micrograd-tui quiz {seed}")
    chosen = []
    for number in range(1, count + 1):
        case = rng.choice(CASES)
        chosen.append(Round(number, rng.choice(POOL[case]), case))
    return tuple(chosen)


def answer_key(chosen: tuple[Round, ...]) -> str:
    """One line per round, for a teacher: ``round 1: moons, skip-zero-grad``."""
    return "".join(f"round {r.number}: {r.preset}, {r.case}\n" for r in chosen)


@dataclass(frozen=True)
class Played:
    """One answered round: what was hidden, what the learner said, and what it took."""

    round: Round
    answer: str  # NO_BUG or a bug id
    steps: int
    seconds: float
    used_twin: bool = False  # the clean twin is a hint: the score notes it

    @property
    def right(self) -> bool:
        return self.answer == self.round.case


class Game:
    """The rounds of one quiz and the answers given so far (no Textual: the app shows it)."""

    def __init__(self, chosen: tuple[Round, ...]) -> None:
        if not chosen:
            raise ValueError("a quiz needs at least one round")
        self.rounds = chosen
        self.played: list[Played] = []

    @property
    def current(self) -> Round | None:
        """The round to play next (None once every round is answered)."""
        return self.rounds[len(self.played)] if len(self.played) < len(self.rounds) else None

    def answer(self, case: str, steps: int, seconds: float, used_twin: bool = False) -> Played:
        if case not in CASES:
            raise ValueError(f"unknown answer {case!r} (known: {', '.join(CASES)})")
        if self.current is None:
            raise ValueError("every round is answered already")
        played = Played(self.current, case, steps, seconds, used_twin)
        self.played.append(played)
        return played

    @property
    def score(self) -> int:
        return sum(p.right for p in self.played)

    def summary(self) -> str:
        """The score, then one line per answered round (case, answer, steps, time)."""
        hints = sum(p.used_twin for p in self.played)
        lines = [
            f"score {self.score}/{len(self.played)}"
            + (f" ({hints} with the clean twin's hint)" if hints else "")
        ]
        for p in self.played:
            mark = "right" if p.right else "missed"
            lines.append(
                f"round {p.round.number} ({p.round.preset}): {p.round.case}, "
                f"answered {p.answer}, {mark}, {p.steps} steps, {p.seconds:.0f} s"
            )
        return "\n".join(lines)


# Which pane gives each case away, in one sentence; GRADCHECK_FAILS says whether g fails
# at the round's first weights (tests/test_cli_quiz.py holds every pool pair to it).
GAVE_AWAY: dict[str, str] = {
    NO_BUG: "Every pane agreed with a correct run: g passes and the loss falls.",
    bugs.OVERWRITE_GRAD: "The gradient check (g) fails: backprop's gradients are not the "
    "true ones (t), because each node keeps only its last path's share.",
    bugs.SKIP_ZERO_GRAD: "g passes, yet the loss parts from the clean twin's: the update "
    "applies gradients left over from earlier steps (compare the gradients pane with t).",
    bugs.ZERO_GRAD_AFTER_BACKWARD: "g passes, yet the gradients pane shows 0 everywhere and "
    "the loss stays flat: the gradients are wiped after backward().",
    bugs.GRADIENT_ASCENT: "g passes, yet the loss plot climbs instead of falling: the "
    "update steps up the gradient.",
    bugs.TANH_DERIVATIVE: "The gradient check (g) fails: backprop is off the true gradient "
    "(t) at the tanh units.",
    bugs.FORWARD_ORDER_BACKWARD: "The gradient check (g) fails and the gradients pane shows "
    "0 everywhere: backward() itself passes on nothing.",
}
GRADCHECK_FAILS: frozenset[str] = frozenset(bugs.BACKWARD_BUGS)
