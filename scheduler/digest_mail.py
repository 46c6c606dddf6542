"""Sends a coordinator's digest by SMTP: a text part, an HTML part (with the thumbnails of photos
to decide as its related parts, shown by `cid:`) and the CSV as an attachment.

Independent of the outbox and the participants' e-mail channel on purpose: a digest is one mail a
week to staff, claimed once per coordinator and week in `digest_run`.
"""

from __future__ import annotations

from email.message import EmailMessage

from bot.channels.email import SmtpSettings, submit
from messages.digest import RenderedDigest


class DigestMailer:
    def __init__(self, smtp: SmtpSettings) -> None:
        # the same server, sender and security as the participants' e-mail (FIKAFOLLOW_SMTP_*)
        self.smtp = smtp

    def message(self, to: str, digest: RenderedDigest, attachment_name: str) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.smtp.mail_from
        mail["To"] = to
        mail["Subject"] = digest.subject
        mail.set_content(digest.text)
        mail.add_alternative(digest.html, subtype="html")
        if digest.images:
            # multipart/related beside the text: a mail program shows the pictures without
            # fetching anything, and the photo is never behind a public address
            parts = list(mail.iter_parts())
            html = next(part for part in parts if part.get_content_type() == "text/html")
            assert isinstance(html, EmailMessage)
            for image in digest.images:
                html.add_related(image.data, maintype="image", subtype="jpeg", cid=f"<{image.cid}>")
        mail.add_attachment(
            digest.csv.encode("utf-8"), maintype="text", subtype="csv", filename=attachment_name
        )
        return mail

    async def send(self, to: str, digest: RenderedDigest, attachment_name: str) -> None:
        await submit(self.smtp, self.message(to, digest, attachment_name))
