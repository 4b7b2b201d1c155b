r"""The toy vocabulary: a prompt, a handful of responses, π_ref and the true reward.

The running example of the course ("What's the capital of France?") lists three responses
whose reference probabilities add up to only 0.701. A language model spreads the remaining
0.299 over every other string it could write, so the toy keeps that mass as an explicit
"every other string" bucket with a stated reward instead of silently renormalising.
"""

import numpy as np

from . import _validation as v

EVERY_OTHER_STRING = "<every other string>"
"""Label of the bucket that stands for all the strings the toy does not list."""

OTHER_REWARD = 0.0
"""Default reward of the bucket: neutral, between the good answers (2.0, 2.5) and the bad one (-1.0)."""


class ToyPrompt:
    """One prompt x with its responses y, reference probabilities π_ref(y|x) and rewards r(x, y).

    Read-only once made: the attributes have no setters and the arrays are not writeable, so no
    cell can edit the course's example behind the others' backs (make a new ``ToyPrompt``).
    """

    def __init__(self, prompt, responses, pi_ref, rewards):
        pi_ref = v.as_distribution(pi_ref, "pi_ref")
        rewards = v.as_finite_array(rewards, "rewards")
        v.check_same_shape(pi_ref, rewards, "pi_ref", "rewards")
        responses = tuple(responses)
        if pi_ref.ndim != 1 or len(responses) != pi_ref.shape[0]:
            raise ValueError(
                f"a ToyPrompt needs one pi_ref entry and one reward per response: {len(responses)} "
                f"responses, pi_ref of shape {pi_ref.shape}"
            )
        pi_ref.flags.writeable = rewards.flags.writeable = False
        self._prompt, self._responses, self._pi_ref, self._rewards = prompt, responses, pi_ref, rewards

    prompt = property(lambda self: self._prompt, doc="The prompt x.")
    responses = property(lambda self: self._responses, doc="The responses y, a tuple of strings.")
    pi_ref = property(lambda self: self._pi_ref, doc="π_ref(y|x), shape (n_responses,), sums to 1.")
    rewards = property(lambda self: self._rewards, doc="r(x, y), shape (n_responses,).")

    def __len__(self):
        return len(self._responses)

    def __repr__(self):
        return (
            f"ToyPrompt(prompt={self.prompt!r}, responses={self.responses!r}, pi_ref={self.pi_ref!r}, "
            f"rewards={self.rewards!r})"
        )


def capital_of_france(other_reward=OTHER_REWARD, include_other=True):
    r"""The course's running example, "What's the capital of France?".

    ============================  =======  ======
    response                      π_ref    reward
    ============================  =======  ======
    "The capital is Paris."       0.300     2.5
    "Paris"                       0.400     2.0
    "I like cheese"               0.001    -1.0
    <every other string>          0.299    ``other_reward``
    ============================  =======  ======

    Parameters
    ----------
    other_reward : float, default 0.0
        The reward given to the "every other string" bucket.
    include_other : bool, default True
        If False, drop the bucket and renormalise the three listed responses (the shortcut
        that pretends the model can only say these three things).
    """
    responses = ("The capital is Paris.", "Paris", "I like cheese")
    pi_ref = np.array([0.30, 0.40, 0.001])
    rewards = np.array([2.5, 2.0, -1.0])
    if include_other:
        other_reward = float(v.as_finite_array(other_reward, "other_reward"))
        return ToyPrompt(
            prompt="What's the capital of France?",
            responses=responses + (EVERY_OTHER_STRING,),
            pi_ref=np.append(pi_ref, 1.0 - pi_ref.sum()),
            rewards=np.append(rewards, other_reward),
        )
    return ToyPrompt("What's the capital of France?", responses, pi_ref / pi_ref.sum(), rewards)
