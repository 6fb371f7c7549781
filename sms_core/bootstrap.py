"""One process, one runtime: the objects every entry point shares, built once from the config.

The CLI, the stand-alone worker and the app server call ``bootstrap``; the pages reach the app
server's runtime through one ``st.cache_resource`` (``sms_core.app_server.app_runtime``).  Services
take what they need from it as arguments, as in cosmicpython's ``bootstrap.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sms_core.config import Config
from sms_core.delivery.http import report_url
from sms_core.delivery.incoming import ReplyBatcher
from sms_core.delivery.reports import ReportBatcher
from sms_core.gateways import Gateway, build_gateway
from sms_core.storage.change_feed import ChangeWatcher
from sms_core.storage.database import Database
from sms_core.use_cases.export_tickets import ExportTickets


@dataclass
class Runtime:
    config: Config
    db: Database
    gateway: Gateway
    reports: ReportBatcher  # every delivery report goes through it, over HTTP or in-process
    changes: ChangeWatcher  # one LISTEN connection (PostgreSQL) for every open page
    replies: ReplyBatcher  # every incoming SMS goes through it, over HTTP or in-process
    exports: ExportTickets = field(default_factory=ExportTickets)  # the overview's open download links

    def close(self) -> None:
        self.changes.close()
        self.replies.close()
        self.reports.close()
        self.db.dispose()


def bootstrap(
    config: Config, *, app_address: str | None = None, app_port: int | None = None, worker: bool = False
) -> Runtime:
    """The runtime for ``config``, its gateway told where delivery reports are served: by this app
    (``app_address``/``app_port``) or, for ``worker``, by this stand-alone worker."""
    db = Database(config.database_url)
    reports = ReportBatcher(db, config.report_deadline)
    replies = ReplyBatcher(db, config.gateway, config)
    try:
        gateway = build_gateway(
            config, report_url(config, app_address, app_port, worker), reports.sink, replies.receive
        )
    except BaseException:
        replies.close()
        reports.close()
        db.dispose()
        raise
    return Runtime(config, db, gateway, reports, ChangeWatcher(db), replies)
