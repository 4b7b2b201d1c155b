"""Chapter 9, scaling up with TRL: TRL's per-token IPO loss and the rewards/accuracies metric."""

import numpy as np

from .. import losses
from ._engine import Case, Exercise, LibraryFunction, Mistake
from ._kinds import Choice, Prediction

_rng = np.random.default_rng([11, 9])  # this chapter's inputs; other chapters draw from their own

_trl_ipo_loss = LibraryFunction("dpo_toy.trl_bridge", "trl_ipo_loss")  # imports PyTorch and TRL


def _length_cases():
    out = []
    for label, n, beta in (
        ("4 random pairs, beta=0.5", 4, 0.5),
        ("6 pairs, beta=0.1", 6, 0.1),
        ("3 pairs, beta=2", 3, 2.0),
        ("1 pair, beta=1", 1, 1.0),
        ("10 pairs, beta=0.3", 10, 0.3),
        ("5 pairs, beta=5", 5, 5.0),
        ("8 pairs, beta=0.01", 8, 0.01),
    ):
        logps = tuple(-np.abs(_rng.normal(size=n)) * 8 - 1 for _ in range(4))
        lengths = tuple(_rng.integers(2, 9, n).astype(float) for _ in range(2))
        out.append(Case(label, (*logps, *lengths, beta)))
    long = (np.array([-900.0, -5.0]), np.array([-3.0, -700.0]), np.array([-1.0, -2.0]), np.array([-2.0, -1.0]))
    out.append(
        Case("completions of 500 tokens", (*long, np.array([500.0, 2.0]), np.array([1.0, 400.0]), 0.1), hard=True)
    )
    return tuple(out)


def _reward_accuracy(chosen_rewards, rejected_rewards):
    """rewards/accuracies from the rewards themselves: dpo_rewards with zero reference and β = 1."""
    zeros = np.zeros_like(chosen_rewards)
    return losses.dpo_rewards(chosen_rewards, rejected_rewards, zeros, zeros, 1.0).summary()["rewards/accuracies"]


_ACCURACY_CASES = (
    Case("no ties", (np.array([0.3, -0.1, 0.5, 0.2]), np.array([0.1, 0.2, -0.4, 0.6]))),
    Case("a tie at 0 (the first step)", (np.zeros(4), np.zeros(4))),
    Case("one tie", (np.array([0.2, 0.7, -0.3]), np.array([0.2, 0.1, -0.5]))),
    Case("10 random pairs", (_rng.normal(size=10), _rng.normal(size=10))),
    Case("20 random pairs, rounded: some ties", (np.round(_rng.normal(size=20), 1), np.round(_rng.normal(size=20), 1))),
    Case("one pair, chosen ahead", (np.array([1.0]), np.array([-1.0]))),
    Case("all rejected ahead", (np.array([-1.0, -2.0, 0.0]), np.array([1.0, 0.0, 0.5]))),
    Case("rewards of +-1e300", (np.array([1e300, -1e300]), np.array([-1e300, 1e300])), hard=True),
)

EXERCISES = (
    Exercise(
        "9.1",
        "trl_ipo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, "
        "chosen_lengths, rejected_lengths, beta)",
        _trl_ipo_loss,
        _length_cases(),
        (
            Mistake(
                "not per token",
                "TRL divides each completion's log-ratio by its own number of tokens before the square",
                lambda pc, pr, rc, rr, lc, lr, b: losses.dpo_loss(pc, pr, rc, rr, b, loss_type="ipo"),
                examples=(lambda pc, pr, rc, rr, lc, lr, b: np.mean(((pc - rc) - (pr - rr) - 1 / (2 * b)) ** 2),),
            ),
            Mistake(
                "shared length",
                "divide the chosen log-ratio by the chosen length and the rejected one by the rejected length",
                lambda pc, pr, rc, rr, lc, lr, b: _trl_ipo_loss(pc, pr, rc, rr, lc + lr, lc + lr, b),
                examples=(
                    lambda pc, pr, rc, rr, lc, lr, b: np.mean((((pc - rc) - (pr - rr)) / (lc + lr) - 1 / (2 * b)) ** 2),
                ),
            ),
            Mistake(
                "sum",
                "you summed over pairs; the loss is the mean",
                lambda *a: _trl_ipo_loss(*a, reduction="sum"),
                examples=(
                    lambda pc, pr, rc, rr, lc, lr, b: np.sum(((pc - rc) / lc - (pr - rr) / lr - 1 / (2 * b)) ** 2),
                ),
            ),  # fmt: skip
        ),
        arg_names=(*losses.LOGPS_NAMES, "chosen_lengths", "rejected_lengths", "beta"),
        title="TRL's per-token IPO loss",
        difficulty=2,
    ),
    Exercise(
        "9.2",
        "reward_accuracy(chosen_rewards, rejected_rewards) -> rewards/accuracies",
        _reward_accuracy,
        _ACCURACY_CASES,
        (
            Mistake(
                "ties count",
                "a tie is not a win: TRL and dpo_toy use a strict >, so at step 0 (all ties) the accuracy is 0",
                lambda c, r: float(np.mean(c >= r)),
                examples=(lambda c, r: np.count_nonzero(c >= r) / len(c),),
            ),
            Mistake(
                "count",
                "you returned how many; rewards/accuracies is the fraction of pairs (a mean)",
                lambda c, r: float(np.sum(c > r)),
                examples=(lambda c, r: np.count_nonzero(c > r),),
            ),
        ),
        arg_names=("chosen_rewards", "rejected_rewards"),
        title="the rewards/accuracies metric",
        difficulty=1,
    ),
)


def _first_step(metric):
    """A logged metric at step 1, where the policy is still the reference (a tie in every pair).

    Any equal log-probabilities stand in for the batch: the logged numbers depend only on the
    log-ratios, all zero at the start.
    """
    logps = np.full(8, -20.0)
    if metric == "loss":
        return float(losses.dpo_loss(logps, logps - 3.0, logps, logps - 3.0, 0.5))
    return losses.dpo_rewards(logps, logps - 3.0, logps, logps - 3.0, 0.5).summary()[metric]


QUESTIONS = (
    Choice(
        "9.r1",
        "the name map: which DPOConfig field is β, and what the reference model is",
        options={
            "a": "DPOConfig(beta=...); the reference is DPOTrainer's ref_model (or, with None, a frozen copy "
            "of the starting policy that TRL makes)",
            "b": "DPOConfig(learning_rate=...); the reference is the model being trained",
            "c": "DPOConfig(beta=...); the reference is ref_model, which TRL trains alongside the policy",
            "d": "DPOConfig(label_smoothing=...); the reference is the tokenizer's chat template",
        },
        answer="a",
        why={
            "b": "β is the KL strength inside the loss (chapters 1 and 6), not a step size; and a reference "
            "equal to the trained model makes every log-ratio log(π_θ/π_ref) zero",
            "c": "the reference is frozen (sequences.freeze in chapter 7): it is the anchor of the KL term, "
            "so training it would move the target the policy is pulled toward",
            "d": "label_smoothing is ε of conservative DPO / robust DPO, not β; a template formats text, it "
            "assigns no probabilities",
        },
        names={"b": "beta is a learning rate", "c": "trained reference", "d": "beta is label smoothing"},
        explain="beta=b is dpo_loss(..., beta=b); ref_model is π_ref, frozen.",
    ),
    Prediction(
        "9.p1",
        "the first logged loss of a DPOTrainer run (β = 0.5, sigmoid loss)",
        truth=lambda: _first_step("loss"),
        atol=0.01,
        rtol=0.0,
        mistakes=(
            Mistake("zero loss", "the policy equals the reference, but the loss is −log σ(0), not 0", lambda: 0.0),
            Mistake(
                "beta times ln 2", "β multiplies the log-ratios, which are 0: −log σ(β·0) = ln 2", lambda: np.log(2) / 2
            ),
        ),
        explain="At step 1 π_θ = π_ref, so every margin is 0 and the loss is −log σ(0) = ln 2.",
    ),
    Prediction(
        "9.p2",
        "the first logged rewards/accuracies of a DPOTrainer run",
        truth=lambda: _first_step("rewards/accuracies"),
        atol=0.05,
        rtol=0.0,
        mistakes=(
            Mistake(
                "tie counts half", "a tie is not half a win: accuracy counts chosen > rejected strictly", lambda: 0.5
            ),
            Mistake("tie counts as a win", "a tie is not a win: the accuracy uses a strict >", lambda: 1.0),
        ),
        explain="Every implicit reward is 0 at step 1, so no pair has chosen > rejected: accuracy 0.",
    ),
)
