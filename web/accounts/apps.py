from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "API accounts and tokens"

    def ready(self) -> None:
        from accounts import signals  # noqa: F401 - connects the revocation receivers
