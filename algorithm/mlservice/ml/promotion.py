"""The promotion gate: may a freshly trained candidate replace the production model?

Both are judged on the same evaluation rows (`evaluation.is_evaluation_row`, a hash of the row
id), and neither was fitted on any of them: the candidate's scores come from its recipe fitted on
the other rows, and the production model's from the held-out fit it kept when it was trained
(the served model is refit on every row, so it has seen its evaluation rows and would score too
well). A row's side of the split never changes, so rows added since production was trained are
on the same side for both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A label with fewer evaluation rows than this is not judged by its recall: one row would move
# it by a fifth or more.
MIN_RECALL_SUPPORT = 5


@dataclass(frozen=True)
class GateRules:
    """TRAIN_PROMOTE_F1_TOLERANCE, TRAIN_PROMOTE_MAX_RECALL_DROP, TRAIN_PROMOTE_MIN_F1."""

    f1_tolerance: float
    max_recall_drop: float
    min_f1: float


@dataclass(frozen=True)
class Decision:
    promote: bool
    reasons: list[str]
    candidate_f1: float
    production_f1: float | None = None
    # label: production recall - candidate recall, for the labels judged (positive: a drop)
    recall_drops: dict[str, float] = field(default_factory=dict)

    def as_record(self, rules: GateRules) -> dict[str, Any]:
        return {
            "promote": self.promote,
            "reasons": self.reasons,
            "candidate_f1_macro": self.candidate_f1,
            "production_f1_macro": self.production_f1,
            "recall_drops": self.recall_drops,
            "rules": {
                "f1_tolerance": rules.f1_tolerance,
                "max_recall_drop": rules.max_recall_drop,
                "min_f1": rules.min_f1,
                "min_recall_support": MIN_RECALL_SUPPORT,
            },
        }


def decide(
    candidate: dict[str, Any], production: dict[str, Any] | None, rules: GateRules
) -> Decision:
    """Promote or hold back, and why.

    `candidate` and `production` are `{"f1_macro": float, "per_label": {label: {"recall",
    "support", ...}}}` on the same evaluation rows; `production` is None when there is no
    production model to compare with (the first model, or one trained before held-out fits were
    kept): then the candidate needs `rules.min_f1`.
    """
    candidate_f1 = float(candidate["f1_macro"])
    if production is None:
        if candidate_f1 >= rules.min_f1:
            return Decision(
                True,
                [
                    f"no production model to compare with; macro-F1 {candidate_f1:.3f} meets the "
                    f"minimum {rules.min_f1:.3f}"
                ],
                candidate_f1,
            )
        return Decision(
            False,
            [
                f"macro-F1 {candidate_f1:.3f} is below the minimum {rules.min_f1:.3f} for a first "
                "model"
            ],
            candidate_f1,
        )

    production_f1 = float(production["f1_macro"])
    reasons: list[str] = []
    promote = True
    floor = production_f1 - rules.f1_tolerance
    if candidate_f1 < floor:
        promote = False
        reasons.append(
            f"macro-F1 {candidate_f1:.3f} is below production's {production_f1:.3f} minus the "
            f"tolerance {rules.f1_tolerance:.3f}"
        )
    drops: dict[str, float] = {}
    candidate_labels = candidate.get("per_label") or {}
    for label, quality in sorted((production.get("per_label") or {}).items()):
        if quality.get("support", 0) < MIN_RECALL_SUPPORT:
            continue
        new_recall = (candidate_labels.get(label) or {}).get("recall", 0.0)
        drop = round(float(quality["recall"]) - float(new_recall), 6)
        drops[label] = drop
        if drop > rules.max_recall_drop:
            promote = False
            reasons.append(
                f"recall of {label!r} falls by {drop:.3f} ({quality['recall']:.3f} -> "
                f"{new_recall:.3f}), more than {rules.max_recall_drop:.3f}"
            )
    if promote:
        reasons.append(
            f"macro-F1 {candidate_f1:.3f} vs production's {production_f1:.3f} (tolerance "
            f"{rules.f1_tolerance:.3f}); no label's recall fell by more than "
            f"{rules.max_recall_drop:.3f}"
        )
    return Decision(promote, reasons, candidate_f1, production_f1, drops)
