"""Demo contacts: names, numbers (some fixed lines that cannot take SMS) and consents as an
organisation's records have them — most registered, some withdrawn, some never given."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sms_core.demo.sample_data import FIRST, LAST
from sms_core.domain.phones import InvalidPhoneNumber, parse_phone
from sms_core.storage.models import Contact, ContactPhone, SmsConsent, User


def seed_contacts(session, rng: random.Random, users: list[User], count: int = 200) -> None:
    used: set[str] = set()
    for i in range(count):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        contact = Contact(name=name, email=f"{name.lower().replace(' ', '.')}{i}@example.com")
        session.add(contact)
        for label in rng.sample(["Mobile", "Work", "Home"], k=rng.choice([1, 1, 1, 2, 2, 3])):
            fixed_line = label == "Home" and rng.random() < 0.5  # some home numbers cannot take SMS
            number = random_number(rng, used, mobile=not fixed_line)
            contact.phones.append(ContactPhone(number=number, label=label))
        session.flush()
        for phone in contact.phones:
            roll = rng.random()
            if roll < 0.78:
                session.add(
                    SmsConsent(
                        contact_id=contact.id,
                        phone_id=phone.id,
                        source="Signed form",
                        registered_at=datetime.now(UTC) - timedelta(days=rng.randrange(100, 900)),
                        registered_by_user_id=rng.choice(users).id,
                    )
                )
            elif roll < 0.86:
                registered = datetime.now(UTC) - timedelta(days=rng.randrange(100, 900))
                session.add(
                    SmsConsent(
                        contact_id=contact.id,
                        phone_id=phone.id,
                        source="Patient portal",
                        registered_at=registered,
                        withdrawn_at=registered + timedelta(days=rng.randrange(1, 90)),
                    )
                )


def random_number(rng: random.Random, used: set[str], mobile: bool = True) -> str:
    """A valid Norwegian number not used yet: a mobile, or a fixed line (Oslo, 22/23)."""
    while True:
        candidate = (
            f"+47{rng.choice('49') if mobile else rng.choice(['22', '23'])}{rng.randrange(10**6, 10**7 - 1):07d}"[:11]
        )
        if candidate in used:
            continue
        try:
            phone = parse_phone(candidate, "NO")
        except InvalidPhoneNumber:
            continue
        if phone.can_receive_sms == mobile:
            used.add(candidate)
            return candidate
