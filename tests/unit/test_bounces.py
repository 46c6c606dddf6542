"""The bounce parser: what a delivery status notification says, and that nothing else is one."""

from __future__ import annotations

import logging
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.email.bounces import read_bounce
from bot.links import LinkSigner
from tests.support import bounces

SIGNER = LinkSigner(b"unit-test-secret-0123456789")
ADDRESS = "amina@example.org"


def original() -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Fika <fika@example.org>"
    mail["To"] = ADDRESS
    mail["Subject"] = "Har ni träffats igen?"
    mail["Message-ID"] = "<ff-7-0123456789abcdef@example.org>"
    mail["Reply-To"] = f"replies+{SIGNER.reply_token(42)}@example.org"
    mail["Date"] = "Mon, 25 May 2026 08:30:00 +0000"
    mail.set_content("مرحبا أمينة\n1 نعم / 2 لا\n")
    return mail


def read(raw: bytes) -> object:
    mail = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(mail, EmailMessage)
    return read_bounce(raw, mail, "<dsn@example.net>", SIGNER)


def test_a_postfix_report_names_the_message_the_follow_up_and_the_reason() -> None:
    found = read(bounces.postfix_failed(original(), ADDRESS, "<d1@mx.example.org>"))
    assert found is not None
    assert (found.permanent, found.status, found.reason) == (
        True,
        "5.1.1",
        "mailbox does not exist",
    )
    assert found.original_ids == ("<ff-7-0123456789abcdef@example.org>",)
    assert (found.followup_id, found.recipients) == (42, (ADDRESS,))


def test_exchange_gmail_and_exim_failures_are_permanent() -> None:
    for raw in (
        bounces.exchange_ndr(original(), ADDRESS, "<d2@example.net>"),
        bounces.gmail_unstructured(original(), ADDRESS, "<d3@example.net>"),
        bounces.exim_failed(ADDRESS, "<d4@example.net>"),
    ):
        found = read(raw)
        assert found is not None and found.permanent
        assert found.reason == "mailbox does not exist" and found.recipients == (ADDRESS,)


def test_a_delay_is_not_permanent() -> None:
    found = read(bounces.postfix_delayed(original(), ADDRESS, "<d5@example.net>"))
    assert found is not None
    assert (found.permanent, found.status) == (False, "4.4.1")


def test_a_reply_is_no_bounce() -> None:
    reply = EmailMessage()
    reply["From"] = ADDRESS
    reply["To"] = f"replies+{SIGNER.reply_token(42)}@example.org"
    reply["Subject"] = "Re: Har ni träffats igen?"
    reply["Message-ID"] = "<r1@example.org>"
    reply.set_content("Ja, 550 gånger! 5.1.1 var vårt bord.\n")
    assert read(reply.as_bytes()) is None


@settings(
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow],
    deadline=None,
)
@given(
    st.binary(max_size=2000)
    | st.builds(
        lambda head, body: head + b"\r\n\r\n" + body,
        st.sampled_from(
            [
                b"From: MAILER-DAEMON@x\r\nSubject: Undeliverable",
                b"Content-Type: multipart/report; report-type=delivery-status; boundary=b",
                b"Content-Type: message/delivery-status",
                b"From: postmaster@x\r\nContent-Type: text/plain; charset=nope",
                b"Subject: Delivery Status Notification (Failure)\r\nX-Failed-Recipients: \xff@",
            ]
        ),
        st.binary(max_size=1500)
        | st.text(max_size=800).map(
            lambda t: f"--b\r\nContent-Type: message/delivery-status\r\n\r\n{t}\r\n--b--".encode(
                "utf-8", "surrogatepass"
            )
        ),
    )
)
def test_the_parser_never_raises_on_any_message(raw: bytes) -> None:
    caught: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = caught.append  # type: ignore[method-assign]
    logger = logging.getLogger("bot.channels.email.bounces")
    logger.addHandler(handler)
    try:
        found = read(raw)
    finally:
        logger.removeHandler(handler)
    # nor does it lean on its last guard: an exception it caught is logged, and there is none
    assert not caught
    if found is not None:
        assert found.status[:1] in ("4", "5")
