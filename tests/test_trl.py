"""dpo_toy against Hugging Face TRL: the same loss and metrics on the same batches, no downloads.

TRL is an extra that ``make`` installs, so these run in CI; a missing TRL is a failure, not a skip.
"""

import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may download: the model and tokenizer are built here

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import dpo_toy as d  # noqa: E402
from dpo_toy import sequences as S  # noqa: E402
from dpo_toy import trl_bridge  # noqa: E402

DATA = S.capitals_data(64, seed=0)


@pytest.fixture(scope="module", params=["sigmoid", "ipo", "hinge"])
def trained(request, tmp_path_factory):
    trainer = trl_bridge.train_with_trl(
        DATA, beta=0.5, loss_type=request.param, steps=10, output_dir=tmp_path_factory.mktemp("trl")
    )
    return request.param, trainer, trainer.evaluate()


def test_trl_is_the_pinned_version():
    import trl

    assert trl.__version__ == trl_bridge.TRL_VERSION


def test_tokenizer_is_local_and_matches_the_vocabulary():
    tok = trl_bridge.word_tokenizer()
    vocab = S.vocabulary()
    text = "what is the capital of japan ? tokyo ."
    assert tok(text)["input_ids"] == vocab.encode(text)
    assert tok.eos_token_id == vocab.eos_id and tok.pad_token_id == vocab.pad_id
    assert tok("paris .<eos>")["input_ids"] == [*vocab.encode("paris ."), vocab.eos_id]


def test_trl_loss_and_metrics_equal_dpo_toy_on_the_same_batch(trained):
    """After a short DPOTrainer run, TRL's evaluation numbers equal dpo_toy's on TRL's own batch."""
    loss_type, trainer, logged = trained
    ours = trl_bridge.toy_numbers(trainer.model, trainer.ref_model, trl_bridge.eval_batch(trainer), 0.5, loss_type)
    for name, value in ours.items():
        assert logged[f"eval_{name}"] == pytest.approx(value, rel=1e-5, abs=1e-6), name


def test_first_logged_step_is_ln2_with_ties_counted_wrong(trained):
    loss_type, trainer, _ = trained
    first = trainer.state.log_history[0]
    expected = {"sigmoid": np.log(2), "hinge": 1.0, "ipo": (1 / (2 * 0.5)) ** 2}[loss_type]
    assert first["loss"] == pytest.approx(expected, rel=1e-6)
    assert first["rewards/margins"] == 0 and first["rewards/accuracies"] == 0  # strict >: a tie is not a win


def test_trl_1x_ignores_label_smoothing_on_the_sigmoid_loss(tmp_path):
    """dpo_toy's sigmoid + label_smoothing is conservative DPO (TRL 0.x); TRL 1.x's sigmoid leaves it out."""
    trainer = trl_bridge.train_with_trl(
        DATA, beta=0.5, loss_type="sigmoid", label_smoothing=0.1, steps=5, output_dir=tmp_path
    )
    logged = trainer.evaluate()["eval_loss"]
    batch = trl_bridge.eval_batch(trainer)
    plain = trl_bridge.toy_numbers(trainer.model, trainer.ref_model, batch, 0.5, "sigmoid", 0.0)["loss"]
    smoothed = trl_bridge.toy_numbers(trainer.model, trainer.ref_model, batch, 0.5, "sigmoid", 0.1)["loss"]
    assert logged == pytest.approx(plain, rel=1e-5) and abs(logged - smoothed) > 1e-3


def test_name_map_names_real_config_fields():
    from trl import DPOConfig

    fields = set(DPOConfig.__dataclass_fields__)
    for _, theirs in trl_bridge.NAME_MAP:
        for name in ("beta", "loss_type", "disable_dropout", "max_steps", "per_device_train_batch_size"):
            if f"{name}=" in theirs or f"{name}(" in theirs:
                assert name in fields, name
    assert d.dpo_rewards([0.0], [0.0], [0.0], [0.0]).summary().keys() == {
        "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins"
    }  # fmt: skip


def test_trl_ipo_loss_is_ipo_on_per_token_log_ratios():
    """TRL's IPO equals mean((h − 1/(2β))²) with each log-ratio divided by its own length, written out."""
    rng = np.random.default_rng(5)
    pc, pr, rc, rr = (-np.abs(rng.normal(size=6)) * 8 for _ in range(4))
    lc, lr = rng.integers(1, 9, 6).astype(float), rng.integers(1, 9, 6).astype(float)
    beta = 0.3
    h = (pc - rc) / lc - (pr - rr) / lr
    expected = (h - 1 / (2 * beta)) ** 2
    assert trl_bridge.trl_ipo_loss(pc, pr, rc, rr, lc, lr, beta) == pytest.approx(expected.mean(), rel=1e-12)
    np.testing.assert_allclose(
        trl_bridge.trl_ipo_loss(pc, pr, rc, rr, lc, lr, beta, reduction="none"), expected, rtol=1e-12
    )
    with pytest.raises(ValueError, match="chosen_lengths"):
        trl_bridge.trl_ipo_loss(pc, pr, rc, rr, 0 * lc, lr, beta)


# --- chapter 9: toward a real run ---


def test_pair_logps_and_metrics_equal_trl_on_its_own_batch(trained):
    """dpo_toy's own tokenization scores each pair exactly as TRL's collated batch does, and its metrics match."""
    loss_type, trainer, logged = trained
    chosen, rejected = trl_bridge.pair_logps(trainer.model, trl_bridge.word_tokenizer(), DATA)
    trl_rows = trl_bridge.batch_logps(trainer.model, trl_bridge.eval_batch(trainer))
    np.testing.assert_allclose(np.concatenate([chosen, rejected]), trl_rows, rtol=1e-6)
    if loss_type == "sigmoid":
        ours = trl_bridge.preference_metrics(trainer.model, trainer.ref_model, trl_bridge.word_tokenizer(), DATA, 0.5)
        for name, value in ours.items():
            assert logged[f"eval_{name}"] == pytest.approx(value, rel=1e-5, abs=1e-6), name


def test_held_out_pairs_are_new_and_seeded():
    held = trl_bridge.held_out_pairs(DATA, 40, seed=1)
    seen = {(e.prompt, e.chosen, e.rejected) for e in DATA} | {(e.prompt, e.rejected, e.chosen) for e in DATA}
    assert len(held) == 40 and not any((e.prompt, e.chosen, e.rejected) in seen for e in held)
    assert held == trl_bridge.held_out_pairs(DATA, 40, seed=1)
    with pytest.raises(ValueError, match="n_pairs"):
        trl_bridge.held_out_pairs(DATA, 0, seed=1)


def test_chat_template_renders_in_known_words():
    """TRL renders a conversational row with the toy template; every rendered word is a token (no <unk>)."""
    from trl.data_utils import maybe_apply_chat_template

    tok = trl_bridge.chat_tokenizer()
    row = trl_bridge.conversational_dataset(DATA[:1])[0]
    rendered = maybe_apply_chat_template(row, tok)
    assert rendered["prompt"] == f"user : {DATA[0].prompt} assistant : "
    assert rendered["chosen"].strip() == DATA[0].chosen
    ids = tok(rendered["prompt"] + rendered["chosen"])["input_ids"]
    assert tok.unk_token_id not in ids


def test_policy_equal_to_reference_ties_everywhere():
    """A policy identical to its reference: held-out loss ln 2, accuracy 0, and a win rate of exactly 1/2."""
    tok = trl_bridge.word_tokenizer()
    model = trl_bridge.tiny_llama(len(tok), seed=3)
    metrics = trl_bridge.preference_metrics(model, model, tok, DATA[:8], 0.5)
    assert metrics["loss"] == pytest.approx(np.log(2)) and metrics["rewards/accuracies"] == 0
    rate, ours, theirs = trl_bridge.win_rate(model, model, tok, ["france", "japan"], n=8, seed=0)
    assert rate == 0.5 and ours == theirs


def test_win_rate_counts_wins_by_the_true_reward():
    """Against a reference that only says 'i like cheese .' (reward -1), a right-capital sampler wins."""
    tok = trl_bridge.word_tokenizer()

    class Fixed(torch.nn.Module):
        def __init__(self, text):
            super().__init__()
            self.ids = tok(text + tok.eos_token)["input_ids"]

        def forward(self, input_ids):
            step = min(input_ids.shape[1] - 7, len(self.ids) - 1)  # the prompts are 7 tokens
            logits = torch.full((input_ids.shape[0], input_ids.shape[1], len(tok)), -1e9)
            logits[:, -1, self.ids[step]] = 0.0
            return type("Out", (), {"logits": logits})()

    rate, ours, theirs = trl_bridge.win_rate(
        Fixed("the capital is paris ."), Fixed("i like cheese ."), tok, ["france"], n=4
    )
    assert (rate, ours, theirs) == (1.0, 2.5, -1.0)


def test_the_old_name_still_imports_the_bridge_with_a_warning(monkeypatch):
    """A learner's chapter 9 saved before the rename says ``from dpo_toy import hf``: it must keep running."""
    monkeypatch.delitem(sys.modules, "dpo_toy.hf", raising=False)
    monkeypatch.delattr(d, "hf", raising=False)
    with pytest.warns(FutureWarning, match="dpo_toy.trl_bridge"):
        from dpo_toy import hf
    assert hf is trl_bridge
    assert hf.train_with_trl is trl_bridge.train_with_trl
