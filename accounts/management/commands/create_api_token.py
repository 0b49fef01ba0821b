from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.tokens import api_token_create


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it (the only time it can be read)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--days", type=int, default=None, help="Lifetime in days (default: REST_KNOX TTL)."
        )

    def handle(self, *args, username: str, days: int | None, **options) -> None:
        try:
            user = User.objects.get(username=username, is_active=True)
        except User.DoesNotExist as exc:
            raise CommandError(f"No active user {username!r}.") from exc
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1.")
        _row, token = api_token_create(user, days=days)
        self.stdout.write(token)
