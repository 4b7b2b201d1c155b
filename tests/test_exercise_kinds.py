"""The question kinds (prediction, slider, choice, derivation), the registry and the verdict records."""

import json

import numpy as np
import pytest
from scipy.optimize import brentq

import dpo_toy as d
from dpo_toy import exercises as ex
from dpo_toy.exercises import FAILED, NOT_ATTEMPTED, PASSED, Derivation, Mistake, check, get, ids, predict

FR = d.capital_of_france()


def test_ids_are_unique_sorted_and_per_chapter():
    """ids() is every registered id once, in natural order; ids(n) is chapter n's."""
    all_ids = ids()
    assert len(all_ids) == len(set(all_ids))
    assert all_ids.index("1.2") < all_ids.index("1.p1") < all_ids.index("2.1")
    assert set(all_ids) == {i for n in range(10) for i in ids(n)}
    assert all(i.startswith("3.") for i in ids(3)) and ids(3)
    for i in all_ids:
        q = get(i)
        assert q.id == i and q.title and q.kind in {"function", "prediction", "slider", "choice", "derivation"}
        assert isinstance(q.mistake_names, tuple)


def test_get_unknown_id_names_the_nearest():
    with pytest.raises(KeyError, match="did you mean"):
        get("1.10")


def test_no_import_circle_and_no_torch():
    """Importing the exercises loads neither PyTorch nor a catalogue module importing back."""
    import subprocess
    import sys

    code = "import sys, dpo_toy.exercises; print('torch' in sys.modules, 'dpo_toy.catalogue' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


# --- prediction -------------------------------------------------------------------------------


def test_prediction_recorded_then_compared_with_the_library():
    """predict shows no truth; check compares with π*(Paris) at β = 0.5 computed here independently."""
    logits = np.log(FR.pi_ref) + FR.rewards / 0.5
    truth = np.exp(logits[0] - np.logaddexp.reduce(logits))
    shown = predict("1.p1", round(truth, 2))
    assert shown.status == NOT_ATTEMPTED and "recorded" in shown.message and f"{truth:.4g}" not in shown.message
    verdict = check("1.p1")
    assert verdict.status == PASSED and f"{truth:.4g}" in verdict.message
    predict("1.p1", truth + 0.2)
    verdict = check("1.p1")
    assert verdict.status == FAILED and verdict.mistake == "too high"


def test_prediction_names_the_catalogued_misconception():
    """A prediction equal to exp(β·r)'s answer is named, not just "too low"."""
    w = FR.pi_ref * np.exp(0.5 * FR.rewards)
    predict("1.p1", w[0] / w.sum())
    verdict = check("1.p1")
    assert verdict.status == FAILED and verdict.mistake == "exp(beta*r)", str(verdict)


@pytest.mark.parametrize("placeholder", [None, ...])
def test_prediction_not_attempted(placeholder):
    assert predict("1.p1", placeholder).status == NOT_ATTEMPTED
    assert check("1.p1").status == NOT_ATTEMPTED


def test_prediction_of_a_non_number_is_named():
    verdict = predict("1.p1", "paris")
    assert verdict.status == FAILED and "number" in verdict.message


# --- slider ----------------------------------------------------------------------------------


def _beta_for_kl_half():
    def kl_minus_half(log_beta):
        pi = d.optimal_policy(FR.pi_ref, FR.rewards, np.exp(log_beta))
        return float(np.sum(pi * np.log(pi / FR.pi_ref))) - 0.5

    return np.exp(brentq(kl_minus_half, np.log(1e-2), np.log(1e2), xtol=1e-12))


def test_slider_truth_matches_a_root_finder():
    """The slider's β for KL = 0.5 equals scipy's root of KL(β) − 0.5."""
    np.testing.assert_allclose(get("1.s1").true_value(), _beta_for_kl_half(), rtol=1e-6)


def test_slider_accepts_a_band_and_says_which_way():
    beta = _beta_for_kl_half()
    assert check("1.s1", beta * 1.03).status == PASSED
    high = check("1.s1", beta * 2)
    assert high.status == FAILED and "move the slider left" in high.message and high.mistake == "too high"
    low = check("1.s1", beta / 2)
    assert low.status == FAILED and "move the slider right" in low.message and "KL = " in low.message
    assert check("1.s1", None).status == NOT_ATTEMPTED
    assert check("1.s1", "0.4").status == FAILED


# --- choice ----------------------------------------------------------------------------------


def test_choice_explains_each_wrong_option():
    q = get("1.r1")
    assert check("1.r1", q.answer).status == PASSED
    assert check("1.r1", f" {q.answer.upper()}) ").status == PASSED
    for key, why in q.why.items():
        verdict = check("1.r1", key)
        assert (
            verdict.status == FAILED and why in verdict.message and verdict.mistake == q.names.get(key, f"chose {key}")
        )
    assert check("1.r1", "z").status == FAILED
    assert check("1.r1", None).status == NOT_ATTEMPTED


def test_choice_needs_an_explanation_for_every_wrong_option():
    with pytest.raises(ValueError, match="every wrong option"):
        ex.Choice("1.r9", "t", {"a": "x", "b": "y"}, "a", why={})


# --- derivation ------------------------------------------------------------------------------


def _learner_objective(pi, pi_ref, rewards, beta):
    """J(π) = E_π[r] − β KL(π‖π_ref), written out directly."""
    return float(np.sum(pi * rewards) - beta * np.sum(pi * np.log(pi / pi_ref)))


def test_derivation_as_a_function():
    """J(π) written out directly passes 1.d1; its classic slips are named."""
    assert check("1.d1", _learner_objective).status == PASSED
    for mistake in get("1.d1").mistakes:
        verdict = check("1.d1", mistake.compute)
        assert verdict.status == FAILED and verdict.mistake == mistake.name


def test_derivation_as_a_number():
    """A number derivation compares with reference() and names a slip's value."""
    q = Derivation(
        "1.d9", "log Z at β=1", lambda: d.log_partition(FR.pi_ref, FR.rewards, 1.0), (),
        (Mistake("Z not log Z", "that is Z", lambda: np.exp(d.log_partition(FR.pi_ref, FR.rewards, 1.0))),),
        title="log Z",
    )  # fmt: skip
    z = float(np.log(np.sum(FR.pi_ref * np.exp(FR.rewards))))
    assert q.check(z).status == PASSED
    assert q.check(np.exp(z)).mistake == "Z not log Z"
    assert q.check(z + 1).status == FAILED and q.check(None).status == NOT_ATTEMPTED
    assert q.check("1.2").status == FAILED


# --- records -----------------------------------------------------------------------------------


def test_every_check_and_predict_emits_one_json_line(tmp_path, monkeypatch):
    """With $DPO_TOY_VERDICTS set, each check/predict appends {exercise, verdict, mistake, message}."""
    path = tmp_path / "verdicts.jsonl"
    monkeypatch.setenv("DPO_TOY_VERDICTS", str(path))
    check("0.1", np.exp)
    check("0.1", d.softmax)
    predict("1.p1", 0.9)
    check("1.r1", None)
    check("nope", 1)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["exercise"] for r in rows] == ["0.1", "0.1", "1.p1", "1.r1", "nope"]
    assert [r["verdict"] for r in rows] == [FAILED, PASSED, FAILED, NOT_ATTEMPTED, FAILED]
    assert rows[0]["mistake"] == "not normalised" and rows[2]["mistake"] == "too high"
    assert all(set(r) == {"exercise", "verdict", "mistake", "message"} for r in rows)


def test_no_file_without_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("DPO_TOY_VERDICTS", raising=False)
    monkeypatch.chdir(tmp_path)
    check("0.1", d.softmax)
    assert list(tmp_path.iterdir()) == []


def test_demonstration_checks_are_shown_but_not_recorded(tmp_path, monkeypatch):
    """check(..., record=False) returns the same verdict but writes no line for the grader."""
    path = tmp_path / "verdicts.jsonl"
    monkeypatch.setenv("DPO_TOY_VERDICTS", str(path))
    shown = check("0.1", np.exp, record=False)
    assert shown.status == FAILED and shown.mistake == "not normalised"
    assert not path.exists()
    check("0.1", d.softmax)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["exercise"], r["verdict"]) for r in rows] == [("0.1", PASSED)]
