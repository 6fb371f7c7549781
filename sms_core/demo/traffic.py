"""Demo traffic: in the embedded demo, the organisation's systems "send" an SMS every few
seconds, so a newcomer sees new rows appear and statuses move without doing anything.

Off unless SMS_DEMO_TRAFFIC (seconds between messages) is set; ``make run`` sets it.
"""

from __future__ import annotations

import logging
import random
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from sms_core.config import DEFAULTS, Config
from sms_core.demo.sample_data import FIRST, TEMPLATES
from sms_core.domain.errors import SmsError
from sms_core.gateways.base import Gateway
from sms_core.storage.database import Database
from sms_core.storage.models import ContactPhone, OrgUnit, SmsConsent, User
from sms_core.use_cases.accounts import load_actor
from sms_core.use_cases.sending import send_sms

log = logging.getLogger(__name__)


def send_one(db: Database, gateway: Gateway, rng: random.Random, config: Config = DEFAULTS) -> None:
    """One message as the organisation's systems would send it: mostly to numbers with consent."""
    with db.session() as session:
        usernames = list(session.scalars(select(User.username).where(User.active.is_(True))))
        phones = select(ContactPhone)
        if rng.random() < 0.95:
            consented = select(SmsConsent.phone_id).where(SmsConsent.withdrawn_at.is_(None))
            phones = phones.where(ContactPhone.id.in_(consented))
        phone = session.scalars(phones.order_by(ContactPhone.id).offset(rng.randrange(40)).limit(1)).first()
    if not usernames or phone is None:
        return
    actor = load_actor(db, rng.choice(usernames))
    if not actor.org_unit_ids:
        return
    unit = rng.choice(sorted(actor.org_unit_ids))
    with db.session() as session:
        unit_name = session.get(OrgUnit, unit).name
    when = datetime.now(UTC) + timedelta(days=rng.randrange(1, 8))
    text = rng.choice(TEMPLATES).format(
        first=rng.choice(FIRST),
        unit=unit_name,
        date=f"{when:%d.%m}",
        time=f"{rng.randrange(8, 16):02d}:{rng.choice(['00', '15', '30', '45'])}",
    )
    send_sms(
        db,
        actor,
        text=text,
        contact_id=phone.contact_id,
        phone=phone.number,
        org_unit_id=unit,
        gateway=gateway,
        config=config,
    )


def start_demo_traffic(db: Database, gateway: Gateway, every_seconds: float, config: Config = DEFAULTS):
    """Start the traffic thread; returns a function that stops it."""
    stop = threading.Event()
    rng = random.Random()

    def run() -> None:
        while not stop.wait(every_seconds * (0.5 + rng.random())):
            try:
                send_one(db, gateway, rng, config)
            except SmsError as exc:
                log.info("demo traffic skipped a message: %s", exc.message)

    thread = threading.Thread(target=run, name="sms-demo-traffic", daemon=True)
    thread.start()
    return lambda: (stop.set(), thread.join(timeout=5))
