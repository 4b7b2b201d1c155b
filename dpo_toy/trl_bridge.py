"""The bridge to Hugging Face TRL: the toy task as a dataset, a tiny model, and dpo_toy's numbers on TRL's batches.

Needs the ``trl`` extra (TRL, transformers, datasets, accelerate), imported with this module (2 s to 8 s by machine,
paid once, where a notebook imports it); nothing here downloads anything.
The tokenizer is built from :func:`dpo_toy.sequences.vocabulary` with the ``tokenizers`` library,
and the model is a randomly initialised two-layer Llama of about 22k parameters.

The point of the bridge is :func:`toy_numbers`: given a model, its reference and a batch exactly as
TRL's ``DPOTrainer`` collates it, it computes the loss and the logged metrics with dpo_toy's own
functions (:func:`dpo_toy.sequences.sequence_logps`, :func:`dpo_toy.losses.dpo_loss`,
:func:`dpo_toy.losses.dpo_rewards`), so they can be compared with what TRL logs.
"""

import gc
import warnings

import datasets
import numpy as np
import torch
from datasets import Dataset
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, PrinterCallback
from trl import DPOConfig, DPOTrainer

from . import losses, sequences

TRL_VERSION = "1.16.0"
"""The TRL version these checks are written against (pinned in requirements-lock.txt)."""

NAME_MAP = (
    ("dpo_toy.dpo_loss(..., beta=b)", "DPOConfig(beta=b)"),
    ('dpo_loss(..., loss_type="sigmoid" | "ipo" | "hinge")', 'DPOConfig(loss_type=["sigmoid"] | ["ipo"] | ["hinge"])'),
    ("dpo_loss(..., label_smoothing=e) with sigmoid (cDPO)", "TRL 1.x: not applied to sigmoid; see below"),
    ("dpo_rewards(...).summary()", "logged rewards/chosen, rewards/rejected, rewards/margins, rewards/accuracies"),
    ("sequences.sequence_logps(policy, ...)", "logged logps/chosen, logps/rejected (inside DPOTrainer)"),
    ("sequences.collate (chosen rows, then rejected)", "DataCollatorForPreference, one concatenated forward"),
    ("sequences.freeze(reference)", "ref_model=..., or None: TRL makes the frozen copy"),
    ("train_sequence_dpo(..., disable_dropout=True)", "DPOConfig(disable_dropout=True), the default"),
    ("train_sequence_dpo(steps, batch_size, lr)", "DPOConfig(max_steps, per_device_train_batch_size, learning_rate)"),
)


def word_tokenizer(vocab=None):
    """A ``PreTrainedTokenizerFast`` over the toy's words: split on spaces, ``<eos>`` and ``<pad>`` special."""
    vocab = sequences.vocabulary() if vocab is None else vocab
    tokens = [*vocab.tokens, "<unk>"]
    tok = Tokenizer(models.WordLevel({t: i for i, t in enumerate(tokens)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=sequences.BOS, eos_token=sequences.EOS, pad_token=sequences.PAD,
        unk_token="<unk>",
    )  # fmt: skip


def tiny_llama(vocab_size, seed=0, hidden=32, layers=2):
    """A randomly initialised Llama causal LM, small enough to train on a CPU in seconds."""
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab_size, hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64, pad_token_id=0,
        bos_token_id=1, eos_token_id=2,
    )  # fmt: skip
    return LlamaForCausalLM(config)


def preference_dataset(examples):
    """A ``datasets.Dataset`` in TRL's standard preference format (prompt, chosen, rejected texts).

    TRL tokenizes prompt + completion as one string, so completions start with a space.
    """
    return Dataset.from_list(
        [{"prompt": e.prompt, "chosen": " " + e.chosen, "rejected": " " + e.rejected} for e in examples]
    )


def _logits(model):
    return lambda input_ids, attention_mask: model(input_ids=input_ids, attention_mask=attention_mask).logits


@torch.no_grad()
def batch_logps(model, batch, average=False):
    """Per-row log π(completion | prompt) of a batch collated by TRL, computed by dpo_toy (float64)."""
    model.eval()
    ids, att, comp = batch["input_ids"], batch["attention_mask"].bool(), batch["completion_mask"].bool()
    return sequences.sequence_logps(_logits(model), ids, att, comp, average=average).double().numpy()


def completion_lengths(batch):
    """Per row of a TRL batch, the number of completion tokens :func:`batch_logps` scores (float64)."""
    att, comp = batch["attention_mask"].bool(), batch["completion_mask"].bool()
    return (att[:, 1:] & comp[:, 1:]).sum(-1).double().numpy()


def trl_ipo_loss(
    policy_chosen_logps,
    policy_rejected_logps,
    ref_chosen_logps,
    ref_rejected_logps,
    chosen_lengths,
    rejected_lengths,
    beta,
    reduction="mean",
):
    r"""TRL's IPO loss (0.x and 1.x): each completion's log-ratio divided by its number of tokens, then squared.

    Parameters
    ----------
    policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps : array_like (n_pairs,)
        Summed log-probabilities of each completion, as in :func:`dpo_toy.losses.dpo_loss`.
    chosen_lengths, rejected_lengths : array_like (n_pairs,)
        The number of completion tokens of each chosen / rejected response (> 0).
    beta : float
        β > 0; the target of the log-ratio difference is 1/(2β).
    reduction : {"mean", "sum", "none"}

    Notes
    -----
    .. math:: h = \frac{\log\frac{\pi_\theta(y_w)}{\pi_{ref}(y_w)}}{|y_w|}
              - \frac{\log\frac{\pi_\theta(y_l)}{\pi_{ref}(y_l)}}{|y_l|},\qquad
              L = \Big(h - \frac{1}{2\beta}\Big)^2

    Azar et al. 2023 define IPO on summed log-ratios (:func:`dpo_toy.losses.dpo_loss` with
    ``loss_type="ipo"``); TRL's ``loss_type=["ipo"]`` averages over tokens first.
    """
    lengths = []
    for x, name in ((chosen_lengths, "chosen_lengths"), (rejected_lengths, "rejected_lengths")):
        arr = np.asarray(x, dtype=float)
        if arr.shape != np.shape(policy_chosen_logps) or not np.all(arr > 0):
            raise ValueError(f"{name} must hold one positive token count per pair, got {x!r}")
        lengths.append(arr)
    len_c, len_r = lengths
    per_token = (
        np.asarray(policy_chosen_logps, float) / len_c,
        np.asarray(policy_rejected_logps, float) / len_r,
        np.asarray(ref_chosen_logps, float) / len_c,
        np.asarray(ref_rejected_logps, float) / len_r,
    )  # (n_pairs,) each
    return losses.dpo_loss(*per_token, beta, loss_type="ipo", reduction=reduction)


def toy_numbers(model, ref_model, batch, beta, loss_type="sigmoid", label_smoothing=0.0):
    """The DPO loss and TRL's logged metrics for ``batch``, computed with dpo_toy's functions.

    For ``"ipo"``, TRL (0.x and 1.x alike) divides each completion's log-ratio by its number of tokens before
    the square (:func:`trl_ipo_loss`), while the rewards stay on the summed log-probabilities.
    """
    policy, ref = batch_logps(model, batch), batch_logps(ref_model, batch)
    n = policy.size // 2
    args = (policy[:n], policy[n:], ref[:n], ref[n:], beta)
    if loss_type == "ipo":
        lengths = completion_lengths(batch)
        loss = trl_ipo_loss(*args[:4], lengths[:n], lengths[n:], beta)
    else:
        loss = losses.dpo_loss(*args, loss_type=loss_type, label_smoothing=label_smoothing)
    metrics = losses.dpo_rewards(*args).summary()
    metrics["logps/chosen"], metrics["logps/rejected"] = float(np.mean(policy[:n])), float(np.mean(policy[n:]))
    return {"loss": float(loss), **metrics}


def train_with_trl(
    examples, beta=0.5, loss_type="sigmoid", *, steps=20, lr=1e-3, seed=0, label_smoothing=0.0, output_dir
):
    """A short ``DPOTrainer`` run on the toy task; returns the trainer (its model, ref_model and logs)."""
    datasets.disable_progress_bars()
    tokenizer = word_tokenizer()
    data = preference_dataset(examples)
    with warnings.catch_warnings():  # transformers 5.x deprecation notices raised from inside TRL 1.16
        warnings.simplefilter("ignore", FutureWarning)
        args = DPOConfig(
            output_dir=str(output_dir), beta=beta, loss_type=[loss_type], label_smoothing=label_smoothing,
            max_steps=steps, per_device_train_batch_size=8, per_device_eval_batch_size=len(examples),
            learning_rate=lr, logging_steps=1, report_to=[], use_cpu=True, save_strategy="no", seed=seed,
            disable_tqdm=True,
        )  # fmt: skip
        trainer = DPOTrainer(
            model=tiny_llama(len(tokenizer), seed=seed), ref_model=tiny_llama(len(tokenizer), seed=seed), args=args,
            train_dataset=data, eval_dataset=data, processing_class=tokenizer,
        )  # fmt: skip
        trainer.remove_callback(PrinterCallback)  # the logs stay in trainer.state.log_history
        # Trainer.train() starts with accelerate's free_memory(), a full gc.collect(): 0.25 s in a
        # notebook kernel holding transformers, for a model that allocates no cycles worth finding.
        # Freezing moves what exists now out of the collector's sight, for this call only.
        gc.freeze()
        try:
            trainer.train()
        finally:
            gc.unfreeze()
    return trainer


def eval_batch(trainer):
    """The whole evaluation set as one batch, collated by TRL exactly as ``trainer.evaluate`` sees it."""
    batches = list(trainer.get_eval_dataloader())
    if len(batches) != 1:
        raise ValueError("set per_device_eval_batch_size to the size of the evaluation set")
    return batches[0]


# --- chapter 9: toward a real run (conversational data, held-out evaluation, win rate) ---------

CHAT_TEMPLATE = (
    "{% for message in messages %}{{ message['role'] }} : {{ message['content'] }} {% endfor %}"
    "{% if add_generation_prompt %}assistant : {% endif %}"
)
"""A minimal Jinja chat template in the toy's words: ``user : <text> assistant : <text>``.

Real checkpoints ship their own template (special tokens marking each turn); this one only shows
where a template sits: TRL renders conversational rows with the tokenizer's template before tokenizing.
"""


def chat_tokenizer():
    """:func:`word_tokenizer` with the words ``user``, ``assistant`` and ``:`` and :data:`CHAT_TEMPLATE` set."""
    vocab = sequences.vocabulary()
    tokenizer = word_tokenizer(sequences.Vocabulary([*vocab.tokens[3:], "user", "assistant", ":"]))
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def conversational_dataset(examples):
    """TRL's conversational preference format: the prompt as a user turn, each completion as an assistant turn."""
    return Dataset.from_list(
        [
            {
                "prompt": [{"role": "user", "content": e.prompt}],
                "chosen": [{"role": "assistant", "content": e.chosen}],
                "rejected": [{"role": "assistant", "content": e.rejected}],
            }
            for e in examples
        ]
    )


def held_out_pairs(train, n_pairs, seed):
    """``n_pairs`` comparisons from :func:`dpo_toy.sequences.capitals_data` that are not in ``train``."""
    if int(n_pairs) < 1:
        raise ValueError(f"n_pairs must be >= 1, got {n_pairs!r}")
    seen = {(e.prompt, e.chosen, e.rejected) for e in train}
    seen |= {(e.prompt, e.rejected, e.chosen) for e in train}  # the same pair with the labels swapped
    out, draw = [], 0
    while len(out) < int(n_pairs):
        for e in sequences.capitals_data(4 * int(n_pairs), seed=[int(seed), draw]):
            if (e.prompt, e.chosen, e.rejected) not in seen and len(out) < int(n_pairs):
                out.append(e)
        draw += 1
        if draw > 100:
            raise ValueError("could not find enough pairs outside the training set")
    return out


@torch.no_grad()
def pair_logps(model, tokenizer, examples):
    """log π(chosen | prompt) and log π(rejected | prompt) for each example, tokenized as TRL does.

    The text is ``prompt + " " + completion + eos``; only the completion and its end token are scored
    (:func:`dpo_toy.sequences.sequence_logps`). Returns two float64 arrays (n_pairs,).
    """
    rows, masks = [], []
    for e in examples:
        for completion in (e.chosen, e.rejected):
            prompt_ids = tokenizer(e.prompt)["input_ids"]
            ids = tokenizer(e.prompt + " " + completion + tokenizer.eos_token)["input_ids"]
            rows.append(ids)
            masks.append([0] * len(prompt_ids) + [1] * (len(ids) - len(prompt_ids)))
    length = max(len(r) for r in rows)
    ids = torch.tensor([r + [tokenizer.pad_token_id] * (length - len(r)) for r in rows])
    att = torch.tensor([[1] * len(r) + [0] * (length - len(r)) for r in rows]).bool()
    comp = torch.tensor([m + [0] * (length - len(m)) for m in masks]).bool()
    model.eval()
    logps = sequences.sequence_logps(_logits(model), ids, att, comp).double().numpy()
    return logps[0::2], logps[1::2]


def preference_metrics(model, ref_model, tokenizer, examples, beta):
    """The DPO loss and TRL's reward metrics on ``examples`` (e.g. held-out pairs), by dpo_toy."""
    policy_c, policy_r = pair_logps(model, tokenizer, examples)
    ref_c, ref_r = pair_logps(ref_model, tokenizer, examples)
    args = (policy_c, policy_r, ref_c, ref_r, beta)
    return {"loss": float(losses.dpo_loss(*args)), **losses.dpo_rewards(*args).summary()}


@torch.no_grad()
def sample_completions(model, tokenizer, prompts, seed=0, max_new_tokens=8):
    """One completion per prompt sampled from ``model`` (temperature 1), as text without <eos>.

    Prompts must tokenize to the same length (the toy's questions do), so no padding is needed.
    A plain sampling loop: ``max_new_tokens`` forward passes over the whole batch.
    """
    rows = [tokenizer(p)["input_ids"] for p in prompts]
    if len({len(r) for r in rows}) != 1:
        raise ValueError("prompts must all tokenize to the same number of tokens")
    model.eval()
    ids, _ = sequences.sample_tokens(
        lambda ids: model(input_ids=ids).logits[:, -1].float(), torch.tensor(rows), max_tokens=int(max_new_tokens),
        eos_id=tokenizer.eos_token_id, pad_id=tokenizer.pad_token_id, seed=seed,
    )  # fmt: skip
    return [tokenizer.decode(row[len(rows[0]) :], skip_special_tokens=True).strip() for row in ids]


def win_rate(model, ref_model, tokenizer, countries, n=32, seed=0):
    r"""How often the policy's sampled answer beats the reference's, judged by the toy's true reward.

    For each country, ``n`` completions from each model (the same seed); the i-th policy sample is
    compared with the i-th reference sample by :func:`dpo_toy.sequences.true_reward`. A win counts 1,
    a tie ½. Returns the win rate and the mean true reward of each model's samples.
    """
    prompts = [sequences.prompt_for(c) for c in countries for _ in range(int(n))]
    judged = [c for c in countries for _ in range(int(n))]
    ours = sample_completions(model, tokenizer, prompts, seed=seed)
    theirs = sample_completions(ref_model, tokenizer, prompts, seed=seed)
    policy_rewards = np.array([sequences.true_reward(c, a) for c, a in zip(judged, ours)])
    ref_rewards = np.array([sequences.true_reward(c, b) for c, b in zip(judged, theirs)])
    wins = np.where(policy_rewards > ref_rewards, 1.0, np.where(policy_rewards == ref_rewards, 0.5, 0.0))
    return float(wins.mean()), float(policy_rewards.mean()), float(ref_rewards.mean())
