r"""Around the sequence model: the SFT stage, the DPO gradient, and generating text.

* :func:`supervised_finetune`: SFT, the stage before DPO: maximum likelihood of the chosen answers,
  frozen as π_ref.
* :func:`dpo_gradient`: the DPO gradient with respect to the policy's parameters, assembled term by
  term as in the paper (Eq. 7), to check against autograd.
* :func:`generate`: greedy or sampled completions of a prompt (seeded).
* :func:`answer_masses`: how a model's probability for one question splits between the right
  capital, wrong capitals, the non-answer and strings that are none of the candidates.
"""

from collections import Counter

import numpy as np
import torch

from . import _validation as v
from . import sequences as _seq
from ._runcache import reused_within_run

ANSWER_GROUPS = ("right capital", "wrong capital", "no capital", "not a candidate")


@reused_within_run(reseeds_torch=True)
def supervised_finetune(vocab, examples, *, steps=150, lr=0.03, seed=0, progress=True, **model_kw):
    r"""SFT: fit a :class:`~dpo_toy.sequences.TinyLM` to the chosen answers of ``examples``; return it frozen.

    The loss is the mean negative log-likelihood of the (prompt, chosen) pairs, each pair weighted by
    how often it occurs; its minimiser is the chosen answers' empirical distribution per prompt. The
    DPO paper (Rafailov et al. 2023, Sec. 4, "DPO outline") builds π_ref this way when no SFT model is available.

    Parameters
    ----------
    vocab : Vocabulary
    examples : sequence of PreferenceExample
        Only the prompts and the chosen answers are used.
    steps, lr, seed : int, float, int
        Full-batch Adam steps, the learning rate, and the seed of the initial weights.
    progress : bool
        Show a progress bar.
    **model_kw
        Passed to :class:`~dpo_toy.sequences.TinyLM`; ``dropout`` defaults to 0 here, so the frozen
        (eval-mode) model is the one whose likelihood was maximised.

    Returns
    -------
    TinyLM, frozen (eval mode, no gradients): π_ref.
    """
    if not examples:
        raise ValueError("examples is empty: SFT needs at least one chosen answer")
    steps, lr = v.check_int(steps, "steps", minimum=1), v.check_positive(lr, "lr")
    counts = Counter((e.prompt, e.chosen) for e in examples)
    rows = [_seq.encode_pair(vocab, prompt, answer) for prompt, answer in counts]
    ids, completion = zip(*rows)
    attention = [[True] * len(row) for row in ids]
    batch = (
        torch.tensor(_seq.pad(list(ids), vocab.pad_id)),
        torch.tensor(_seq.pad(attention, False)),
        torch.tensor(_seq.pad(list(completion), False)),
    )
    weights = torch.tensor(list(counts.values()), dtype=torch.float32)
    weights = weights / weights.sum()  # (n_unique,): the empirical frequency of each row
    torch.manual_seed(seed)
    model = _seq.TinyLM(len(vocab), **{"dropout": 0.0, **model_kw})
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    from tqdm.auto import tqdm

    bar = tqdm(total=steps, desc="SFT", disable=not progress, leave=False)
    for _ in range(steps):
        loss = -(weights * _seq.sequence_logps(model, *batch)).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        bar.update(1)
    bar.close()
    return _seq.freeze(model)


def dpo_gradient(policy, reference, batch, beta):
    r"""The gradient of the mean DPO loss over ``batch``, assembled term by term (Eq. 7).

    Parameters
    ----------
    policy : TinyLM
        Scored as it is (put it in eval mode first if it has dropout).
    reference : TinyLM
        The frozen π_ref.
    batch : Batch
        From :func:`~dpo_toy.sequences.collate`: rows [0, n) chosen, [n, 2n) rejected.
    beta : float

    Returns
    -------
    weights : Tensor (n,)
        σ(r̂_l − r̂_w) per pair, with r̂ = β·log(π_θ/π_ref): how wrong the policy still is on it.
    gradient : Tensor (n_parameters,)
        The gradient, flattened in the order of ``policy.parameters()``.

    Notes
    -----
    With :math:`\hat r(y) = \beta\log\frac{\pi_\theta(y\mid x)}{\pi_{ref}(y\mid x)}`
    (Rafailov et al. 2023, Eq. 7),

    .. math:: \nabla_\theta\mathcal L = -\beta\,\mathbb E\big[\sigma(\hat r(y_l) - \hat r(y_w))
              \,(\nabla_\theta\log\pi_\theta(y_w\mid x) - \nabla_\theta\log\pi_\theta(y_l\mid x))\big].

    Each :math:`\nabla_\theta\log\pi_\theta(y\mid x)` is computed row by row (one backward pass
    per sequence), so the formula, not autograd of the loss, puts the pieces together.
    """
    if not beta > 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    params = [p for p in policy.parameters() if p.requires_grad]
    if not params:
        raise ValueError("policy has no trainable parameters (is it a frozen reference?)")
    n = batch.n_pairs
    logps = _seq.sequence_logps(policy, *batch.as_tuple())  # (2n,)
    with torch.no_grad():
        ref_logps = _seq.sequence_logps(reference, *batch.as_tuple())
    rewards = beta * (logps.detach() - ref_logps)  # (2n,) implied rewards
    weights = torch.sigmoid(rewards[n:] - rewards[:n])  # (n,)
    rows = []
    for i in range(2 * n):
        grads = torch.autograd.grad(logps[i], params, retain_graph=i < 2 * n - 1, allow_unused=True)
        rows.append(torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1) for p, g in zip(params, grads)]))
    grad_logps = torch.stack(rows)  # (2n, n_parameters)
    gradient = -beta * (weights[:, None] * (grad_logps[:n] - grad_logps[n:])).mean(0)
    return weights, gradient


def generate(model, vocab, prompt, *, n=1, greedy=False, temperature=1.0, max_tokens=12, seed=0):
    """Complete ``prompt`` ``n`` times, token by token, until ``<eos>`` or ``max_tokens``.

    Parameters
    ----------
    model : TinyLM
        Used in eval mode (its mode is restored afterwards).
    vocab : Vocabulary
    prompt : str
    n : int
        Number of completions (greedy ones are all the same).
    greedy : bool
        Take the most likely token at every step instead of sampling.
    temperature : float
        Sampling temperature (> 0); 1 samples from the model's own distribution.
    max_tokens : int
        Longest completion; one that has not ended by then gets a trailing ``…``.
    seed : int
        Seed of the sampler (its own generator: the global torch seed is untouched).

    Returns
    -------
    list of str
        The completions, without ``<bos>``, the prompt and ``<eos>``.
    """
    n, max_tokens = v.check_int(n, "n", minimum=1), v.check_int(max_tokens, "max_tokens", minimum=1)
    temperature = v.check_positive(temperature, "temperature")
    prompt_ids = torch.tensor([[vocab.bos_id, *vocab.encode(prompt)]] * n)  # (n, prompt length)
    was_training = model.training
    model.eval()
    ids, done = _seq.sample_tokens(
        lambda ids: model(ids)[:, -1].double(), prompt_ids, max_tokens=max_tokens, eos_id=vocab.eos_id,
        pad_id=vocab.pad_id, seed=seed, greedy=greedy, temperature=temperature,
    )  # fmt: skip
    model.train(was_training)
    start = 1 + len(vocab.encode(prompt))
    texts = []
    for row, finished in zip(ids[:, start:].tolist(), done.tolist()):
        words = [vocab.tokens[t] for t in row if t not in (vocab.pad_id, vocab.eos_id)]
        texts.append(" ".join(words) + ("" if finished else " …"))
    return texts


def answer_group(country, response):
    """Which of :data:`ANSWER_GROUPS` a response to the question about ``country`` falls in."""
    if response not in _seq.candidates(country):
        return "not a candidate"
    named = [c for c in _seq.CAPITALS.values() if c in response.split()]
    if not named:
        return "no capital"
    return "right capital" if _seq.CAPITALS[country] in named else "wrong capital"


def answer_masses(model, vocab, country):
    """π(group | x) for each of :data:`ANSWER_GROUPS`: exact sums over the candidates, the rest off them.

    Returns
    -------
    dict
        Group name → probability; the values sum to 1.
    """
    mass, options, probs = _seq.response_distribution(model, vocab, country)
    out = dict.fromkeys(ANSWER_GROUPS, 0.0)
    for response, p in zip(options, probs):
        out[answer_group(country, response)] += float(mass * p)
    out["not a candidate"] = float(max(0.0, 1.0 - mass))
    return out


def top_generations(model, vocab, country, *, n=2000, k=5, seed=0):
    """The ``k`` most frequent of ``n`` sampled answers to the question about ``country``.

    Returns
    -------
    list of (str, float, str)
        (answer, share of the samples, its group in :data:`ANSWER_GROUPS`), most frequent first.
    """
    samples = generate(model, vocab, _seq.prompt_for(country), n=n, seed=seed)
    return [(text, count / n, answer_group(country, text)) for text, count in Counter(samples).most_common(k)]


def share_by_group(samples, country):
    """The share of ``samples`` (texts) in each of :data:`ANSWER_GROUPS`, as an array."""
    groups = [answer_group(country, s) for s in samples]
    return np.array([groups.count(g) / len(samples) for g in ANSWER_GROUPS])
