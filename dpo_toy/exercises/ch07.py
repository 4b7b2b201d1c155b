"""Chapter 7, from tokens to sequences: sequence log-probabilities, and DPO on a concatenated batch.

The model-based inputs need PyTorch, so they are built on first use (``cases`` is a function).
"""

import numpy as np

from .. import losses
from ._engine import Case, Exercise, LibraryFunction, Mistake
from ._kinds import Choice, Derivation, Prediction

_rng = np.random.default_rng([11, 7])  # this chapter's inputs; other chapters draw from their own

_sequence_logps = LibraryFunction("dpo_toy.sequences", "sequence_logps")


def _sequence_cases():
    """Two fixed random TinyLMs and eight batches: padded, unpadded, and drawn from the capitals task."""
    import torch

    from .. import sequences as seq

    vocab = seq.vocabulary()
    torch.manual_seed(7)
    model = seq.TinyLM(len(vocab)).eval()
    other = seq.TinyLM(len(vocab)).eval()  # the next draw of the same seeded stream
    france, japan = seq.prompt_for("france"), seq.prompt_for("japan")
    examples = [
        seq.PreferenceExample(france, "the capital is paris .", "rome ."),
        seq.PreferenceExample(japan, "tokyo .", "tokyo is the capital of japan ."),
    ]
    drawn = {n: seq.capitals_data(n, seed=n) for n in (3, 5, 8)}
    return (
        Case("two pairs, padded to the longest", (model, *seq.collate(examples, vocab).as_tuple())),
        Case("one pair", (model, *seq.collate(examples[1:], vocab).as_tuple())),
        Case("two pairs, padded to 24 tokens", (model, *seq.collate(examples, vocab, length=24).as_tuple())),
        *(Case(f"{n} random capitals pairs", (model, *seq.collate(ex, vocab).as_tuple())) for n, ex in drawn.items()),
        Case("5 random pairs, another model", (other, *seq.collate(drawn[5], vocab).as_tuple())),
        Case(
            "one pair padded to 40 tokens", (other, *seq.collate(examples[:1], vocab, length=40).as_tuple()), hard=True
        ),
    )


def _learner_logps(model, input_ids, attention_mask, completion_mask, shift=True, keep=None, average=False):
    """sequence log-probs the way a learner writes them, with a slip chosen by the flags (examples)."""
    import torch

    log_probs = torch.log_softmax(model(input_ids, attention_mask), dim=-1)
    scored = log_probs[:, :-1] if shift else log_probs[:, 1:]
    token_logps = scored.gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    mask = (completion_mask & attention_mask if keep is None else keep(attention_mask, completion_mask))[:, 1:]
    total = (token_logps * mask).sum(-1)
    return total / mask.sum(-1) if average else total


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
    for label, n, beta in (
        ("3 random pairs, beta=0.5", 3, 0.5),
        ("5 random pairs, beta=0.1", 5, 0.1),
        ("2 pairs, beta=1", 2, 1.0),
        ("1 pair, beta=0.3", 1, 0.3),
        ("8 pairs, beta=2", 8, 2.0),
        ("16 pairs, beta=0.05", 16, 0.05),
        ("4 pairs, beta=10", 4, 10.0),
    )
) + (
    Case(
        "log-probs of -1e4, beta=1",
        (np.array([-1.0, -1e4, -1e4, -1.0]), np.array([-1.0, -1.0, -1.0, -1.0]), 1.0),
        hard=True,
    ),
)


def _learner_batch_loss(layout="halves", use_ref=True, reduce=np.mean):
    """The batch DPO loss the way a learner writes it (stable), with a slip chosen by the flags."""

    def loss(policy_logps, ref_logps, beta):
        n = policy_logps.size // 2
        ratio = policy_logps - (ref_logps if use_ref else 0.0)
        if layout == "halves":
            chosen, rejected = ratio[:n], ratio[n:]
        elif layout == "swapped":
            chosen, rejected = ratio[n:], ratio[:n]
        else:
            chosen, rejected = ratio[::2], ratio[1::2]
        return reduce(np.logaddexp(0.0, -beta * (chosen - rejected)))

    return loss


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
                examples=(lambda m, i, a, c: _learner_logps(m, i, a, c, keep=lambda a, c: a),),
            ),
            Mistake(
                "padding included",
                "you scored the padding too: multiply by attention_mask (or completion_mask), "
                "or a row's value depends on what it was batched with",
                _padding_scored,
                examples=(lambda m, i, a, c: _learner_logps(m, i, a, c, keep=lambda a, c: c | ~a),),
            ),
            Mistake(
                "off by one",
                "the logits at position t predict token t + 1: score logits[:, :-1] against input_ids[:, 1:]",
                _unshifted,
                examples=(lambda m, i, a, c: _learner_logps(m, i, a, c, shift=False),),
            ),
            Mistake(
                "mean",
                "you averaged over tokens; log pi(y|x) is the sum of the token log-probs (chain rule)",
                lambda m, i, a, c: _sequence_logps(m, i, a, c, average=True),
                examples=(lambda m, i, a, c: _learner_logps(m, i, a, c, average=True),),
            ),
        ),
        "padding must not change a row's log-prob: score only completion tokens that are real (attention_mask)",
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
                examples=(_learner_batch_loss(layout="swapped"),),
            ),
            Mistake(
                "interleaved",
                "the rows are not interleaved: chosen rows come first (0..n-1), then the rejected ones",
                lambda p, r, b: _batch_dpo_loss(p, r, b, layout="interleaved"),
                examples=(_learner_batch_loss(layout="interleaved"),),
            ),
            Mistake(
                "forgot the reference",
                "you left out the reference log-probs: DPO compares log pi_theta - log pi_ref",
                lambda p, r, b: _batch_dpo_loss(p, r, b, use_ref=False),
                examples=(_learner_batch_loss(use_ref=False),),
            ),
            Mistake(
                "sum",
                "you summed over pairs; the loss is the mean over pairs",
                lambda p, r, b: _batch_dpo_loss(p, r, b, reduction="sum"),
                examples=(_learner_batch_loss(reduce=np.sum),),
            ),
        ),
        arg_names=("policy_logps", "ref_logps", "beta"),
        unstable_hint="log(sigmoid(z)) is -inf for z = -1e4; use -np.logaddexp(0, -z)",
        title="the DPO loss from a concatenated batch's per-row log-probs",
        difficulty=1,
    ),
)

# --- questions (issue 11 item 4) --------------------------------------------------------------------


def _padding_effect():
    """How the Japan pair's log pi(y|x) changes when it is batched with (and padded to) the longer France pair.

    Any TinyLM shows it (the property is the mask's and the left-to-right GRU's), so a seeded random one is used.
    """
    import torch

    from .. import sequences as seq

    vocab = seq.vocabulary()
    torch.manual_seed(7)
    reference = seq.TinyLM(len(vocab)).eval()
    france = seq.PreferenceExample(seq.prompt_for("france"), "the capital is paris .", "rome .")
    japan = seq.PreferenceExample(seq.prompt_for("japan"), "tokyo .", "i like cheese .")
    alone = seq.sequence_logps(reference, *seq.collate([japan], vocab).as_tuple())
    batched = seq.sequence_logps(reference, *seq.collate([france, japan], vocab).as_tuple())[[1, 3]]
    if torch.allclose(alone, batched, atol=1e-5):
        return "a"
    return "b" if float((batched - alone).sum()) < 0 else "c"


def _completion_length(response="the capital is paris ."):
    from .. import sequences as seq

    _, completion = seq.encode_pair(seq.vocabulary(), seq.prompt_for("france"), response)
    return sum(completion)  # the response's words and <eos>


_D1_BETA = 0.5
_D2 = dict(chosen_ratio=0.4, rejected_ratio=-1.0, beta=0.5)  # log pi_theta/pi_ref of y_w and y_l


def _eq7_weight(chosen_ratio, rejected_ratio, beta):
    """sigma(r_l - r_w), read off the library's analytic gradient: dL/d log pi(y_w) = -beta * weight."""
    grad_chosen = losses.dpo_loss_grad(
        np.array([chosen_ratio]), np.array([rejected_ratio]), np.zeros(1), np.zeros(1), beta, reduction="none"
    )[0]
    return float(-grad_chosen[0] / beta)


QUESTIONS = (
    Prediction(
        "7.p1",
        "does a pair's log pi(y|x) change when it is padded into a bigger batch?",
        truth=_padding_effect,
        options={
            "a": "it stays exactly the same",
            "b": "it falls: more positions are summed",
            "c": "it rises: the batch gives the model more context",
        },
        why={
            "b": "the padding positions are not in completion_mask, so nothing is added for them; "
            "only the buggy 'padding counted' version falls",
            "c": "each row is its own sequence: the GRU reads left to right within the row, and no row "
            "sees another; padding after <eos> cannot change what came before it",
        },
        explain="Right padding comes after <eos>, the GRU reads left to right and the mask leaves the pads out.",
    ),
    Choice(
        "7.r1",
        "reading the dashboard: rewards/chosen falls below 0 while the margin grows",
        options={
            "a": "the policy has got worse at the task: the preferred answers are being unlearned",
            "b": "the policy gives the chosen answers less probability than pi_ref did; the loss only asks "
            "for a growing margin, so this alone says nothing about quality: read the margin, the "
            "accuracy and the generations",
            "c": "beta is too large: a smaller beta would keep rewards/chosen above 0",
            "d": "a bug: the reference must be drifting (dropout left on)",
        },
        answer="b",
        why={
            "a": "rewards/chosen is beta*log(pi_theta/pi_ref) of the chosen answers only, and the loss sees only "
            "its difference with the rejected one; in this run the right-capital mass grows at the same time",
            "c": "beta scales the implied rewards but not their sign: rewards/chosen = beta*log(pi_theta/pi_ref) "
            "is below 0 exactly when log pi_theta(y_w) < log pi_ref(y_w), whatever beta is",
            "d": "the reference is frozen in eval mode (checked above: spread 0.000); with a drifting reference "
            "the rewards would be noisy from step 1, not trend downwards",
        },
        names={"a": "chosen reward is a quality score", "c": "beta fixes the sign", "d": "blame the reference"},
        explain="The loss is a function of the margin only; both log-probabilities may fall as long as the "
        "rejected one falls faster.",
    ),
    Derivation(
        "7.d1",
        "the beta that makes the per-token (mean) implied reward as strong as the summed one at beta = 0.5",
        lambda: _D1_BETA * _completion_length(),
        (),
        (
            Mistake(
                "divided by T",
                "the mean is the sum divided by T, so beta must be MULTIPLIED by T to compensate",
                lambda: _D1_BETA / _completion_length(),
            ),
            Mistake(
                "forgot <eos>",
                "T counts the <eos> token too: it is scored, so it is part of the sum and of the mean",
                lambda: _D1_BETA * (_completion_length() - 1),
            ),
        ),
        rtol=0.02,
        title="β for mean log-probs = β·T",
        difficulty=2,
    ),
    Derivation(
        "7.d2",
        "the weight sigma(r_l - r_w) Eq. 7 gives a pair with log-ratios +0.4 (chosen), -1.0 (rejected), beta = 0.5",
        lambda: _eq7_weight(**_D2),
        (),
        (
            Mistake(
                "sign inside sigma",
                "the weight is sigma(r_l - r_w): large when the policy still prefers the REJECTED answer; "
                "you computed sigma(r_w - r_l)",
                lambda: 1.0 - _eq7_weight(**_D2),
            ),
            Mistake(
                "forgot beta",
                "the implied rewards are beta times the log-ratios: r = beta*log(pi_theta/pi_ref)",
                lambda: _eq7_weight(_D2["chosen_ratio"], _D2["rejected_ratio"], 1.0),
            ),
        ),
        rtol=0.01,
        title="the Eq. 7 weight of one pair",
        difficulty=2,
    ),
)
