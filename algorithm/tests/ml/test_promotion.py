"""The promotion gate's rule, as a pure function of two evaluations on the same rows."""

import pytest

from mlservice.ml.promotion import MIN_RECALL_SUPPORT, GateRules, decide

RULES = GateRules(f1_tolerance=0.02, max_recall_drop=0.10, min_f1=0.3)


def evaluation(f1, **recalls):
    return {
        "f1_macro": f1,
        "per_label": {
            label: {"recall": recall, "support": support}
            for label, (recall, support) in recalls.items()
        },
    }


@pytest.mark.parametrize(
    ("candidate_f1", "promote"),
    [(0.70, True), (0.29, False), (0.30, True)],
)
def test_a_first_model_needs_the_minimum(candidate_f1, promote):
    decision = decide(evaluation(candidate_f1), None, RULES)
    assert decision.promote is promote
    assert "minimum" in decision.reasons[0]
    assert decision.production_f1 is None


@pytest.mark.parametrize(
    ("candidate_f1", "promote"),
    [(0.80, True), (0.79, True), (0.78, True), (0.779, False), (0.40, False)],
)
def test_macro_f1_may_fall_by_the_tolerance_and_no_more(candidate_f1, promote):
    decision = decide(evaluation(candidate_f1), evaluation(0.80), RULES)
    assert decision.promote is promote
    if not promote:
        assert "below production's 0.800 minus the tolerance 0.020" in decision.reasons[0]


def test_a_label_whose_recall_falls_too_far_holds_the_candidate_back():
    production = evaluation(0.80, a=(0.90, 20), b=(0.70, 20))
    candidate = evaluation(0.82, a=(0.95, 20), b=(0.55, 20))
    decision = decide(candidate, production, RULES)
    assert not decision.promote
    assert decision.recall_drops == {"a": pytest.approx(-0.05), "b": pytest.approx(0.15)}
    assert decision.reasons == ["recall of 'b' falls by 0.150 (0.700 -> 0.550), more than 0.100"]


def test_a_label_the_candidate_no_longer_predicts_counts_as_recall_zero():
    production = evaluation(0.80, a=(0.90, 20), gone=(0.50, 10))
    decision = decide(evaluation(0.80, a=(0.90, 20)), production, RULES)
    assert not decision.promote
    assert decision.recall_drops["gone"] == pytest.approx(0.50)


def test_labels_with_few_evaluation_rows_are_not_judged_by_recall():
    production = evaluation(0.80, rare=(1.0, MIN_RECALL_SUPPORT - 1))
    decision = decide(evaluation(0.80, rare=(0.0, MIN_RECALL_SUPPORT - 1)), production, RULES)
    assert decision.promote
    assert decision.recall_drops == {}


def test_the_record_names_the_rules_applied():
    decision = decide(evaluation(0.81), evaluation(0.80), RULES)
    record = decision.as_record(RULES)
    assert record["promote"] is True
    assert record["candidate_f1_macro"] == 0.81
    assert record["production_f1_macro"] == 0.80
    assert record["rules"] == {
        "f1_tolerance": 0.02,
        "max_recall_drop": 0.10,
        "min_f1": 0.3,
        "min_recall_support": MIN_RECALL_SUPPORT,
    }
