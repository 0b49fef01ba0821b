"""`manage.py seed_demo`: a deterministic, realistic demo network (see demo.seed)."""

from __future__ import annotations

from datetime import date

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.seed import DEMO_PASSWORD, SIZES, DemoDataExists, DemoResult, demo_seed

# Beyond this many staff the login table lists the directors and a sample only.
LOGIN_TABLE_ROWS = 40
# The score recomputation lives in another app; it is called by name, if installed.
RECOMPUTE_COMMAND = "recompute_scores"
# With the network app, scores and the network as of now and 90 days of daily history
# derived from the records (networks.services.history_backfill): a first run is alive.
HISTORY_COMMAND = "backfill_history"


class Command(BaseCommand):
    help = (
        "Build a deterministic demo network: teams, staff (password 'rapport-demo'), "
        "organisations, stakeholders, two years of interactions, commitments, outcomes, "
        "goals and links. Refuses when stakeholders exist unless --flush is given, which "
        "first deletes the domain data and every non-superuser account."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", choices=list(SIZES), default="small")
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same data.")
        parser.add_argument(
            "--flush",
            action="store_true",
            help="Delete the domain data and all non-superuser accounts first.",
        )
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="Reference day (YYYY-MM-DD, UTC); history ends the day before. Default: today.",
        )
        parser.add_argument("--password", default=DEMO_PASSWORD)
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (and succeed) when stakeholders exist: for `make run`.",
        )
        parser.add_argument(
            "--recompute",
            action="store_true",
            help=f"Run `{HISTORY_COMMAND}` (or `{RECOMPUTE_COMMAND}`) afterwards, so that "
            "scores, the network and 90 days of trends show at once.",
        )

    def handle(self, *args, **options) -> None:
        verbose = options["verbosity"] >= 2
        try:
            result = demo_seed(
                size=options["size"],
                seed=options["seed"],
                today=options["today"],
                flush=options["flush"],
                password=options["password"],
                progress=(lambda line: self.stdout.write(f"  {line}")) if verbose else None,
            )
        except DemoDataExists as exc:
            if not options["if_empty"]:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                "Data is already loaded; the demo logins are unchanged "
                f"(e.g. dana, a director, and maria, a manager; password {DEMO_PASSWORD!r})."
            )
            # A database seeded before the network was part of the first run catches up.
            if options["recompute"] and HISTORY_COMMAND in get_commands():
                self._recompute(options, HISTORY_COMMAND, if_missing=True)
            return
        if options["verbosity"] > 0:
            self._report(result, options)
        commands = get_commands()
        if options["recompute"] and HISTORY_COMMAND in commands:
            self._recompute(options, HISTORY_COMMAND, today=options["today"])
        elif options["recompute"] and RECOMPUTE_COMMAND in commands:
            self._recompute(options, RECOMPUTE_COMMAND)
        elif options["verbosity"] > 0:
            self.stdout.write(
                f"\nScores are not computed yet: run `manage.py {RECOMPUTE_COMMAND}` next."
            )

    def _recompute(self, options: dict, command: str, **kwargs) -> None:
        call_command(
            command,
            verbosity=options["verbosity"],
            stdout=self.stdout,
            stderr=self.stderr,
            **kwargs,
        )

    def _report(self, result: DemoResult, options: dict) -> None:
        counts = ", ".join(f"{n:,} {name.replace('_', ' ')}" for name, n in result.counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo network ({options['size']}, seed {options['seed']}) built "
                f"in {result.seconds:.1f} s: {counts}."
            )
        )
        logins = result.logins
        shown = logins
        if len(logins) > LOGIN_TABLE_ROWS:
            directors = [login for login in logins if login.role == "director"]
            shown = (
                directors
                + [login for login in logins if login.role != "director"][
                    : max(LOGIN_TABLE_ROWS - len(directors), 10)
                ]
            )
        width = max(len("username"), *(len(login.username) for login in shown)) + 2
        name_width = max(len(login.name) for login in shown) + 2
        self.stdout.write(f"\nDemo logins (password: {result.password})")
        self.stdout.write(f"{'username':<{width}}{'name':<{name_width}}{'role':<10}teams")
        for login in shown:
            self.stdout.write(
                f"{login.username:<{width}}{login.name:<{name_width}}{login.role:<10}"
                f"{', '.join(login.teams)}"
            )
        if len(shown) < len(logins):
            self.stdout.write(
                f"… and {len(logins) - len(shown):,} more staff with the same password."
            )
        self.stdout.write("")
