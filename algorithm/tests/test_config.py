from pathlib import Path

import pytest

from mlservice.config import ConfigError, Settings


def test_defaults_match_the_compose_stack():
    settings = Settings.from_env({})
    assert settings.database_url == "postgres://textclf:textclf@db:5432/textclf"
    assert settings.celery_broker_url == "redis://redis:6379/0"
    assert settings.models_dir == Path("/models")
    assert settings.model_keep_versions == 5
    assert settings.classifier == "linear_svc"
    assert settings.train_min_samples == 20
    assert settings.train_batch_size == 5000
    assert settings.text_max_length == 100_000
    assert settings.predict_batch_max == 1000
    assert settings.log_level == "INFO"


def test_environment_overrides_defaults():
    settings = Settings.from_env(
        {
            "MODELS_DIR": "/tmp/m",
            "CLASSIFIER": "svc",
            "TRAIN_BATCH_SIZE": "10",
            "BROKER_CONNECT_TIMEOUT": "0.5",
            "LOG_LEVEL": "debug",
        }
    )
    assert settings.models_dir == Path("/tmp/m")
    assert settings.classifier == "svc"
    assert settings.train_batch_size == 10
    assert settings.broker_connect_timeout == 0.5
    assert settings.log_level == "DEBUG"


def test_blank_values_keep_the_default():
    assert Settings.from_env({"MODEL_KEEP_VERSIONS": " "}).model_keep_versions == 5


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TRAIN_BATCH_SIZE", "many", "TRAIN_BATCH_SIZE has an invalid value"),
        ("TRAIN_BATCH_SIZE", "0", "TRAIN_BATCH_SIZE must be at least 1"),
        ("MODEL_KEEP_VERSIONS", "-1", "MODEL_KEEP_VERSIONS must be at least 1"),
        ("CLASSIFIER", "naive_bayes", "CLASSIFIER must be one of linear_svc, svc"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be one of"),
        ("BROKER_CONNECT_TIMEOUT", "0", "BROKER_CONNECT_TIMEOUT must be positive"),
    ],
)
def test_invalid_values_fail_fast_naming_the_variable(name, value, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({name: value})


def test_settings_are_immutable():
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.classifier = "svc"
