"""``python manage.py oktasim``: run the Okta org simulator in the foreground.

Only parses options and starts :class:`grantsconsole.oktasim.server.SimServer`;
no Django code runs in the simulator's request path.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    """``manage.py oktasim``: options as in the module docstring."""

    help = "Run the Okta org simulator (the demo org by default) as an HTTP server."

    def add_arguments(self, parser: CommandParser) -> None:
        """--host, --port, --seed, --apps, --rate-limit, --activity, --activity-days."""
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument(
            "--port", type=int, default=8001, help="Port (0 = any free)."
        )
        parser.add_argument(
            "--seed", default="demo", help="'demo' or a JSON seed file."
        )
        parser.add_argument(
            "--apps",
            type=int,
            default=None,
            help="Build a large org with this many generated apps.",
        )
        parser.add_argument(
            "--rate-limit",
            type=int,
            default=None,
            dest="rate_limit",
            help="Requests per minute for the /api/v1/apps* bucket "
            "(default 100, as in a Workforce org).",
        )
        parser.add_argument(
            "--activity",
            type=float,
            default=None,
            metavar="RATE",
            help="Run the activity generator: RATE token requests per app and day "
            "by the seed's activity profile (with their writes), back-filled "
            "over --activity-days and then live as time passes.",
        )
        parser.add_argument(
            "--activity-days",
            type=float,
            default=90,
            dest="activity_days",
            help="Days of activity history to back-fill with --activity (default 90).",
        )

    def handle(self, *args: object, **opts: object) -> None:
        """Build the org, print how to reach it, serve until Ctrl-C."""
        from grantsconsole.oktasim import seed as demo
        from grantsconsole.oktasim.server import SimServer

        started = time.monotonic()
        server = SimServer(
            host=str(opts["host"]),
            port=int(opts["port"]),  # type: ignore[arg-type]
            seed=str(opts["seed"]),
            apps=opts["apps"],  # type: ignore[arg-type]
            rate_limit=opts["rate_limit"],
        )  # type: ignore[arg-type]
        org = server.sim.org
        out = self.stdout
        out.write(
            f"Okta org simulator listening on {server.url}  "
            f"({len(org.apps)} apps, {len(org.users)} users, built in "
            f"{time.monotonic() - started:.1f} s)"
        )
        out.write(f"  issuer (org URL):   {server.url}")
        out.write(
            f"  discovery:          {server.url}/.well-known/openid-configuration"
        )
        out.write(f"  control surface:    {server.url}/__sim__/state")
        if opts["activity"]:
            from grantsconsole.oktasim import activity

            rate, days = float(opts["activity"]), float(opts["activity_days"])  # type: ignore[arg-type]
            try:
                written = activity.begin(org, server.sim.oauth, per_day=rate, days=days)
            except ValueError as e:
                raise CommandError(str(e)) from None
            out.write(
                f"  activity:           {rate:g} token requests per app and day, "
                f"{written} events back-filled over {days:g} days, live from now "
                f"({server.url}/__sim__/activity)"
            )
        if opts["seed"] == "demo":
            out.write("  demo users (password for all: " + demo.DEMO_PASSWORD + "):")
            for login, _first, _last, roles, _token in demo.DEMO_USERS:
                out.write(f"    {login:<30} {', '.join(roles) or '(no admin role)'}")
            out.write(f"  SSWS API token (super.admin): {demo.DEMO_SSWS_TOKEN}")
            out.write(
                f"  console web app:    client_id {demo.CONSOLE_CLIENT_ID}  "
                f"client_secret {demo.CONSOLE_CLIENT_SECRET}"
            )
            out.write(
                f"  worker service app: client_id {demo.WORKER_CLIENT_ID}  "
                f"private_key_jwt, key {demo.WORKER_KEY_FILE}"
            )
        out.write("Press Ctrl-C to stop.")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
