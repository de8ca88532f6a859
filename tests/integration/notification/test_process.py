"""`python -m services.notification` as the stack runs it: refuses to start without its
database URL, migrates its own database as the `notification` role, serves, and leaves
cleanly on SIGTERM."""

from __future__ import annotations

from mesh import dbbootstrap, migrations
from mesh.settings import Settings
from services.notification.bootstrap import MIGRATIONS
from tests.integration.notification.process import ServiceProcess, missing_database_url


def test_missing_database_url_stops_the_start_naming_it(settings: Settings) -> None:
    assert missing_database_url("services.notification", settings)


def test_migrations_apply_as_the_notification_role(settings: Settings) -> None:
    dbbootstrap.run(settings)
    dsn = dbbootstrap.service_dsn("notification", settings)
    migrations.apply(dsn, MIGRATIONS)
    assert migrations.apply(dsn, MIGRATIONS) == []  # idempotent: a second instance starting changes nothing


def test_process_serves_registers_and_stops_on_sigterm(settings: Settings) -> None:
    dbbootstrap.run(settings)
    with ServiceProcess("services.notification", "notification", settings) as process:
        process.wait_registered()
    assert process.exit_code == 0
