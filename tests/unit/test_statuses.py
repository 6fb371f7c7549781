"""Status labels, sets and the transition rule (no database needed)."""

import itertools

from sms_core.domain.statuses import FINAL, RESENDABLE, STATUS_LABELS, SmsStatus, can_transition

S = SmsStatus


def test_eleven_labels_in_design_order():
    assert STATUS_LABELS == (
        "Unknown",
        "Accepted",
        "Rejected",
        "Received",
        "Consent is not registered",
        "Sending failed",
        "SMS phone number is not entered",
        "Timeout during status check",
        "Sending SMS is not allowed",
        "Invalid representative for unit",
        "Resent",
    )


def test_only_accepted_timeout_and_failed_can_be_resent():
    assert {S.ACCEPTED, S.STATUS_CHECK_TIMEOUT, S.SENDING_FAILED} == RESENDABLE
    assert [s.label for s in S if s.resendable] == ["Accepted", "Sending failed", "Timeout during status check"]


def test_every_status_has_an_explanation_and_a_next_step():
    for status in S:
        assert status.explanation.endswith(".") and status.next_step.endswith(".")
    assert SmsStatus.from_label("timeout during status check") is S.STATUS_CHECK_TIMEOUT


def test_final_states_never_change():
    for final, new in itertools.product(FINAL, S):
        assert not can_transition(final, new)


def test_late_delivered_report_beats_timeout():
    assert can_transition(S.STATUS_CHECK_TIMEOUT, S.RECEIVED)
    assert can_transition(S.STATUS_CHECK_TIMEOUT, S.REJECTED)
    assert not can_transition(S.STATUS_CHECK_TIMEOUT, S.ACCEPTED)


def test_pending_states_only_move_forward():
    assert can_transition(S.UNKNOWN, S.ACCEPTED) and can_transition(S.UNKNOWN, S.RESENT)
    assert can_transition(S.ACCEPTED, S.STATUS_CHECK_TIMEOUT)
    assert not can_transition(S.ACCEPTED, S.UNKNOWN)
    assert not can_transition(S.RESENT, S.ACCEPTED)
