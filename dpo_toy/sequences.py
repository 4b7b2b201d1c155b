r"""From single responses to sequences: a tiny language model, sequence log-probabilities, DPO.

A response is now a sequence of words, and its log-probability is a sum over tokens,

.. math:: \log\pi(y\mid x) = \sum_{t=1}^{T}\log\pi(y_t\mid x, y_{<t}),

counted over the completion only: not the prompt, not the padding, and including the
end-of-sequence token (the decision to stop is part of the answer). Everything else — the DPO loss,
its metrics — is chapter 6's, applied to these sums.

* :class:`Vocabulary` and :func:`capitals_data`: a word-level vocabulary and a toy task (capitals
  of five countries) with a stated true reward.
* :class:`TinyLM`: an embedding, a GRU and a linear head (well under 100k parameters).
* :func:`pretrain_reference`: a brief maximum-likelihood fit on a toy corpus, frozen as π_ref.
* :func:`collate` and :func:`sequence_logps`: padding, masks and the per-sequence sums, with the
  chosen and rejected responses in one forward pass.
* :func:`train_sequence_dpo`: the DPO loop on sequence preference pairs, logging what practitioners log.
"""

import copy
import itertools
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from . import _validation as v
from . import torch_losses
from ._runcache import reused_within_run

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"


class Vocabulary:
    """Words ↔ ids; ids 0, 1, 2 are padding, beginning- and end-of-sequence."""

    def __init__(self, words):
        self.tokens = [PAD, BOS, EOS, *dict.fromkeys(words)]
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        self.pad_id, self.bos_id, self.eos_id = 0, 1, 2

    def __len__(self):
        return len(self.tokens)

    def encode(self, text):
        """Word ids of a space-separated text (no special tokens)."""
        try:
            return [self.ids[w] for w in text.split()]
        except KeyError as exc:
            raise ValueError(f"word {exc.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids):
        """The text of a list of ids, without padding."""
        return " ".join(self.tokens[i] for i in ids if i != self.pad_id)


# --- the toy task -------------------------------------------------------------------------------

CAPITALS = {"france": "paris", "italy": "rome", "spain": "madrid", "germany": "berlin", "japan": "tokyo"}
TEMPLATES = ("{c} .", "it is {c} .", "the capital is {c} .", "{c} is the capital of {k} .")
NON_ANSWER = "i like cheese ."


def prompt_for(country):
    """The question asked about ``country``."""
    return f"what is the capital of {country} ?"


def candidates(country):
    """Every response the toy considers for ``country``: four templates × five capitals, plus a non-answer."""
    return [t.format(c=c, k=country) for t in TEMPLATES for c in CAPITALS.values()] + [NON_ANSWER]


def true_reward(country, response):
    """The stated reward: +2 for the right capital, −2 for a wrong one, −1 for no capital at all;
    +0.5 for a full sentence ("the capital is …" or "… is the capital of …")."""
    words = response.split()
    named = [c for c in CAPITALS.values() if c in words]
    reward = -1.0 if not named else (2.0 if CAPITALS[country] in named else -2.0)
    return reward + (0.5 if "capital" in words else 0.0)


def vocabulary():
    """The toy task's vocabulary."""
    words = [*prompt_for("x").split()[:-2], "?", *CAPITALS, *CAPITALS.values()]
    words += [w for t in TEMPLATES for w in t.split() if "{" not in w] + NON_ANSWER.split()
    return Vocabulary(words)


@dataclass(frozen=True)
class PreferenceExample:
    """One comparison: a prompt, the chosen response and the rejected one (texts)."""

    prompt: str
    chosen: str
    rejected: str


def capitals_data(n_pairs, seed=0, countries=tuple(CAPITALS)):
    """``n_pairs`` comparisons labelled by Bradley–Terry over :func:`true_reward` (seeded).

    Each pair: a country, two distinct candidate responses; the first is chosen with probability
    σ(r_first − r_second).
    """
    n_pairs = v.check_int(n_pairs, "n_pairs", minimum=1)
    if isinstance(countries, str) or not countries or any(c not in CAPITALS for c in countries):
        raise ValueError(f"countries must be a non-empty sequence of {tuple(CAPITALS)}, got {countries!r}")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_pairs):
        country = countries[rng.integers(len(countries))]
        options = candidates(country)
        a, b = rng.choice(len(options), 2, replace=False)
        ra, rb = true_reward(country, options[a]), true_reward(country, options[b])
        if rng.random() >= 1.0 / (1.0 + np.exp(-(ra - rb))):
            a, b = b, a
        out.append(PreferenceExample(prompt_for(country), options[a], options[b]))
    return out


# --- the model ----------------------------------------------------------------------------------


class TinyLM(nn.Module):
    """A word-level autoregressive model: embedding → GRU → dropout → logits over the vocabulary.

    The GRU reads left to right, so position t only sees tokens ≤ t; right padding after a
    sequence cannot change anything before it.
    """

    def __init__(self, vocab_size, dim=32, hidden=64, dropout=0.1):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.rnn = nn.GRU(dim, hidden, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, input_ids, attention_mask=None):
        """Logits (batch, time, vocab): row t scores the token at t + 1."""
        hidden, _ = self.rnn(self.embed(input_ids))
        return self.head(self.drop(hidden))


def n_parameters(model):
    """Number of trainable and frozen parameters."""
    return sum(p.numel() for p in model.parameters())


# --- batches ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """Right-padded token ids with their masks; rows [0, n) chosen, [n, 2n) rejected."""

    input_ids: torch.Tensor  # (2n, T) long
    attention_mask: torch.Tensor  # (2n, T) bool: real tokens
    completion_mask: torch.Tensor  # (2n, T) bool: response tokens and the final <eos>
    n_pairs: int

    def as_tuple(self):
        return self.input_ids, self.attention_mask, self.completion_mask


def encode_pair(vocab, prompt, response):
    """ids = <bos> prompt response <eos>, and the completion mask (True on response and <eos>)."""
    head = [vocab.bos_id, *vocab.encode(prompt)]
    tail = [*vocab.encode(response), vocab.eos_id]
    return head + tail, [False] * len(head) + [True] * len(tail)


def pad(rows, pad_value, length=None):
    """Right-pad lists to a common ``length`` (default: the longest)."""
    length = max(map(len, rows)) if length is None else length
    return [row + [pad_value] * (length - len(row)) for row in rows]


def collate(examples, vocab, length=None):
    """A :class:`Batch` from :class:`PreferenceExample` s: chosen rows first, then rejected.

    One batch holds both, so one forward pass scores both (as TRL's concatenated forward does).
    ``length`` pads further than the longest row (to test that padding changes nothing).
    """
    if not examples:
        raise ValueError("examples is empty: a batch needs at least one preference pair")
    encoded = [encode_pair(vocab, e.prompt, e.chosen) for e in examples]
    encoded += [encode_pair(vocab, e.prompt, e.rejected) for e in examples]
    ids, completion = zip(*encoded)
    attention = [[True] * len(row) for row in ids]
    return Batch(
        torch.tensor(pad(list(ids), vocab.pad_id, length)),
        torch.tensor(pad(attention, False, length)),
        torch.tensor(pad(list(completion), False, length)),
        len(examples),
    )


def _check_batch(input_ids, attention_mask, completion_mask):
    if input_ids.ndim != 2:
        raise ValueError(f"input_ids must be (batch, time), got shape {tuple(input_ids.shape)}")
    for name, mask in (("attention_mask", attention_mask), ("completion_mask", completion_mask)):
        if mask.shape != input_ids.shape:
            raise ValueError(f"{name} must have input_ids' shape {tuple(input_ids.shape)}, got {tuple(mask.shape)}")
    if (completion_mask.bool() & ~attention_mask.bool()).any():
        raise ValueError("completion_mask marks padding: completion tokens must be real tokens (attention_mask 1)")
    if (completion_mask[:, 0].bool()).any():
        raise ValueError("completion_mask marks the first token, which nothing predicts: a prompt comes first")
    if not completion_mask.bool().any(dim=1).all():
        raise ValueError("a row has no completion tokens: every sequence needs a response")


def sequence_logps(model, input_ids, attention_mask, completion_mask, average=False):
    """log π(y | x) per sequence: the sum over completion tokens of log π(y_t | x, y_<t).

    Parameters
    ----------
    model : callable
        ``model(input_ids, attention_mask)`` → logits (batch, time, vocab); row t scores token t + 1.
    input_ids : LongTensor (batch, time)
    attention_mask, completion_mask : BoolTensor (batch, time)
        Real tokens, and the tokens to score (the response and its <eos>; never prompt or padding).
    average : bool
        The per-token mean instead of the sum (what length-normalised variants use).

    Returns
    -------
    Tensor (batch,)
    """
    _check_batch(input_ids, attention_mask, completion_mask)
    logits = model(input_ids, attention_mask)
    log_probs = torch.log_softmax(logits[:, :-1].float(), dim=-1)  # position t predicts token t + 1
    token_logps = log_probs.gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    mask = (completion_mask[:, 1:].bool() & attention_mask[:, 1:].bool()).to(token_logps.dtype)
    total = (token_logps * mask).sum(-1)
    return total / mask.sum(-1) if average else total


# --- the reference ------------------------------------------------------------------------------


def reference_corpus(vocab, countries=tuple(CAPITALS)):
    """Every (prompt, candidate) once: the reference learns to answer in the toy's formats, right or wrong."""
    rows = [encode_pair(vocab, prompt_for(k), r) for k in countries for r in candidates(k)]
    ids, completion = zip(*rows)
    attention = [[True] * len(row) for row in ids]
    return (
        torch.tensor(pad(list(ids), vocab.pad_id)),
        torch.tensor(pad(attention, False)),
        torch.tensor(pad(list(completion), False)),
    )


def freeze(model):
    """A frozen copy: eval mode (dropout off) and no gradients; what π_ref must be."""
    ref = copy.deepcopy(model).eval()
    for p in ref.parameters():
        p.requires_grad_(False)
    return ref


@reused_within_run(reseeds_torch=True)
def pretrain_reference(vocab, steps=150, lr=0.03, seed=0, progress=True, **model_kw):
    """Fit a :class:`TinyLM` to :func:`reference_corpus` by maximum likelihood; return it frozen.

    Before DPO, the reference spreads its probability over the candidate answers of each prompt,
    right and wrong capitals alike, as a model pretrained on text without preferences would.
    ``progress`` shows a progress bar (it takes a few seconds).
    """
    steps, lr = v.check_int(steps, "steps", minimum=0), v.check_positive(lr, "lr")
    torch.manual_seed(seed)
    model = TinyLM(len(vocab), **model_kw)
    ids, attention, completion = reference_corpus(vocab)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    bar = _progress(steps, progress, "pretraining π_ref")
    for _ in range(steps):
        loss = -sequence_logps(model, ids, attention, completion).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        bar.update(1)
        if not torch.isfinite(loss):
            bar.close()
            raise ValueError(f"pretraining diverged (loss {loss.item()}) with lr={lr:g}: use a smaller learning rate")
    bar.close()
    return freeze(model)


# --- DPO on sequences ---------------------------------------------------------------------------

METRICS = (
    "loss",
    "rewards/chosen",
    "rewards/rejected",
    "rewards/margins",
    "rewards/accuracies",
    "logps/chosen",
    "logps/rejected",
)


@dataclass
class SequenceRun:
    """A DPO run on sequences: the trained policy and one row of metrics per step."""

    policy: nn.Module
    history: dict = field(default_factory=lambda: {m: [] for m in METRICS})

    def log(self, **values):
        for name in METRICS:
            self.history[name].append(float(values[name]))

    def __getitem__(self, name):
        return np.array(self.history[name])


def dpo_step_metrics(
    policy, reference, batch, beta, *, loss_type="sigmoid", label_smoothing=0.0, average=False, ref_logps=None
):
    """The DPO loss on a :class:`Batch` and the metrics TRL logs, from one forward pass of each model.

    ``ref_logps`` (optional): the reference's log-probabilities of the batch's rows, computed
    beforehand (the reference is frozen, so a trainer scores every pair once, not at every step).
    """
    n = batch.n_pairs
    policy_logps = sequence_logps(policy, *batch.as_tuple(), average=average)
    if ref_logps is None:
        with torch.no_grad():
            ref_logps = sequence_logps(reference, *batch.as_tuple(), average=average)
    args = (policy_logps[:n], policy_logps[n:], ref_logps[:n], ref_logps[n:], beta)
    loss = torch_losses.dpo_loss(*args, loss_type=loss_type, label_smoothing=label_smoothing)
    metrics = torch_losses.dpo_rewards(*(a.detach() if torch.is_tensor(a) else a for a in args)).summary()
    metrics["logps/chosen"] = float(policy_logps[:n].detach().mean())
    metrics["logps/rejected"] = float(policy_logps[n:].detach().mean())
    return loss, metrics


@reused_within_run(reseeds_torch=True)
def train_sequence_dpo(
    reference,
    examples,
    vocab,
    beta=0.5,
    *,
    steps=150,
    batch_size=32,
    lr=0.005,
    seed=0,
    loss_type="sigmoid",
    label_smoothing=0.0,
    average=False,
    disable_dropout=True,
    progress=True,
):
    """Train a copy of ``reference`` with DPO on ``examples``; log the metrics at every step.

    The policy starts as the reference, so the first loss is exactly ln 2; the reference stays
    frozen in eval mode. ``disable_dropout`` (as TRL's ``DPOConfig`` does by default) trains the
    policy without dropout too, so both models score a sequence the same way at the start and the
    log-ratios measure training, not dropout noise. Batches cycle through a seeded shuffle.
    """
    if not examples:
        raise ValueError("examples is empty: DPO needs preference pairs")
    if not all(isinstance(e, PreferenceExample) for e in examples):
        raise TypeError("examples must be PreferenceExample s (prompt, chosen, rejected), e.g. from capitals_data")
    beta = v.check_beta(beta)
    label_smoothing = v.check_loss_options("mean", loss_type, label_smoothing)
    steps, batch_size = v.check_int(steps, "steps", minimum=1), v.check_int(batch_size, "batch_size", minimum=1)
    lr = v.check_positive(lr, "lr")
    torch.manual_seed(seed)
    policy = copy.deepcopy(reference).train(not disable_dropout)
    for p in policy.parameters():
        p.requires_grad_(True)
    optimizer = torch.optim.Adam(policy.parameters(), lr=lr)
    order = np.random.default_rng(seed).permutation(len(examples))
    cycle = itertools.cycle(order)
    # Every pair encoded once, and scored once by the frozen reference; a step takes its rows.
    everything, n = collate(examples, vocab), len(examples)
    with torch.no_grad():
        ref_logps = sequence_logps(reference, *everything.as_tuple(), average=average)
    run = SequenceRun(policy)
    bar = _progress(steps, progress, "DPO")
    for _ in range(steps):
        picked = torch.tensor([next(cycle) for _ in range(min(batch_size, n))])
        rows = torch.cat([picked, picked + n])  # the chosen rows, then the rejected ones
        batch = _rows(everything, rows)
        loss, metrics = dpo_step_metrics(
            policy, reference, batch, beta, loss_type=loss_type, label_smoothing=label_smoothing,
            average=average, ref_logps=ref_logps[rows],
        )  # fmt: skip
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if not all(torch.isfinite(p).all() for p in policy.parameters()):
            bar.close()
            raise ValueError(f"DPO diverged (non-finite weights) with lr={lr:g}: use a smaller learning rate")
        run.log(loss=loss.item(), **metrics)
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.3f}", margin=f"{metrics['rewards/margins']:.2f}", refresh=False)
    bar.close()
    policy.eval()
    return run


def _rows(batch, rows):
    """The pairs at ``rows`` of a :class:`Batch`, padded as :func:`collate` pads them (to their longest)."""
    length = int(batch.attention_mask[rows].sum(1).max())
    ids, attention, completion = (t[rows, :length] for t in batch.as_tuple())
    return Batch(ids, attention, completion, len(rows) // 2)


def _progress(total, enabled, desc):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, leave=False)


def sample_tokens(next_logits, ids, *, max_tokens, eos_id, pad_id, seed=0, greedy=False, temperature=1.0):
    """Extend every row of ``ids`` one token at a time until each has ``<eos>`` or ``max_tokens`` are added.

    The loop every sampler of the course shares (TinyLM's and the TRL bridge's Llama):
    ``next_logits(ids)`` gives the next token's scores, shape (rows, vocab); a row that has ended
    gets ``pad_id`` from then on. Sampling uses its own generator, seeded with ``seed``, so the
    global torch seed is untouched. Returns ``(ids, done)``: the extended rows and which ended.
    """
    generator = torch.Generator().manual_seed(int(seed))
    done = torch.zeros(len(ids), dtype=torch.bool)
    with torch.no_grad():
        for _ in range(int(max_tokens)):
            logits = next_logits(ids)
            if greedy:
                token = logits.argmax(-1)
            else:
                token = torch.multinomial(torch.softmax(logits / temperature, -1), 1, generator=generator).squeeze(-1)
            token = torch.where(done, torch.full_like(token, pad_id), token)
            ids = torch.cat([ids, token[:, None]], dim=1)
            done |= token == eos_id
            if done.all():
                break
    return ids, done


def response_distribution(model, vocab, country):
    """π(y | x) over the toy's candidate responses to the question about ``country`` (renormalised).

    The model can put mass on word strings outside the candidates; the first returned value says
    how much of its probability the candidates hold together.
    """
    options = candidates(country)
    examples = [PreferenceExample(prompt_for(country), r, r) for r in options]
    batch = collate(examples, vocab)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logps = sequence_logps(model, *batch.as_tuple())[: len(options)].double()
    model.train(was_training)
    mass = float(torch.logsumexp(logps, 0).exp())
    return mass, options, torch.softmax(logps, 0).numpy()
