from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.services import admin_ensure


class Command(BaseCommand):
    help = (
        "Create the superuser named by ADMIN_USERNAME (password ADMIN_PASSWORD, email "
        "ADMIN_EMAIL), unless that user already exists. Safe to run on "
        "every start. In production ADMIN_PASSWORD must pass AUTH_PASSWORD_VALIDATORS, and an "
        "existing admin whose password differs gets ADMIN_PASSWORD: a stored hash cannot be "
        "validated, so the one password known to pass is the one kept in force."
    )

    def handle(self, *args, **options) -> None:
        username, password = settings.ADMIN_USERNAME, settings.ADMIN_PASSWORD
        if settings.ENFORCE_STRONG_SECRETS:
            self._validate(username=username, password=password)
        user, created = admin_ensure(
            username=username, password=password, email=settings.ADMIN_EMAIL
        )
        if created:
            self.stdout.write(self.style.SUCCESS(f"Created superuser {user.get_username()!r}."))
        elif settings.ENFORCE_STRONG_SECRETS and not user.check_password(password):
            # An earlier deployment (e.g. a development start with admin/admin) or a change in
            # the admin site left a password this start cannot vouch for.
            user.set_password(password)
            user.save(update_fields=["password"])
            self.stdout.write(
                self.style.WARNING(
                    f"Superuser {user.get_username()!r} already exists; its password differed "
                    "from ADMIN_PASSWORD and was reset to it."
                )
            )
        else:
            self.stdout.write(f"Superuser {user.get_username()!r} already exists; unchanged.")

    def _validate(self, *, username: str, password: str) -> None:
        # Judged against the admin as it will be, so UserAttributeSimilarityValidator applies.
        candidate = get_user_model()(username=username, email=settings.ADMIN_EMAIL)
        try:
            validate_password(password, user=candidate)
        except ValidationError as exc:
            raise CommandError(
                f"ADMIN_PASSWORD fails the password validators: {' '.join(exc.messages)}"
            ) from None
