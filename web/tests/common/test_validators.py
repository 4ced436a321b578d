import pytest
from django.core.exceptions import ValidationError
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from common.validators import ProhibitSurrogateCharacters


@pytest.mark.parametrize(
    "value",
    ["plain", "émoji 👩‍💻 and RTL \u200f", "a\ud800b", "\udfff", "x" * 500 + "\udc00", ""],
)
def test_the_surrogate_check_agrees_with_drfs(value):
    def outcome(validator):
        try:
            validator(value)
        except Exception as exc:  # DRF raises its own ValidationError, ours Django's
            return exc.messages[0] if hasattr(exc, "messages") else str(exc.detail[0])
        return None

    assert outcome(ProhibitSurrogateCharacters()) == outcome(ProhibitSurrogateCharactersValidator())


def test_the_first_surrogate_is_named():
    with pytest.raises(ValidationError) as excinfo:
        ProhibitSurrogateCharacters()("ok \udbff then \ud800")

    assert excinfo.value.messages == ["Surrogate characters are not allowed: U+DBFF."]
