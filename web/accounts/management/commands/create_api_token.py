from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.services import api_token_issue


class Command(BaseCommand):
    help = (
        "Print the API token of USERNAME, creating the user (token-only, no password) if "
        "missing. Only the token goes to stdout: TOKEN=$(python manage.py create_api_token bob)"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--staff", action="store_true", help="make the user staff (allowed to start training)"
        )

    def handle(self, *args, username: str, staff: bool, **options) -> None:
        try:
            token, created = api_token_issue(username=username, staff=staff)
        except ValidationError as exc:
            raise CommandError(f"Invalid username {username!r}: {' '.join(exc.messages)}") from exc
        if created:
            self.stderr.write(f"Created user {username!r}.")
        self.stdout.write(token.key)
