from pathlib import Path

import pytest

from mlservice.config import ConfigError, Settings


def test_defaults_match_the_compose_stack():
    settings = Settings.from_env({})
    assert settings.database_url.get_secret_value() == "postgres://textclf:textclf@db:5432/textclf"
    assert settings.celery_broker_url.get_secret_value() == "redis://redis:6379/0"
    assert settings.models_dir == Path("/models")
    assert settings.model_keep_versions == 5
    assert settings.classifier == "linear_svc"
    assert settings.train_min_samples == 20
    assert settings.train_batch_size == 5000
    assert settings.text_max_length == 100_000
    assert settings.predict_batch_max == 1000
    assert settings.log_level == "INFO"
    assert settings.ml_service_token.get_secret_value() == "dev-ml-service-token"
    assert settings.ml_database_user == "textclf_ml"
    assert settings.ml_database_password.get_secret_value() == "textclf_ml"
    assert settings.model_signing_key.get_secret_value() == "dev-model-signing-key"
    assert (settings.train_lease_seconds, settings.train_max_attempts) == (60, 2)
    assert settings.activate_timeout_seconds == 10.0
    assert settings.log_format == "json"
    assert settings.sentry_dsn.get_secret_value() == ""
    assert (settings.sentry_environment, settings.sentry_release) == ("development", "textclf@dev")
    assert settings.sentry_traces_sample_rate == 0.0
    assert settings.prometheus_multiproc_dir == Path("/tmp/prometheus")
    assert settings.worker_metrics_port == 9808
    assert settings.model_max_age_seconds == 604800
    assert settings.predict_p99_threshold_seconds == 0.25
    assert (settings.train_max_features, settings.train_max_labels) == (200_000, 500)
    assert settings.model_max_bytes == 128 * 1024 * 1024


def test_the_release_names_the_image_tag():
    assert Settings.from_env({"IMAGE_TAG": "1.4.2"}).sentry_release == "textclf@1.4.2"
    assert Settings.from_env({"SENTRY_RELEASE": "x@y", "IMAGE_TAG": "1"}).sentry_release == "x@y"


def test_environment_overrides_defaults():
    settings = Settings.from_env(
        {
            "MODELS_DIR": "/tmp/m",
            "CLASSIFIER": "svc",
            "TRAIN_BATCH_SIZE": "10",
            "BROKER_CONNECT_TIMEOUT": "0.5",
            "LOG_LEVEL": "debug",
            "TRAIN_RECIPE_BUDGET_SECONDS": "30.5",
            "PREDICT_REFUSE_UNKNOWN": "true",
        }
    )
    assert settings.models_dir == Path("/tmp/m")
    assert settings.classifier == "svc"
    assert settings.train_batch_size == 10
    assert settings.broker_connect_timeout == 0.5
    assert settings.log_level == "DEBUG"
    assert settings.train_recipe_budget_seconds == 30.5
    assert settings.predict_refuse_unknown is True


def test_blank_values_keep_the_default():
    assert Settings.from_env({"MODEL_KEEP_VERSIONS": " "}).model_keep_versions == 5


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TRAIN_BATCH_SIZE", "many", "TRAIN_BATCH_SIZE: Input should be a valid integer"),
        ("TRAIN_BATCH_SIZE", "0", "TRAIN_BATCH_SIZE: Input should be greater than or equal to 1"),
        ("MODEL_KEEP_VERSIONS", "-1", "MODEL_KEEP_VERSIONS: Input should be greater than or"),
        ("CLASSIFIER", "naive_bayes", "CLASSIFIER: must be one of linear_svc, svc"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: Input should be 'CRITICAL', 'ERROR'"),
        ("BROKER_CONNECT_TIMEOUT", "0", "BROKER_CONNECT_TIMEOUT: Input should be greater than 0"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT: Input should be 'json' or 'console'"),
        ("SENTRY_TRACES_SAMPLE_RATE", "2", "SENTRY_TRACES_SAMPLE_RATE: Input should be less"),
        ("WORKER_METRICS_PORT", "70000", "WORKER_METRICS_PORT: Input should be less than or"),
        (
            "TRAIN_LEASE_SECONDS",
            "1",
            "TRAIN_LEASE_SECONDS: Input should be .* equal to 3",
        ),
        (
            "TRAIN_MAX_ATTEMPTS",
            "0",
            "TRAIN_MAX_ATTEMPTS: Input should be .* equal to 1",
        ),
        ("ACTIVATE_TIMEOUT_SECONDS", "0", "ACTIVATE_TIMEOUT_SECONDS: Input should be greater than"),
        ("LOG_FLUSH_SECONDS", "0", "LOG_FLUSH_SECONDS: Input should be greater than 0"),
        ("TRAIN_MAX_FEATURES", "0", "TRAIN_MAX_FEATURES: Input should be greater than or equal"),
        ("TRAIN_MAX_LABELS", "1", "TRAIN_MAX_LABELS: Input should be greater than or equal to 2"),
        ("MODEL_MAX_BYTES", "0", "MODEL_MAX_BYTES: Input should be greater than or equal to 1"),
        (
            "TRAIN_RECIPE_BUDGET_SECONDS",
            "-1",
            "TRAIN_RECIPE_BUDGET_SECONDS: Input should be greater",
        ),
        (
            "PREDICT_REFUSE_UNKNOWN",
            "maybe",
            "PREDICT_REFUSE_UNKNOWN: Input should be a valid boolean",
        ),
    ],
)
def test_invalid_values_fail_fast_naming_the_variable(name, value, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({name: value})


def test_settings_are_immutable():
    settings = Settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.classifier = "svc"


def test_secrets_can_come_from_files(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("from-a-file\n")
    settings = Settings.from_env({"ML_SERVICE_TOKEN_FILE": str(token_file)})
    assert settings.ml_service_token.get_secret_value() == "from-a-file"


def test_the_broker_url_can_come_from_a_file_as_swarm_gives_it(tmp_path):
    """Its password is Redis's: docker-stack.yml hands the URL over as a Swarm secret."""
    url_file = tmp_path / "broker_url"
    url_file.write_text(f"redis://:{STRONG}@redis:6379/0\n")
    settings = Settings.from_env({**PRODUCTION_ENV, "CELERY_BROKER_URL": "",
                                  "CELERY_BROKER_URL_FILE": str(url_file)})  # fmt: skip
    assert settings.celery_broker_url.get_secret_value() == f"redis://:{STRONG}@redis:6379/0"


def test_a_secret_and_its_file_together_are_refused_as_in_web(tmp_path):
    """The ML service used to let the file win; web refused both. One rule now."""
    token_file = tmp_path / "token"
    token_file.write_text("from-a-file\n")
    with pytest.raises(
        ConfigError, match="Set ML_SERVICE_TOKEN or ML_SERVICE_TOKEN_FILE, not both"
    ):
        Settings.from_env(
            {"ML_SERVICE_TOKEN": "from-env", "ML_SERVICE_TOKEN_FILE": str(token_file)}
        )


@pytest.mark.parametrize(("content", "message"), [(None, "cannot read"), ("\n", "is empty")])
def test_an_unusable_secret_file_fails_fast(tmp_path, content, message):
    secret = tmp_path / "secret"
    if content is not None:
        secret.write_text(content)
    with pytest.raises(ConfigError, match=f"ML_DATABASE_PASSWORD_FILE: .*{message}"):
        Settings.from_env({"ML_DATABASE_PASSWORD_FILE": str(secret)})


def test_secrets_stay_out_of_the_repr():
    settings = Settings(
        database_url="postgres://u:db-secret@h/d",
        ml_service_token="token-secret",
        ml_database_password="role-secret",
        model_signing_key="key-secret",
        sentry_dsn="http://dsn-secret@sentry/1",
        celery_broker_url="redis://:broker-secret@redis:6379/0",
    )
    assert "secret" not in repr(settings)
    assert "secret" not in str(settings)


STRONG = "Hk4nW8qZ2xLp6Rt0Vb3Mc7Jf5Sd9Ga1E"
PRODUCTION_ENV = {
    "ENVIRONMENT": "production",
    "ML_SERVICE_TOKEN": STRONG,
    "MODEL_SIGNING_KEY": STRONG[::-1],
    "DATABASE_URL": f"postgres://textclf_ml:{STRONG}@db:5432/textclf",
    "CELERY_BROKER_URL": f"redis://:{STRONG}@redis:6379/0",
    "CACHE_URL": f"redis://:{STRONG}@redis:6379/1",
}


def test_production_starts_with_strong_secrets():
    assert Settings.from_env(PRODUCTION_ENV).environment == "production"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ML_SERVICE_TOKEN", "dev-ml-service-token", "ML_SERVICE_TOKEN is a development value"),
        ("ML_SERVICE_TOKEN", "x" * 31, "ML_SERVICE_TOKEN must be at least 32 characters"),
        ("MODEL_SIGNING_KEY", "dev-model-signing-key", "MODEL_SIGNING_KEY is a development value"),
        ("MODEL_SIGNING_KEY", "short-key", "MODEL_SIGNING_KEY must be at least 32 characters"),
        (
            "DATABASE_URL",
            "postgres://textclf_ml:textclf_ml@db:5432/textclf",
            "DATABASE_URL's password is a development value",
        ),
        (
            "CELERY_BROKER_URL",
            "redis://redis:6379/0",
            "CELERY_BROKER_URL's password environment variable is required in production",
        ),
        (
            "CACHE_URL",
            "redis://redis:6379/1",
            "CACHE_URL's password environment variable is required in production",
        ),
    ],
)
def test_production_refuses_weak_secrets_naming_them(name, value, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({**PRODUCTION_ENV, name: value})


def test_production_refuses_the_development_defaults_all_at_once():
    with pytest.raises(ConfigError) as exc:
        Settings.from_env({"ENVIRONMENT": "production"})

    names = (
        "ML_SERVICE_TOKEN",
        "MODEL_SIGNING_KEY",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "CACHE_URL",
    )
    for name in names:
        assert name in str(exc.value)


def test_development_keeps_the_compose_defaults():
    settings = Settings.from_env({"ENVIRONMENT": "development"})
    assert settings.model_signing_key.get_secret_value() == "dev-model-signing-key"


def test_an_unknown_environment_is_refused():
    with pytest.raises(ConfigError, match="ENVIRONMENT: Input should be 'development' or"):
        Settings.from_env({"ENVIRONMENT": "prod"})


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("YES", True), ("off", False), ("False", False)]
)
def test_predict_refuse_unknown_reads_the_usual_spellings(value, expected):
    assert Settings.from_env({"PREDICT_REFUSE_UNKNOWN": value}).predict_refuse_unknown is expected


def test_train_verified_only_is_off_unless_set():
    assert Settings.from_env({}).train_verified_only is False
    assert Settings.from_env({"TRAIN_VERIFIED_ONLY": "true"}).train_verified_only is True
    with pytest.raises(ConfigError, match="TRAIN_VERIFIED_ONLY: Input should be a valid boolean"):
        Settings.from_env({"TRAIN_VERIFIED_ONLY": "sometimes"})
