"""Demo replies: some delivered messages of the seeded history were answered, so the Replies
page and the message detail have something to show at once.

Each reply answers the message it is made for (the seed knows it, unlike a gateway) and comes a
few minutes to hours after it.  None is a STOP: the seeded contacts' consents stay as the seed
made them (tests rely on them); STOPs come from the simulated gateway's live replies.
"""

from __future__ import annotations

import random
import secrets
from datetime import timedelta

from sqlalchemy import select

from sms_core.domain.statuses import SmsStatus
from sms_core.gateways.simulated import REPLIES
from sms_core.storage.database import Database
from sms_core.storage.models import SmsMessage, utcnow
from sms_core.storage.reply_models import IncomingSms

SHARE, MOST = 0.02, 300  # of the delivered messages answered; at most this many replies


def seed_replies(db: Database, rng: random.Random, messages: int) -> int:
    wanted = min(MOST, int(messages * SHARE))
    if wanted <= 0:
        return 0
    with db.session() as session:
        delivered = session.execute(
            select(SmsMessage.id, SmsMessage.phone, SmsMessage.org_unit_id, SmsMessage.contact_id, SmsMessage.sent_on)
            .where(SmsMessage.status == SmsStatus.RECEIVED, SmsMessage.phone.is_not(None))
            .order_by(SmsMessage.id.desc())
            .limit(wanted * 10)
        ).all()
        chosen = sorted(rng.sample(delivered, min(wanted, len(delivered))), key=lambda m: m.sent_on)
        now = utcnow()
        for message_id, phone, unit_id, contact_id, sent_on in chosen:
            at = min(sent_on + timedelta(minutes=rng.randrange(2, 600)), now)
            session.add(
                IncomingSms(
                    sender=phone,
                    text=rng.choice(REPLIES),
                    received_at=at,
                    org_unit_id=unit_id,
                    message_id=message_id,
                    contact_id=contact_id,
                    gateway="simulated",
                    dedupe_key=secrets.token_hex(32),
                )
            )
    return len(chosen)
