"""System-wide SMS settings: stored as rows, every change kept in an audit trail.

Also what the settings page shows beside them: who changed what and when, and the gateway's health
(whether it answers, when the last delivery report came, how many messages still wait).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from sms_core.domain.errors import InvalidInput, SmsError
from sms_core.domain.permissions import Actor, Permission
from sms_core.domain.statuses import PENDING
from sms_core.gateways.base import Gateway
from sms_core.storage.database import Database
from sms_core.storage.models import Setting, SettingChange, SmsMessage, StatusEvent, User, utcnow

SENDING_ENABLED = "sms_sending_enabled"
REQUIRE_CONSENT_FOR_UNKNOWN = "require_consent_for_unknown_numbers"
_DEFAULTS = {SENDING_ENABLED: True, REQUIRE_CONSENT_FOR_UNKNOWN: False}
# (label, what it does) as the settings page shows them.
LABELS = {
    SENDING_ENABLED: (
        "SMS sending",
        "When off, no SMS goes to the gateway: new attempts are recorded as “Sending SMS is not allowed”.",
    ),
    REQUIRE_CONSENT_FOR_UNKNOWN: (
        "Require consent for unknown numbers",
        "When on, a typed number that belongs to no contact is refused as “Consent is not registered”.",
    ),
}


@dataclass(frozen=True)
class SmsSettings:
    sending_enabled: bool
    require_consent_for_unknown_numbers: bool


@dataclass(frozen=True)
class SettingState:
    key: str
    value: bool
    updated_at: datetime | None
    updated_by_user_id: int | None
    updated_by: str | None = None  # the user's display name

    @property
    def label(self) -> str:
        return LABELS[self.key][0]

    @property
    def help(self) -> str:
        return LABELS[self.key][1]


def read_settings(session: Session) -> SmsSettings:
    values = dict(_DEFAULTS)
    for row in session.scalars(select(Setting).where(Setting.key.in_(_DEFAULTS))):
        values[row.key] = row.value == "true"
    return SmsSettings(
        sending_enabled=values[SENDING_ENABLED],
        require_consent_for_unknown_numbers=values[REQUIRE_CONSENT_FOR_UNKNOWN],
    )


def get_settings(db: Database) -> SmsSettings:
    with db.session() as session:
        return read_settings(session)


def setting_states(db: Database, actor: Actor) -> list[SettingState]:
    """Each setting with who last changed it and when (None: unchanged since installation)."""
    actor.require(Permission.MANAGE_SETTINGS)
    with db.session() as session:
        stmt = (
            select(Setting, User.display_name)
            .outerjoin(User, User.id == Setting.updated_by_user_id)
            .where(Setting.key.in_(_DEFAULTS))
        )
        rows = {setting.key: (setting, name) for setting, name in session.execute(stmt)}
    return [_state(key, default, *rows.get(key, (None, None))) for key, default in _DEFAULTS.items()]


def _state(key: str, default: bool, row: Setting | None, changed_by: str | None) -> SettingState:
    if row is None:
        return SettingState(key, default, None, None)
    return SettingState(key, row.value == "true", row.updated_at, row.updated_by_user_id, changed_by)


def change_setting(db: Database, actor: Actor, key: str, value: bool) -> None:
    """Last write wins; every write is kept in setting_changes with who and when."""
    actor.require(Permission.MANAGE_SETTINGS)
    if key not in _DEFAULTS:
        raise InvalidInput(f"There is no setting called {key!r}.")
    new = "true" if value else "false"
    with db.session() as session:
        # Write first: that takes the row lock (PostgreSQL) or the write lock (SQLite) before the
        # old value is read, so two tabs at once are put in one order and the trail shows it.
        session.execute(update(Setting).where(Setting.key == key).values(key=key))
        row = session.get(Setting, key, populate_existing=True)
        old = row.value if row else None
        now = utcnow()
        if row is None:
            session.add(Setting(key=key, value=new, updated_at=now, updated_by_user_id=actor.id))
        else:
            row.value, row.updated_at, row.updated_by_user_id = new, now, actor.id
        session.add(SettingChange(key=key, old_value=old, new_value=new, changed_at=now, changed_by_user_id=actor.id))


@dataclass(frozen=True)
class SettingChangeRow:
    key: str
    old_value: bool | None
    new_value: bool
    changed_at: datetime
    changed_by: str | None

    @property
    def label(self) -> str:
        return LABELS[self.key][0] if self.key in LABELS else self.key


def recent_setting_changes(db: Database, actor: Actor, limit: int = 20) -> list[SettingChangeRow]:
    """The newest entries of the audit trail, so an administrator can see who switched what."""
    actor.require(Permission.MANAGE_SETTINGS)
    stmt = (
        select(SettingChange, User.display_name)
        .outerjoin(User, User.id == SettingChange.changed_by_user_id)
        .order_by(SettingChange.id.desc())
        .limit(limit)
    )
    with db.session() as session:
        return [
            SettingChangeRow(
                c.key, None if c.old_value is None else c.old_value == "true", c.new_value == "true", c.changed_at, name
            )
            for c, name in session.execute(stmt)
        ]


@dataclass(frozen=True)
class GatewayStatus:
    name: str
    problem: str | None  # None: the gateway answers
    last_delivery_report_at: datetime | None
    waiting_for_final_status: int


def gateway_status(db: Database, actor: Actor, build: Callable[[], Gateway], configured: str = "") -> GatewayStatus:
    """The configured gateway's health, counted over the administrator's org units.

    ``build`` gives the gateway (the page: the runtime's); a gateway that cannot be built is
    reported as the problem of the ``configured`` one rather than breaking the page.
    """
    actor.require(Permission.MANAGE_SETTINGS)
    name, problem = _gateway_health(build, configured)
    units = actor.visible_units()
    with db.session() as session:
        last_report = session.scalar(
            select(func.max(StatusEvent.at))
            .join(SmsMessage, SmsMessage.id == StatusEvent.message_id)
            .where(StatusEvent.source == "delivery-report", SmsMessage.org_unit_id.in_(units))
        )
        waiting = session.scalar(
            select(func.count())
            .select_from(SmsMessage)
            .where(SmsMessage.org_unit_id.in_(units), SmsMessage.status.in_(PENDING))
        )
    return GatewayStatus(name, problem, last_report, waiting or 0)


def _gateway_health(build: Callable[[], Gateway], configured: str) -> tuple[str, str | None]:
    try:
        gateway = build()
        return gateway.name, gateway.problem()
    except SmsError as exc:
        return configured, exc.message
    except ImportError as exc:
        return configured, f"The {configured!r} gateway adapter is not installed ({exc})."
