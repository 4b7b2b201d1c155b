"""dpo_toy: Direct Preference Optimization, one runnable and tested step at a time."""

from .losses import dpo_loss, dpo_loss_grad, dpo_rewards, reward_model_loss, reward_model_loss_grad
from .policy import (
    BoostRow,
    BoostTable,
    boost_table,
    expected_reward,
    implied_reward,
    kl_divergence,
    kl_regularized_objective,
    log_optimal_policy,
    log_partition,
    optimal_policy,
    reward_kl_frontier,
)
from .stable import log_sigmoid, log_softmax, logsumexp, sigmoid, softmax
from .toy import EVERY_OTHER_STRING, ToyPrompt, capital_of_france

__all__ = [
    "BoostRow",
    "BoostTable",
    "EVERY_OTHER_STRING",
    "ToyPrompt",
    "boost_table",
    "dpo_loss",
    "dpo_loss_grad",
    "dpo_rewards",
    "capital_of_france",
    "expected_reward",
    "implied_reward",
    "kl_divergence",
    "kl_regularized_objective",
    "log_optimal_policy",
    "log_partition",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "optimal_policy",
    "reward_kl_frontier",
    "reward_model_loss",
    "reward_model_loss_grad",
    "sigmoid",
    "softmax",
]
