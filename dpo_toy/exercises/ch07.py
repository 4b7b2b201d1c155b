"""Chapter 7, from tokens to sequences: sequence log-probabilities, and DPO on a concatenated batch.

The model-based inputs need PyTorch, so they are built on first use (``cases`` is a function).
"""

import numpy as np

from .. import losses
from ._engine import Case, Exercise, LibraryFunction, Mistake

_rng = np.random.default_rng([11, 7])  # this chapter's inputs; other chapters draw from their own

_sequence_logps = LibraryFunction("dpo_toy.sequences", "sequence_logps")


def _sequence_cases():
    """A fixed random TinyLM and three batches."""
    import torch

    from .. import sequences as seq

    vocab = seq.vocabulary()
    torch.manual_seed(7)
    model = seq.TinyLM(len(vocab)).eval()
    france, japan = seq.prompt_for("france"), seq.prompt_for("japan")
    examples = [
        seq.PreferenceExample(france, "the capital is paris .", "rome ."),
        seq.PreferenceExample(japan, "tokyo .", "tokyo is the capital of japan ."),
    ]
    return (
        Case("two pairs, padded to the longest", (model, *seq.collate(examples, vocab).as_tuple())),
        Case("one pair", (model, *seq.collate(examples[1:], vocab).as_tuple())),
        Case("two pairs, padded to 24 tokens", (model, *seq.collate(examples, vocab, length=24).as_tuple())),
    )


def _prompt_scored(model, input_ids, attention_mask, completion_mask):
    """Every real token after the first scored, prompt included."""
    everything_real = attention_mask.clone()
    everything_real[:, 0] = False  # nothing predicts the first token
    return _sequence_logps(model, input_ids, attention_mask, everything_real)


def _padding_scored(model, input_ids, attention_mask, completion_mask):
    """The model sees the real attention mask, but padding positions are scored too."""
    import torch

    def model_with_real_mask(ids, _):
        return model(ids, attention_mask)

    everything = torch.ones_like(attention_mask)
    return _sequence_logps(model_with_real_mask, input_ids, everything, completion_mask | ~attention_mask)


def _unshifted(model, input_ids, attention_mask, completion_mask):
    """Position t's logits scored against token t itself (no shift): the off-by-one."""
    import torch

    def shifted_model(ids, mask):
        logits = model(ids, mask)
        return torch.cat([logits[:, 1:], logits[:, -1:]], dim=1)  # row t now holds row t + 1

    return _sequence_logps(shifted_model, input_ids, attention_mask, completion_mask)


def _batch_dpo_loss(policy_logps, ref_logps, beta, layout="halves", use_ref=True, reduction="mean"):
    """The DPO loss from per-row log-probs of a concatenated batch (exercise 7.2 and its mistakes)."""
    n = policy_logps.size // 2
    if layout == "halves":
        pc, pr, rc, rr = policy_logps[:n], policy_logps[n:], ref_logps[:n], ref_logps[n:]
    elif layout == "swapped":
        pr, pc, rr, rc = policy_logps[:n], policy_logps[n:], ref_logps[:n], ref_logps[n:]
    else:  # interleaved: rows 0, 2, 4, ... read as chosen
        pc, pr, rc, rr = policy_logps[::2], policy_logps[1::2], ref_logps[::2], ref_logps[1::2]
    if not use_ref:
        rc, rr = 0 * rc, 0 * rr
    return losses.dpo_loss(pc, pr, rc, rr, beta, reduction=reduction)


_BATCH_CASES = tuple(
    Case(label, (-np.abs(_rng.normal(size=2 * n)) * 6 - 1, -np.abs(_rng.normal(size=2 * n)) * 6 - 1, beta))
    for label, n, beta in (("3 pairs, beta=0.5", 3, 0.5), ("5 pairs, beta=0.1", 5, 0.1), ("2 pairs, beta=1", 2, 1.0))
)

EXERCISES = (
    Exercise(
        "7.1",
        "sequence_logps(model, input_ids, attention_mask, completion_mask) -> one log-prob per row",
        _sequence_logps,
        _sequence_cases,
        (
            Mistake(
                "prompt included",
                "you scored the prompt too: only completion tokens (completion_mask) count in log pi(y|x)",
                _prompt_scored,
            ),
            Mistake(
                "padding included",
                "you scored the padding too: multiply by attention_mask (or completion_mask), "
                "or a row's value depends on what it was batched with",
                _padding_scored,
            ),
            Mistake(
                "off by one",
                "the logits at position t predict token t + 1: score logits[:, :-1] against input_ids[:, 1:]",
                _unshifted,
            ),
            Mistake(
                "mean",
                "you averaged over tokens; log pi(y|x) is the sum of the token log-probs (chain rule)",
                lambda m, i, a, c: _sequence_logps(m, i, a, c, average=True),
            ),
        ),
        rtol=1e-5,
        atol=1e-6,
        arg_names=("model", "input_ids", "attention_mask", "completion_mask"),
        title="sequence log-probabilities from a model's logits (PyTorch)",
        difficulty=3,
    ),
    Exercise(
        "7.2",
        "batch_dpo_loss(policy_logps, ref_logps, beta): rows [0, n) chosen, [n, 2n) rejected",
        _batch_dpo_loss,
        _BATCH_CASES,
        (
            Mistake(
                "swapped",
                "chosen and rejected are swapped: the first half of the rows holds the chosen responses",
                lambda p, r, b: _batch_dpo_loss(p, r, b, layout="swapped"),
            ),
            Mistake(
                "interleaved",
                "the rows are not interleaved: chosen rows come first (0..n-1), then the rejected ones",
                lambda p, r, b: _batch_dpo_loss(p, r, b, layout="interleaved"),
            ),
            Mistake(
                "forgot the reference",
                "you left out the reference log-probs: DPO compares log pi_theta - log pi_ref",
                lambda p, r, b: _batch_dpo_loss(p, r, b, use_ref=False),
            ),
            Mistake(
                "sum",
                "you summed over pairs; the loss is the mean over pairs",
                lambda p, r, b: _batch_dpo_loss(p, r, b, reduction="sum"),
            ),
        ),
        arg_names=("policy_logps", "ref_logps", "beta"),
        title="the DPO loss from a concatenated batch's per-row log-probs",
        difficulty=1,
    ),
)

QUESTIONS = ()
