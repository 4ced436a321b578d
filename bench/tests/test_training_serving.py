"""The predict rows serve the model of the whole real corpus: one the promotion gate held back
is promoted by hand before they run (the public API stands in for the stack here)."""

from types import SimpleNamespace

import pytest

from bench.sections.training import TrainingRun, _serve


class Answer(SimpleNamespace):
    text = ""


class Api:
    def __init__(self, ok: bool = True) -> None:
        self.calls: list[tuple[str, object]] = []
        self.ok = ok

    def post(self, path: str, payload: object) -> Answer:
        self.calls.append((path, payload))
        return Answer(ok=self.ok, status_code=200 if self.ok else 409)


def run(outcome: str) -> TrainingRun:
    return TrainingRun("linear_svc", 63_436, 1.0, 1.0, 1, "", 0.8, 0.7,
                       model_version="v7", outcome=outcome, note="held back")  # fmt: skip


def test_a_promoted_model_is_left_alone():
    api = Api()
    _serve(SimpleNamespace(api=api), run("promoted"))
    assert api.calls == []


def test_a_held_back_model_is_promoted_by_hand_with_a_reason():
    api = Api()
    _serve(SimpleNamespace(api=api), run("candidate"))
    ((path, payload),) = api.calls
    assert path == "/api/models/v7/promote/"
    assert payload["reason"].startswith("bench:")


def test_a_refused_promotion_stops_the_bench():
    with pytest.raises(RuntimeError, match="promoting v7: 409"):
        _serve(SimpleNamespace(api=Api(ok=False)), run("candidate"))
