"""Chapter 8, RLHF vs DPO: the KL-penalised REINFORCE gradient and PPO's clipped objective."""

import numpy as np

from .. import policy, rlhf, stable, toy, training
from ._cases import distribution, france_args
from ._engine import Case, Exercise, Mistake
from ._kinds import Choice, Prediction

_rng = np.random.default_rng([11, 8])  # this chapter's inputs; other chapters draw from their own

_PI_REF, _REWARDS = france_args()


def _pg_cases():
    out = []
    for label, beta, size in (
        ("France, beta=1, 8 samples", 1.0, 8),
        ("France, beta=0.2, 20 samples", 0.2, 20),
        ("France, beta=5, 3 samples", 5.0, 3),
        ("France, beta=0.05, 64 samples", 0.05, 64),
    ):
        logits = np.log(_PI_REF) + _rng.normal(0, 0.3, 4)
        samples = _rng.choice(4, size=size, p=stable.softmax(logits))
        out.append(Case(label, (logits, np.log(_PI_REF), _REWARDS.copy(), samples, beta)))
    for label, n, size, beta in (("6 random responses, beta=0.5", 6, 12, 0.5), ("10 responses, beta=2", 10, 30, 2.0)):
        out.append(
            Case(
                label,
                (
                    _rng.normal(size=n),
                    np.log(distribution(_rng, n)),
                    _rng.normal(size=n),
                    _rng.integers(0, n, size),
                    beta,
                ),
            )
        )
    out.append(
        Case("one sample (advantage 0)", (_rng.normal(size=4), np.log(_PI_REF), _REWARDS.copy(), np.array([2]), 1.0))
    )
    logits = np.array([30.0, 0.0, -30.0, 0.0])  # pi nearly one-hot: log pi of -60 for the last response
    out.append(
        Case(
            "logits of +-30, beta=1",
            (logits, np.log(_PI_REF), _REWARDS.copy(), np.array([0, 0, 1, 3, 2]), 1.0),
            hard=True,
        )
    )
    return tuple(out)


def _learner_pg(kl_sign=-1.0, baseline=True, reduce=np.mean):
    """The REINFORCE estimate the way a learner writes it (one sample at a time), with a slip."""

    def grad(logits, ref_logps, rewards, samples, beta):
        logps = logits - np.log(np.sum(np.exp(logits)))
        score = rewards[samples] + kl_sign * beta * (logps[samples] - ref_logps[samples])
        advantage = score - score.mean() if baseline else score
        terms = [a * (np.eye(logits.size)[y] - np.exp(logps)) for y, a in zip(samples, advantage)]
        return reduce(np.array(terms), axis=0)

    return grad


def _kl_term(logits, ref_logps, beta):
    """β·(log π − log π_ref) per response: what the penalty subtracts from each reward."""
    return beta * (stable.log_softmax(logits) - ref_logps)


def _pg_no_kl(logits, ref_logps, rewards, samples, beta):
    """The gradient with the KL penalty left out: rewards shifted so the library's penalty cancels."""
    return rlhf.policy_gradient(logits, ref_logps, rewards + _kl_term(logits, ref_logps, beta), samples, beta)


def _pg_kl_sign(logits, ref_logps, rewards, samples, beta):
    """The gradient with r + β·log(π/π_ref): the penalty turned into a bonus."""
    return rlhf.policy_gradient(logits, ref_logps, rewards + 2 * _kl_term(logits, ref_logps, beta), samples, beta)


def _ppo_with(how):
    """PPO's objective with a classic slip (for the mistakes of 8.2)."""

    def objective(ratio, advantage, clip):
        clipped = np.clip(ratio, 1 - clip, 1 + clip)
        if how == "no clip":
            return float(np.mean(ratio * advantage))
        if how == "max":
            return float(np.mean(np.maximum(ratio * advantage, clipped * advantage)))
        return float(np.mean(np.minimum(ratio * advantage, ratio * np.clip(advantage, -clip, clip))))

    return objective


_PPO_CASES = tuple(
    Case(label, (np.exp(_rng.normal(0, spread, n)), _rng.normal(size=n), clip))
    for label, n, clip, spread in (
        ("8 random samples, clip 0.2", 8, 0.2, 0.3),
        ("20 samples, clip 0.1", 20, 0.1, 0.3),
        ("5 samples, clip 0.3", 5, 0.3, 0.3),
        ("1 sample, clip 0.2", 1, 0.2, 0.5),
        ("50 samples, clip 0.2, ratios far from 1", 50, 0.2, 1.0),
        ("12 samples, clip 0.05", 12, 0.05, 0.2),
    )
) + (
    Case("ratio = 1 everywhere: the plain mean advantage", (np.ones(6), _rng.normal(size=6), 0.2)),
    Case(
        "ratios of 1e-3 and 1e3", (np.array([1e-3, 1e3, 1e-3, 1e3]), np.array([1.0, 1.0, -1.0, -1.0]), 0.2), hard=True
    ),
)

EXERCISES = (
    Exercise(
        "8.1",
        "kl_policy_gradient(logits, ref_logps, rewards, samples, beta) -> the gradient estimate for the logits",
        rlhf.policy_gradient,
        _pg_cases(),
        (
            Mistake(
                "no KL",
                "the KL penalty is missing: each sample's score is r(y) - beta * (log pi(y) - log pi_ref(y))",
                _pg_no_kl,
                examples=(_learner_pg(kl_sign=0.0),),
            ),
            Mistake(
                "KL sign",
                "the KL term has the wrong sign: drifting from pi_ref must cost, r(y) - beta * log(pi/pi_ref)",
                _pg_kl_sign,
                examples=(_learner_pg(kl_sign=1.0),),
            ),
            Mistake(
                "no baseline",
                "subtract the batch's mean score (the baseline) from each score before weighting",
                lambda lo, rl, r, s, b: rlhf.policy_gradient(lo, rl, r, s, b, baseline=False),
                examples=(_learner_pg(baseline=False),),
            ),
            Mistake(
                "sum",
                "you summed over the samples; the estimate is their mean (divide by the batch size)",
                lambda lo, rl, r, s, b: rlhf.policy_gradient(lo, rl, r, s, b) * s.size,
                examples=(_learner_pg(reduce=np.sum),),
            ),
        ),
        arg_names=("logits", "ref_logps", "rewards", "samples", "beta"),
        title="the KL-penalised REINFORCE gradient for softmax logits",
        difficulty=3,
    ),
    Exercise(
        "8.2",
        "ppo_clipped_objective(ratio, advantage, clip) -> mean over samples",
        rlhf.ppo_clipped_objective,
        _PPO_CASES,
        (
            Mistake(
                "no clip",
                "without the clip this is the plain importance-weighted objective: use "
                "min(ratio * A, clip(ratio, 1 - clip, 1 + clip) * A)",
                _ppo_with("no clip"),
                examples=(lambda r, a, c: np.mean(r * a),),
            ),
            Mistake(
                "max",
                "PPO takes the min of the two terms (a pessimistic bound), not the max",
                _ppo_with("max"),
                examples=(lambda r, a, c: np.mean(np.maximum(r * a, np.clip(r, 1 - c, 1 + c) * a)),),
            ),
            Mistake(
                "clipped advantage",
                "clip the probability ratio to [1 - clip, 1 + clip], not the advantage",
                _ppo_with("clipped advantage"),
                examples=(lambda r, a, c: np.mean(np.minimum(r * a, r * np.clip(a, -c, c))),),
            ),
        ),
        arg_names=("ratio", "advantage", "clip"),
        title="PPO's clipped surrogate objective",
        difficulty=2,
    ),
)


def _unpinned():
    """Chapter 8's 30 comparisons (seed 0) in which the two Paris answers won every comparison."""
    france = toy.capital_of_france()
    few = training.sample_pairs(france, 30, seed=0).merged()
    return france, few, rlhf.fit_reward_model(few, len(france))


def _who_keeps_pushing():
    """Which pipeline keeps driving the losers down on the unpinned 30 comparisons (an option key).

    RLHF: its target, π* of the L2-regularised reward model, has a smallest probability > 0 and the
    RL run ends within a factor 10 of it. DPO: its smallest probability falls by more than 4× when
    training goes from 2,000 to 8,000 steps.
    """
    france, few, r_few = _unpinned()
    target = policy.optimal_policy(france.pi_ref, r_few, 1.0)
    rl = rlhf.train_rl(france.pi_ref, r_few, 1.0, steps=2000, batch=256, lr=0.05, seed=0, record_every=2000).final
    rl_settles = target.min() > 0 and abs(np.log(rl.min() / target.min())) < np.log(10)
    short, long = (
        training.train_tabular_dpo(france, few, 1.0, steps=s, lr=0.2, record_every=s).final.min() for s in (2000, 8000)
    )
    dpo_keeps = long < short / 4
    return {(True, True): "b", (False, True): "c", (True, False): "d", (False, False): "a"}[(rl_settles, dpo_keeps)]


QUESTIONS = (
    Choice(
        "8.r1",
        "where the RLHF and DPO end points sit on the reward–KL plane",
        options={
            "a": "both on the exact frontier (within a thousandth of a reward unit), one point per β",
            "b": "DPO on the frontier, RLHF visibly below it: sampling noise costs reward at the same KL",
            "c": "both below the frontier, by a gap that grows with the KL: the reward model's error",
            "d": "above the frontier: a learned reward lets the policy beat the exact optimum",
        },
        answer="a",
        why={
            "b": "RL's noise dies out at the optimum (every penalised score equals β·log Z there); "
            "the printed gap covers the RLHF end points too",
            "c": "3,000 comparisons pin the reward well (TV 0.009 to the true π*): the end points sit on the "
            "fitted reward's frontier, which here is within the printed gap of the true one",
            "d": "no policy has a higher expected true reward than π*_β at the same KL: that is what the "
            "frontier is (chapter 1), whatever reward the policy was trained on",
        },
        names={"b": "RL noise costs reward", "c": "reward-model error dominates", "d": "beats the frontier"},
        explain="Both pipelines reach π* of the fitted reward, and the fitted reward is close to the true one.",
    ),
    Prediction(
        "8.p1",
        "which pipeline keeps driving the losers down on 30 comparisons that cannot pin the reward",
        truth=_who_keeps_pushing,
        options={
            "a": "RLHF: sampling keeps finding the losers and pushing them further down",
            "b": "DPO: nothing in its loss stops the winner–loser gap from growing",
            "c": "both keep pushing them down, without limit",
            "d": "neither: both settle on the same finite policy",
        },
        why={
            "a": "RLHF's target is π* of its reward model, whose L2 prior keeps every reward finite: "
            "the run approaches that finite target and stays",
            "c": "the reward model's prior gives RLHF a finite target; only DPO's loss has no minimum",
            "d": "DPO's loss on these pairs keeps falling as the winner–loser log-ratio grows: "
            "there is no finite optimum for it to settle on",
        },
        explain="Perfect separation: the Bradley–Terry likelihood has no finite maximiser. The reward "
        "model's L2 prior supplies one; DPO has no prior.",
    ),
)
