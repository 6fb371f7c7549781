"""API keys: created per org unit by an administrator of that unit, shown once, revocable.

A key acts as a sender of its unit with the view and send permissions only (``key_actor``), so
the HTTP API runs the very checks a person's Send SMS runs.  "Last used" is written at most once
a minute per key: a busy system must not turn every request into a write of the same row.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from sms_core.config import check_http_url
from sms_core.domain.api_keys import digest, key_prefix, matches, new_callback_secret, new_key
from sms_core.domain.errors import ConfigurationError, InvalidInput, NotFound
from sms_core.domain.permissions import Actor, Permission
from sms_core.storage.api_models import ApiKey
from sms_core.storage.database import Database
from sms_core.storage.models import OrgUnit, get_by_id, utcnow

KEY_PERMISSIONS = frozenset({Permission.VIEW_SMS, Permission.SEND_SMS})
LAST_USED_EVERY = timedelta(minutes=1)
REFUSED = "Send a valid, unrevoked API key as `Authorization: Bearer <key>`."
VERIFIED_KEYS = 1000  # keys remembered per process; the least recently used is forgotten first
_verified: OrderedDict[str, Actor] = OrderedDict()  # SHA-256 of the presented key -> its sender
_verified_lock = threading.Lock()


@dataclass(frozen=True)
class ApiKeyView:
    id: int
    name: str
    org_unit_id: int
    org_unit_name: str
    prefix: str
    callback_url: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class NewApiKey:
    """What creating a key hands back, the only time the secrets are ever shown."""

    key: ApiKeyView
    secret: str  # the whole key, for Authorization: Bearer …
    callback_secret: str  # signs the status callbacks


def create_api_key(
    db: Database, actor: Actor, *, org_unit_id: int, name: str, callback_url: str | None = None
) -> NewApiKey:
    actor.require(Permission.MANAGE_USERS, org_unit_id)
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Give the key a name that says which system uses it (for example: Booking system).", "name")
    if len(name) > 200:
        raise InvalidInput("The name can have at most 200 characters.", field="name")
    url = _callback_url(callback_url)
    prefix, secret, digest = new_key()
    callback_secret = new_callback_secret()
    with db.session() as session:
        if session.get(OrgUnit, org_unit_id) is None:
            raise NotFound("That org. unit does not exist.")
        key = ApiKey(
            name=name,
            org_unit_id=org_unit_id,
            prefix=prefix,
            secret_hash=digest,
            callback_url=url,
            callback_secret=callback_secret,
            created_at=utcnow(),
            created_by_user_id=actor.user_id,
        )
        session.add(key)
        session.flush()
        return NewApiKey(_view(session, key), secret, callback_secret)


def list_api_keys(db: Database, actor: Actor) -> list[ApiKeyView]:
    """The keys of the administrator's own units, newest first."""
    actor.require(Permission.MANAGE_USERS)
    with db.session() as session:
        keys = session.scalars(
            select(ApiKey).where(ApiKey.org_unit_id.in_(sorted(actor.org_unit_ids))).order_by(ApiKey.id.desc())
        )
        return [_view(session, key) for key in keys]


def revoke_api_key(db: Database, actor: Actor, key_id: int) -> ApiKeyView:
    """From the next request on the key is refused (401); its messages and their history stay."""
    actor.require(Permission.MANAGE_USERS)
    with db.session() as session:
        key = get_by_id(session, ApiKey, key_id)
        if key is None or key.org_unit_id not in actor.org_unit_ids:
            raise NotFound(f"There is no API key with id {key_id} that you can see.")
        if key.revoked_at is None:
            key.revoked_at, key.revoked_by_user_id = utcnow(), actor.user_id
        view = _view(session, key)
    forget_key(key_id)
    return view


def key_actor(db: Database, presented: str) -> Actor | None:
    """The sender a presented key stands for; None for a missing, malformed, wrong or revoked key
    (the caller answers all of them alike)."""
    prefix = key_prefix(presented)
    if prefix is None:
        return None
    with db.session() as session:
        key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        if key is None or key.revoked_at is not None or not matches(presented, key.secret_hash):
            with _verified_lock:
                _verified.pop(digest(presented), None)
            return None
        now = utcnow()
        if key.last_used_at is None or now - key.last_used_at >= LAST_USED_EVERY:
            session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
        actor = Actor(
            id=0,
            username=f"api-key:{key.id}",
            display_name=f"API key {key.name}",
            role="api_key",
            permissions=KEY_PERMISSIONS,
            org_unit_ids=frozenset({key.org_unit_id}),
            current_org_unit_id=key.org_unit_id,
            api_key_id=key.id,
        )
    with _verified_lock:
        _verified[digest(presented)] = actor
        _verified.move_to_end(digest(presented))
        while len(_verified) > VERIFIED_KEYS:
            _verified.popitem(last=False)
    return actor


def verified_key_actor(presented: str) -> Actor | None:
    """The sender of a key ``key_actor`` accepted before in this process, without a query; None
    when it is not remembered (then ask ``key_actor``).  Only for sends: the batch that records a
    send refuses a key revoked meanwhile (``sending_keys``), so revocation still stops the next send."""
    if key_prefix(presented) is None:
        return None
    found = digest(presented)
    with _verified_lock:
        actor = _verified.get(found)
        if actor is not None:
            _verified.move_to_end(found)
    return actor


def forget_key(key_id: int) -> None:
    """From now on the key is checked against the database again (and refused there)."""
    with _verified_lock:
        for found in [found for found, actor in _verified.items() if actor.api_key_id == key_id]:
            del _verified[found]


def sending_keys(session: Session, key_ids: Iterable[int | None]) -> tuple[list[ApiKey], set[int]]:
    """The keys a batch of sends names (for the caller to hold), and those of them revoked or gone.

    Read in the recording transaction after its first write (SQLite: the write lock, so no
    revocation commits before the batch does) and FOR SHARE (PostgreSQL: a revocation waits for
    the batch, or the batch for it), so a key revoked before the batch commits records nothing.
    That write is "last used", at most once a minute per key; it comes before the shared lock,
    so two processes' batches never each hold the lock the other's update waits for."""
    wanted = {key_id for key_id in key_ids if key_id is not None}
    if not wanted:
        return [], set()
    now = utcnow()
    session.execute(
        update(ApiKey)
        .where(
            ApiKey.id.in_(wanted),
            ApiKey.revoked_at.is_(None),
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= now - LAST_USED_EVERY),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    keys = session.scalars(
        select(ApiKey).where(ApiKey.id.in_(wanted)).with_for_update(read=True).execution_options(populate_existing=True)
    ).all()
    refused = wanted - {key.id for key in keys if key.revoked_at is None}
    for key_id in refused:
        forget_key(key_id)
    return list(keys), refused


def _callback_url(url: str | None) -> str | None:
    url = (url or "").strip()
    if not url:
        return None
    if len(url) > 500:
        raise InvalidInput("The callback URL can have at most 500 characters.", field="callback_url")
    try:
        return check_http_url("callback URL", url)
    except ConfigurationError as exc:
        sentence = exc.message.replace("Environment variable callback URL", "The callback URL")
        raise InvalidInput(sentence, field="callback_url") from None


def _view(session, key: ApiKey) -> ApiKeyView:
    return ApiKeyView(
        key.id,
        key.name,
        key.org_unit_id,
        session.get(OrgUnit, key.org_unit_id).name,
        key.prefix,
        key.callback_url,
        key.created_at,
        key.last_used_at,
        key.revoked_at,
    )
