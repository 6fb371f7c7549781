"""What anyone may type: hypothesis strategies of texts and phone numbers, for the bad-input tests
of the domain rules (tests/unit) and of the send service (tests/storage)."""

from hypothesis import HealthCheck
from hypothesis import strategies as st

NASTY_TEXTS = st.one_of(
    st.text(max_size=1100),
    st.sampled_from(
        [
            "",
            " ",
            "\n\t ",
            "x" * 1000,
            "x" * 1001,
            "\u202eevil\u202c",
            "\u200f\u200e",
            "\x00\x01\x07",
            "<script>alert(1)</script>",
            "'; DROP TABLE sms_messages; --",
            "%_\\",
            "😊" * 500,
            "ᚠᛇᚻ",
            "\r\n",
        ]
    ),
)
NASTY_PHONES = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"\+?[0-9 ()\-]{0,25}", fullmatch=True),
    st.sampled_from(["+47 415 55 123", "0047 41555123", "+", "00", "+4", "1" * 40, "+47 22 12 34 56", "٤١٥٥٥١٢٣"]),
)
ONE_LOG = [HealthCheck.function_scoped_fixture]  # every example adds to the one ``tally`` of its test
