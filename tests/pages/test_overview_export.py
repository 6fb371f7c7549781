"""The overview's Export CSV as the page hands it out: no cell a spreadsheet would evaluate as a
formula, whatever was stored, while phone numbers read as the table shows them."""

from test_overview_page import add_message, overview

from sms_core.domain.phones import format_international
from sms_core.domain.statuses import SmsStatus as S
from sms_core.read_models.spreadsheet import phone_cell, spreadsheet_safe
from sms_core.storage.models import OrgUnit, SmsMessage
from sms_core.use_cases.accounts import unit_id_by_code

FORMULAS = [  # as the tester planted them, and every start OWASP names
    '=HYPERLINK("https://evil.example","Click me")',
    "+1+2",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
]
UNIT_NAME = "=cmd|' /C calc'!A0"


def test_the_export_holds_no_formula_but_readable_phone_numbers(app_env, exported_csv):
    with app_env.session() as s:
        s.get(OrgUnit, unit_id_by_code(app_env, "OSL")).name = UNIT_NAME
    for text in FORMULAS:
        add_message(app_env, text, S.RECEIVED)
    with app_env.session() as s:
        s.get(SmsMessage, add_message(app_env, "No number", S.PHONE_NOT_ENTERED)).phone = None

    rows = exported_csv(overview())
    header, body = rows[0], rows[1:]
    cells = [dict(zip(header, row, strict=True)) for row in body]
    assert {"'" + t for t in FORMULAS} <= {c["Text"] for c in cells}  # neutralised, still readable
    assert {c["Org. unit"] for c in cells} == {"'" + UNIT_NAME}
    assert format_international("+4791234567") in {c["Phone"] for c in cells} and "" in {c["Phone"] for c in cells}
    for cell in cells:  # every cell of every row
        for column, value in cell.items():
            if column == "Phone" and value:
                assert all(ch.isdigit() or ch == " " for ch in value[1:]) and value[0] == "+", value
            else:
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (column, value)
    assert len(cells) > 50  # the demo's messages of the unit too, not only those planted


def test_spreadsheet_cells_table():
    cases = [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Hei =1", "Hei =1"),
        ("", ""),
        ("'quoted", "'quoted"),
    ]
    for cell, safe in cases:
        assert spreadsheet_safe(cell) == safe, cell
    phones = [
        ("+47 912 34 567", "+47 912 34 567"),
        ("+1 650-253-0000", "+1 650-253-0000"),
        ("", ""),
        ("+47=1", "'+47=1"),  # not a number as the overview shows one: treated as text
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+", "'+"),
    ]
    for shown, cell in phones:
        assert phone_cell(shown) == cell, shown
