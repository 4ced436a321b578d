"""The budget web's token check hands the ML API, through nginx, as one header."""

import pytest

from textclf_ops.throttle import Budget, RateLimit


def test_a_budget_survives_the_header():
    budget = Budget("textclf-web:throttle:user:42", 6000, 60)

    assert Budget.parse(budget.header()) == budget


@pytest.mark.parametrize(
    "value",
    [
        "",
        "none",
        "key 10",
        "key 10 60 extra",
        "key ten 60",
        "key 10 -60",
        "key 0 60",
        "key 10 0",
        " 10 60",
    ],
)
def test_anything_else_is_no_budget(value):
    assert Budget.parse(value) is None


def test_rate_limit_headers():
    assert RateLimit(100, 7, 42).headers() == {
        "X-RateLimit-Limit": "100",
        "X-RateLimit-Remaining": "7",
        "X-RateLimit-Reset": "42",
    }
