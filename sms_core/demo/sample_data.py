"""The demo organisation: its org units, users, names, message texts and the mix of outcomes.

Plain data, shared by the demo seed and the demo traffic, so both speak of the same world.
"""

from __future__ import annotations

from sms_core.domain.statuses import SmsStatus as S

# code, name, representative, SMS sender (Tromsø's sender is too long: a broken configuration)
ORG_UNITS = [
    ("OSL", "Oslo Sentrum", "Ingrid Berg", "OsloHelse"),
    ("BGN", "Bergen Bryggen", "Lars Haugen", "BergenHlse"),
    ("TRD", "Trondheim Midtbyen", "Sofie Nilsen", "+4791500100"),
    ("SVG", "Stavanger Sentrum", "Ole Johansen", "StavangerHC"),
    ("TOS", "Tromsø Nord", "Mari Olsen", "Tromsø Helse Nord"),
]
# username, display name, role, units (first is the current one)
USERS = [
    ("admin", "Ada Administrator", "administrator", ["OSL", "BGN", "TRD", "SVG", "TOS"]),
    ("lead", "Liv Lead", "team_lead", ["OSL", "BGN", "TOS"]),
    ("staff", "Stian Staff", "staff", ["OSL", "BGN"]),
    ("kari", "Kari Nordmann", "staff", ["TRD"]),
]
FIRST = [
    "Anne",
    "Bjørn",
    "Cecilie",
    "Dag",
    "Eva",
    "Fredrik",
    "Guro",
    "Håkon",
    "Ida",
    "Jonas",
    "Kristin",
    "Lars",
    "Maja",
    "Nils",
    "Oda",
    "Per",
    "Randi",
    "Sindre",
    "Tone",
    "Ulrik",
    "Vilde",
    "Øystein",
    "Åse",
    "Emil",
]
LAST = [
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Jensen",
    "Karlsen",
    "Johnsen",
    "Pettersen",
    "Eriksen",
    "Berg",
    "Haugen",
    "Hagen",
    "Johannessen",
    "Andreassen",
    "Jacobsen",
    "Dahl",
    "Jørgensen",
    "Halvorsen",
    "Henriksen",
    "Lund",
    "Sørensen",
]
TEMPLATES = [
    "Hi {first}, this is a reminder of your appointment at {unit} on {date} at {time}. Reply STOP to opt out.",
    "Hei {first}! Timen din hos {unit} er {date} kl. {time}. Gi beskjed dersom du ikke kan møte.",
    "Your test results are ready. Log in to the patient portal to read them. Regards, {unit}",
    "{unit}: your prescription is ready for collection.",
    "Hi {first}, we could not reach you by phone. Please call us back on 22 00 00 00. Best regards, {unit}",
    "Påminnelse: husk å ta med legitimasjon til timen {date} kl. {time}. Hilsen {unit}",
    "Hi {first}, thank you for your visit to {unit} today. We would love to hear how it went: reply 1-5 😊",
    "Your appointment on {date} at {time} has been moved. Contact {unit} if the new time does not suit you. "
    "You can also change it yourself in the patient portal under My appointments.",
    "Hei {first}, vi minner om at faktura for konsultasjonen {date} forfaller om 7 dager. Betal i nettbanken "
    "med KID-nummeret på fakturaen. Har du spørsmål, ring oss i åpningstiden. Med vennlig hilsen {unit}",
]
STANDARD_TEXTS = [
    ("Appointment reminder", "Hi, this is a reminder of your appointment tomorrow. Reply STOP to opt out.", None, True),
    ("Call us back", "We tried to reach you by phone. Please call us back when you can.", None, True),
    ("Results ready", "Your results are ready. Log in to the patient portal to read them.", None, True),
    ("Bergen: parking", "Parking at Bryggen is limited – take the Bybanen to Byparken.", "BGN", True),
    ("Oslo: new address", "Oslo Sentrum has moved to Karl Johans gate 12, 2nd floor.", "OSL", True),
    ("Old opening hours", "We are open 8–15 on weekdays.", None, False),
]
GATEWAY_ERRORS = {
    S.REJECTED: ["Not routable", "Unknown subscriber", "Rejected by SMSC: blacklisted number"],
    S.SENDING_FAILED: [
        "Connection refused",
        "HTTP 503 Service Unavailable",
        "Not delivered to phone: absent subscriber",
    ],
}
# Outcome of a message handed to the gateway, with weights that look like a real month.
SENT_OUTCOMES = [(S.RECEIVED, 86), (S.ACCEPTED, 2), (S.REJECTED, 3), (S.SENDING_FAILED, 4), (S.STATUS_CHECK_TIMEOUT, 3)]
PRECHECK_OUTCOMES = [(S.CONSENT_NOT_REGISTERED, 55), (S.PHONE_NOT_ENTERED, 20), (S.SENDING_NOT_ALLOWED, 25)]
