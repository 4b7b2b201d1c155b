"""Sequence log-probabilities and DPO on sequences, checked against brute force and the NumPy loss."""

import math

import numpy as np
import pytest
import torch

import dpo_toy as d
from dpo_toy import sequences as S

VOCAB = S.vocabulary()


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(1)
    return S.TinyLM(len(VOCAB)).eval()  # random weights: every token gets a different log-prob


@pytest.fixture(scope="module")
def reference():
    return S.pretrain_reference(VOCAB, progress=False)


EXAMPLES = [
    S.PreferenceExample(S.prompt_for("france"), "the capital is paris .", "rome ."),
    S.PreferenceExample(S.prompt_for("japan"), "tokyo .", "i like cheese ."),
    S.PreferenceExample(S.prompt_for("spain"), "madrid is the capital of spain .", "it is berlin ."),
]


def brute_force_logp(model, prompt, response, include_prompt=False):
    """Score one unpadded sequence token by token: Σ log softmax(logits at t−1)[token t]."""
    ids, completion = S.encode_pair(VOCAB, prompt, response)
    with torch.no_grad():
        logits = model(torch.tensor([ids]))[0]
    total = 0.0
    for t in range(1, len(ids)):
        if completion[t] or include_prompt:
            total += torch.log_softmax(logits[t - 1].double(), -1)[ids[t]].item()
    return total


def test_sequence_logps_equals_a_token_by_token_loop(model):
    """Batched, padded, masked: the same numbers as scoring each unpadded sequence alone."""
    batch = S.collate(EXAMPLES, VOCAB)
    got = S.sequence_logps(model, *batch.as_tuple())
    expected = [brute_force_logp(model, e.prompt, e.chosen) for e in EXAMPLES]
    expected += [brute_force_logp(model, e.prompt, e.rejected) for e in EXAMPLES]
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-5)


def test_prompt_tokens_are_excluded_and_eos_included(model):
    """The prompt's tokens are not scored (they would lower the sum); the final <eos> is."""
    e = EXAMPLES[0]
    got = S.sequence_logps(model, *S.collate([e], VOCAB).as_tuple())[0].item()
    with_prompt = brute_force_logp(model, e.prompt, e.chosen, include_prompt=True)
    assert with_prompt < got - 1.0
    ids, completion = S.encode_pair(VOCAB, e.prompt, e.chosen)
    assert ids[-1] == VOCAB.eos_id and completion[-1] and sum(completion) == len(e.chosen.split()) + 1
    assert not any(completion[: 1 + len(e.prompt.split())])


def test_padding_and_batch_composition_change_nothing(model):
    """More padding, or other sequences in the batch, leave every row's log-prob unchanged."""
    alone = [S.sequence_logps(model, *S.collate([e], VOCAB).as_tuple()) for e in EXAMPLES]
    together = S.sequence_logps(model, *S.collate(EXAMPLES, VOCAB).as_tuple())
    padded = S.sequence_logps(model, *S.collate(EXAMPLES, VOCAB, length=30).as_tuple())
    n = len(EXAMPLES)
    for k, single in enumerate(alone):
        np.testing.assert_allclose(together[[k, n + k]].detach(), single.detach(), rtol=1e-6)
    np.testing.assert_allclose(padded.detach(), together.detach(), rtol=1e-6)


def test_average_is_the_sum_over_completion_tokens_divided_by_their_number(model):
    batch = S.collate(EXAMPLES, VOCAB)
    total = S.sequence_logps(model, *batch.as_tuple())
    mean = S.sequence_logps(model, *batch.as_tuple(), average=True)
    counts = batch.completion_mask[:, 1:].sum(-1)
    np.testing.assert_allclose((total / counts).detach(), mean.detach(), rtol=1e-6)


@pytest.mark.parametrize(
    "mutate, words",
    [
        (lambda ids, att, comp: (ids, att[:, :-1], comp), "attention_mask must have"),
        (lambda ids, att, comp: (ids, att, comp | ~att), "completion_mask marks padding"),
        (lambda ids, att, comp: (ids, att, comp & False), "no completion tokens"),
        (lambda ids, att, comp: (ids, att, comp | (torch.arange(ids.shape[1]) == 0)), "first token"),
        (lambda ids, att, comp: (ids[0], att, comp), "input_ids must be"),
    ],
)
def test_bad_batches_are_named(model, mutate, words):
    ids, att, comp = S.collate(EXAMPLES, VOCAB, length=20).as_tuple()
    with pytest.raises(ValueError, match=words):
        S.sequence_logps(model, *mutate(ids, att, comp))


def test_unknown_word_and_empty_batch_are_named():
    with pytest.raises(ValueError, match="'lisbon' is not in the vocabulary"):
        VOCAB.encode("lisbon .")
    with pytest.raises(ValueError, match="examples is empty"):
        S.collate([], VOCAB)


def test_true_reward_follows_its_stated_rule():
    assert S.true_reward("france", "the capital is paris .") == 2.5
    assert S.true_reward("france", "paris .") == 2.0
    assert S.true_reward("france", "rome is the capital of france .") == -1.5
    assert S.true_reward("italy", "it is rome .") == 2.0
    assert S.true_reward("italy", "i like cheese .") == -1.0
    assert len(S.candidates("spain")) == 21 and len(set(S.candidates("spain"))) == 21


def test_preference_labels_follow_bradley_terry():
    """Over many pairs, the better response is chosen as often as σ(r_better − r_worse) predicts."""
    data = S.capitals_data(4000, seed=3)
    country = {S.prompt_for(k): k for k in S.CAPITALS}
    r = np.array([[S.true_reward(country[e.prompt], x) for x in (e.chosen, e.rejected)] for e in data])
    better_chosen = r[:, 0] > r[:, 1]
    unequal = r[:, 0] != r[:, 1]
    expected = d.sigmoid(np.abs(r[:, 0] - r[:, 1]))[unequal].mean()
    assert abs(better_chosen[unequal].mean() - expected) < 0.02
    assert S.capitals_data(5, seed=1) == S.capitals_data(5, seed=1)


def test_reference_is_frozen_in_eval_mode_and_deterministic(reference):
    assert not reference.training and not any(p.requires_grad for p in reference.parameters())
    batch = S.collate(EXAMPLES, VOCAB)
    a, b = (S.sequence_logps(reference, *batch.as_tuple()) for _ in range(2))
    assert torch.equal(a, b)  # no dropout noise


def test_training_starts_at_ln2_and_never_touches_the_reference(reference):
    before = {k: v.clone() for k, v in reference.state_dict().items()}
    run = S.train_sequence_dpo(
        reference, S.capitals_data(64, seed=0), VOCAB, beta=0.1, steps=5, batch_size=8, progress=False
    )
    assert math.isclose(run["loss"][0], math.log(2), rel_tol=1e-6)
    assert run["rewards/margins"][0] == pytest.approx(0.0, abs=1e-6)
    assert all(torch.equal(before[k], v) for k, v in reference.state_dict().items())
    assert set(run.history) == set(S.METRICS) and all(len(v) == 5 for v in run.history.values())


def test_per_pair_losses_match_the_numpy_dpo_loss(reference):
    """The loss the trainer backpropagates equals dpo_toy.losses.dpo_loss on the same log-probs."""
    run = S.train_sequence_dpo(
        reference, S.capitals_data(64, seed=0), VOCAB, beta=0.2, steps=20, batch_size=16, progress=False
    )
    batch = S.collate(EXAMPLES, VOCAB)
    n = batch.n_pairs
    loss, metrics = S.dpo_step_metrics(run.policy, reference, batch, 0.2)
    with torch.no_grad():
        pol = S.sequence_logps(run.policy, *batch.as_tuple()).double().numpy()
        ref = S.sequence_logps(reference, *batch.as_tuple()).double().numpy()
    np.testing.assert_allclose(loss.item(), d.dpo_loss(pol[:n], pol[n:], ref[:n], ref[n:], 0.2), rtol=1e-5)
    expected = d.dpo_rewards(pol[:n], pol[n:], ref[:n], ref[n:], 0.2).summary()
    for name, value in expected.items():
        assert metrics[name] == pytest.approx(value, rel=1e-4, abs=1e-6)


def test_dpo_moves_probability_toward_the_right_capitals(reference):
    """After DPO on Bradley–Terry labels, the right capital's answers hold more of the candidates' mass."""
    run = S.train_sequence_dpo(reference, S.capitals_data(2000, seed=0), VOCAB, progress=False)
    for country in S.CAPITALS:
        right = [S.CAPITALS[country] in r.split() for r in S.candidates(country)]
        before = S.response_distribution(reference, VOCAB, country)[2][right].sum()
        after = S.response_distribution(run.policy, VOCAB, country)[2][right].sum()
        assert after > before + 0.3, (country, before, after)
    assert run["rewards/margins"][-20:].mean() > 0.2 and run["rewards/accuracies"][-20:].mean() > 0.6
