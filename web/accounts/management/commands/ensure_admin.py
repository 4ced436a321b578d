from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.services import admin_ensure


class Command(BaseCommand):
    help = (
        "Create the superuser named by ADMIN_USERNAME (password ADMIN_PASSWORD, email "
        "ADMIN_EMAIL), unless that user already exists. Safe to run on "
        "every start."
    )

    def handle(self, *args, **options) -> None:
        user, created = admin_ensure(
            username=settings.ADMIN_USERNAME,
            password=settings.ADMIN_PASSWORD,
            email=settings.ADMIN_EMAIL,
        )
        if created:
            self.stdout.write(self.style.SUCCESS(f"Created superuser {user.get_username()!r}."))
        else:
            self.stdout.write(f"Superuser {user.get_username()!r} already exists; unchanged.")
