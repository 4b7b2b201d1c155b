"""Tests of dpo_toy.sequence_practice: SFT, the Eq. 7 gradient, generation, answer masses."""

import copy

import numpy as np
import pytest
import torch
from torch import nn

from dpo_toy import sequence_practice as P
from dpo_toy import sequences as S

VOCAB = S.vocabulary()


class Bigram(nn.Module):
    """A model whose next token depends only on the last one: probabilities known in closed form."""

    def __init__(self, table):
        super().__init__()
        self.logits = nn.Parameter(torch.full((len(VOCAB), len(VOCAB)), -40.0))
        for prev, nxt in table.items():
            for word, p in nxt.items():
                self.logits.data[VOCAB.ids[prev], VOCAB.ids[word]] = float(np.log(p))

    def forward(self, input_ids, attention_mask=None):
        return self.logits[input_ids]


# After "?": paris 0.5, rome 0.3, i 0.2; paris ends without "." 20 % of the time.
TABLE = {
    "?": {"paris": 0.5, "rome": 0.3, "i": 0.2},
    "paris": {".": 0.8, S.EOS: 0.2},
    "rome": {".": 1.0},
    "i": {"like": 1.0},
    "like": {"cheese": 1.0},
    "cheese": {".": 1.0},
    ".": {S.EOS: 1.0},
}
EXACT = {  # answers to the France question, by hand from TABLE
    "right capital": 0.5 * 0.8,  # "paris ."
    "wrong capital": 0.3,  # "rome ."
    "no capital": 0.2,  # "i like cheese ."
    "not a candidate": 0.5 * 0.2,  # "paris"
}


def _random_policy_and_reference(seed=3):
    torch.manual_seed(seed)
    reference = S.freeze(S.TinyLM(len(VOCAB)))
    policy = copy.deepcopy(reference).eval()
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(0.05 * torch.randn_like(p))  # a policy that has moved away from π_ref
            p.requires_grad_(True)
    return policy, reference


def test_dpo_gradient_matches_autograd_of_the_loss():
    """Eq. 7 assembled from per-sequence gradients equals autograd of the mean DPO loss."""
    policy, reference = _random_policy_and_reference()
    batch = S.collate(S.capitals_data(6, seed=1), VOCAB)
    for beta in (0.1, 0.5, 2.0):
        weights, gradient = P.dpo_gradient(policy, reference, batch, beta)
        loss, _ = S.dpo_step_metrics(policy, reference, batch, beta)
        expected = torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, list(policy.parameters()))])
        torch.testing.assert_close(gradient, expected, rtol=1e-4, atol=1e-7)
        with torch.no_grad():
            logps = S.sequence_logps(policy, *batch.as_tuple()) - S.sequence_logps(reference, *batch.as_tuple())
        n = batch.n_pairs
        torch.testing.assert_close(weights, torch.sigmoid(-beta * (logps[:n] - logps[n:])))


def test_dpo_gradient_refuses_bad_input():
    """A non-positive beta, or a frozen policy, is refused with a message."""
    policy, reference = _random_policy_and_reference()
    batch = S.collate(S.capitals_data(2, seed=1), VOCAB)
    with pytest.raises(ValueError, match="beta"):
        P.dpo_gradient(policy, reference, batch, 0.0)
    with pytest.raises(ValueError, match="trainable"):
        P.dpo_gradient(reference, reference, batch, 0.5)


def test_generate_greedy_follows_the_most_likely_path():
    """Greedy decoding takes the argmax at every step: paris, then ".", then <eos>."""
    model = Bigram(TABLE)
    assert P.generate(model, VOCAB, S.prompt_for("france"), greedy=True, n=3) == ["paris ."] * 3


def test_generate_samples_with_the_models_probabilities_and_is_seeded():
    """Sampled answers' shares match the closed-form probabilities (within 4 standard errors); same seed, same texts."""
    model = Bigram(TABLE)
    n = 4000
    samples = P.generate(model, VOCAB, S.prompt_for("france"), n=n, seed=5)
    shares = P.share_by_group(samples, "france")
    exact = np.array([EXACT[g] for g in P.ANSWER_GROUPS])
    assert np.all(np.abs(shares - exact) <= 4 * np.sqrt(exact * (1 - exact) / n))
    again = P.generate(model, VOCAB, S.prompt_for("france"), n=50, seed=5)
    assert P.generate(model, VOCAB, S.prompt_for("france"), n=50, seed=5) == again
    assert P.generate(model, VOCAB, S.prompt_for("france"), n=50, seed=6) != again


def test_generate_marks_unfinished_texts_and_refuses_bad_arguments():
    """A completion cut at max_tokens ends with …; n, max_tokens and temperature are validated."""
    model = Bigram(TABLE)
    assert P.generate(model, VOCAB, S.prompt_for("france"), greedy=True, max_tokens=1) == ["paris …"]
    for kwargs in ({"n": 0}, {"max_tokens": 0}, {"temperature": 0.0}):
        with pytest.raises(ValueError):
            P.generate(model, VOCAB, S.prompt_for("france"), **kwargs)


def test_answer_masses_match_the_closed_form():
    """The exact group masses of the bigram model are the hand-computed ones, and they sum to 1."""
    masses = P.answer_masses(Bigram(TABLE), VOCAB, "france")
    np.testing.assert_allclose([masses[g] for g in P.ANSWER_GROUPS], [EXACT[g] for g in P.ANSWER_GROUPS], atol=1e-6)


def test_top_generations_are_the_most_frequent_samples():
    """The most frequent sampled answer of the bigram model is "paris ." with about 40 % of the samples."""
    top = P.top_generations(Bigram(TABLE), VOCAB, "france", n=2000, k=2)
    assert top[0][0] == "paris ." and top[0][2] == "right capital"
    assert abs(top[0][1] - 0.4) < 4 * np.sqrt(0.24 / 2000)


def test_supervised_finetune_fits_the_chosen_answers_frequencies():
    """SFT on 3 × "paris ." and 1 × "rome ." as chosen answers gives π(paris .)/π(rome .) close to 3."""
    france = S.prompt_for("france")
    examples = [S.PreferenceExample(france, "paris .", "i like cheese .")] * 3
    examples += [S.PreferenceExample(france, "rome .", "paris .")]
    model = P.supervised_finetune(VOCAB, examples, steps=150, progress=False)
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    batch = S.collate([S.PreferenceExample(france, "paris .", "rome .")], VOCAB)
    logps = S.sequence_logps(model, *batch.as_tuple())
    assert abs(float(logps[0] - logps[1]) - np.log(3)) < 0.05
    assert float(torch.logsumexp(logps, 0).exp()) > 0.95  # nearly all the mass on the two chosen answers
    with pytest.raises(ValueError, match="empty"):
        P.supervised_finetune(VOCAB, [], progress=False)
