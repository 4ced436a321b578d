import pytest

from textclf_ops.secrets import SettingError, secret_from_env, weak_secret

STRONG = "Hk4nW8qZ2xLp6Rt0Vb3Mc7Jf5Sd9Ga1E"


def test_a_secret_comes_from_its_variable():
    assert secret_from_env({"TOKEN": " value "}, "TOKEN") == "value"


def test_or_from_the_file_its_NAME_FILE_names(tmp_path):
    path = tmp_path / "token"
    path.write_text("  from the file\n")
    assert secret_from_env({"TOKEN_FILE": str(path)}, "TOKEN") == "from the file"


@pytest.mark.parametrize("environ", [{}, {"TOKEN": ""}, {"TOKEN": "  ", "TOKEN_FILE": ""}])
def test_unset_or_blank_is_none(environ):
    assert secret_from_env(environ, "TOKEN") is None


def test_setting_both_is_refused_naming_the_setting(tmp_path):
    path = tmp_path / "token"
    path.write_text("from the file")
    with pytest.raises(SettingError, match="Set TOKEN or TOKEN_FILE, not both"):
        secret_from_env({"TOKEN": "from env", "TOKEN_FILE": str(path)}, "TOKEN")


@pytest.mark.parametrize(
    ("content", "message"), [(None, "TOKEN_FILE: cannot read"), ("\n", "TOKEN_FILE: .* is empty")]
)
def test_an_unusable_file_is_refused_naming_the_setting(tmp_path, content, message):
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SettingError, match=message):
        secret_from_env({"TOKEN_FILE": str(path)}, "TOKEN")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "The OPS_PASSWORD environment variable is required in production"),
        (None, "The OPS_PASSWORD environment variable is required in production"),
        ("ops", "OPS_PASSWORD is a development value"),
        ("django-insecure-" + STRONG, "OPS_PASSWORD is a development value"),
        (STRONG[:31], "OPS_PASSWORD must be at least 32 characters long; got 31"),
    ],
)
def test_production_refuses_a_weak_secret_naming_it(value, message):
    assert weak_secret("OPS_PASSWORD", value).startswith(message)


def test_a_strong_secret_is_fit():
    assert weak_secret("OPS_PASSWORD", STRONG) is None
    assert weak_secret("ADMIN_PASSWORD", "short but human", min_length=1) is None
