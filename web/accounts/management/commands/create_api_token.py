from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.services import api_token_issue


def _positive_seconds(value: str) -> int:
    seconds = int(value)
    if seconds < 1:
        raise ValueError(value)
    return seconds


class Command(BaseCommand):
    help = (
        "Print a new API token of USERNAME, creating the user (token-only, no password) if "
        "missing. Only the key goes to stdout, and it is shown only this once: "
        "TOKEN=$(python manage.py create_api_token bob)"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--staff",
            action="store_true",
            help="make the user staff (allowed to start training and activate models)",
        )
        parser.add_argument("--name", default="cli", help="the token's name (default: cli)")
        parser.add_argument(
            "--expires-in",
            type=_positive_seconds,
            metavar="SECONDS",
            help="the token stops working after this many seconds (default: never)",
        )

    def handle(
        self, *args, username: str, staff: bool, name: str, expires_in: int | None, **options
    ) -> None:
        if not name.strip() or len(name) > 100:
            raise CommandError("--name must be 1 to 100 characters.")
        try:
            _, key, created = api_token_issue(
                username=username,
                staff=staff,
                name=name,
                expires_in=None if expires_in is None else timedelta(seconds=expires_in),
            )
        except ValidationError as exc:
            raise CommandError(f"Invalid username {username!r}: {' '.join(exc.messages)}") from exc
        if created:
            self.stderr.write(f"Created user {username!r}.")
        self.stdout.write(key)
