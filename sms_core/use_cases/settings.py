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
from sms_core.domain.setting_definitions import (
    BY_KEY,
    DEFINITIONS,
    ORGANISATION_TIME_ZONE,
    REQUIRE_CONSENT_FOR_UNKNOWN,
    SENDING_ENABLED,
    SettingDefinition,
)
from sms_core.domain.statuses import PENDING
from sms_core.gateways.base import Gateway
from sms_core.storage import rollups
from sms_core.storage.database import Database
from sms_core.storage.models import Setting, SettingChange, SmsMessage, StatusEvent, User, utcnow


@dataclass(frozen=True)
class SmsSettings:
    """Every setting's typed value, read in one query; a setting never written has its default."""

    values: dict[str, object]

    def __getitem__(self, key: str) -> object:
        return self.values[key]

    @property
    def sending_enabled(self) -> bool:
        return bool(self.values[SENDING_ENABLED])

    @property
    def require_consent_for_unknown_numbers(self) -> bool:
        return bool(self.values[REQUIRE_CONSENT_FOR_UNKNOWN])

    @property
    def organisation_time_zone(self) -> str:
        return str(self.values[ORGANISATION_TIME_ZONE])


@dataclass(frozen=True)
class SettingState:
    key: str
    value: object
    updated_at: datetime | None
    updated_by_user_id: int | None
    updated_by: str | None = None  # the user's display name

    @property
    def definition(self) -> SettingDefinition:
        return BY_KEY[self.key]

    @property
    def label(self) -> str:
        return self.definition.label

    @property
    def help(self) -> str:
        return self.definition.help


_HELD = "sms_settings_held"


def hold_settings(session: Session) -> None:
    """Read the settings once for the rest of this session: a batch of sends would read them
    twice a send (the unit's readiness, the consent rule)."""
    session.info.pop(_HELD, None)
    session.info[_HELD] = read_settings(session)


def read_settings(session: Session) -> SmsSettings:
    if held := session.info.get(_HELD):
        return held
    values = {d.key: d.default for d in DEFINITIONS}
    for row in session.scalars(select(Setting).where(Setting.key.in_(BY_KEY))):
        values[row.key] = BY_KEY[row.key].parse(row.value)
    return SmsSettings(values)


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
            .where(Setting.key.in_(BY_KEY))
        )
        rows = {setting.key: (setting, name) for setting, name in session.execute(stmt)}
    return [_state(d, *rows.get(d.key, (None, None))) for d in DEFINITIONS]


def _state(definition: SettingDefinition, row: Setting | None, changed_by: str | None) -> SettingState:
    if row is None:
        return SettingState(definition.key, definition.default, None, None)
    return SettingState(definition.key, definition.parse(row.value), row.updated_at, row.updated_by_user_id, changed_by)


def change_setting(db: Database, actor: Actor, key: str, value: object) -> object:
    """Validate and store one setting; last write wins, every write kept in setting_changes.

    Returns the value as stored (keywords upper-cased, numbers as numbers), for the page to show.
    """
    actor.require(Permission.MANAGE_SETTINGS)
    definition = BY_KEY.get(key)
    if definition is None:
        raise InvalidInput(f"There is no setting called {key!r}.")
    value = definition.validate(value)
    new = definition.serialise(value)
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
        if key == ORGANISATION_TIME_ZONE and definition.parse(old or "") != value:
            # The roll-ups count local days: counted again with the setting, or not at all.
            rollups.rebuild(session.connection(), str(value))
    return value


@dataclass(frozen=True)
class SettingChangeRow:
    key: str
    old_value: object | None  # typed as the setting is; None: first write
    new_value: object
    changed_at: datetime
    changed_by: str | None

    @property
    def label(self) -> str:
        return BY_KEY[self.key].label if self.key in BY_KEY else self.key

    def describe(self, value: object | None) -> str:
        if value is None:
            return "–"
        return BY_KEY[self.key].describe(value) if self.key in BY_KEY else str(value)


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
            SettingChangeRow(c.key, _typed(c.key, c.old_value), _typed(c.key, c.new_value), c.changed_at, name)
            for c, name in session.execute(stmt)
        ]


def _typed(key: str, stored: str | None) -> object | None:
    if stored is None:
        return None
    return BY_KEY[key].parse(stored) if key in BY_KEY else stored


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
