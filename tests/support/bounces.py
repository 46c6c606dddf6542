"""Delivery status notifications as mail servers write them, around a message we sent.

Each is the bytes a mailbox would hold, modelled line by line on what the server in its name
sends: Postfix (RFC 3464, the whole original attached), Exchange Online (RFC 3464, the original's
headers only), Gmail's older plain-text notice (the original quoted as text), Exim's plain text
with X-Failed-Recipients and nothing of the original, and a Postfix delay warning (4.4.1). The
addresses and hosts are example.org / TEST-NET ones.
"""

from __future__ import annotations

from email.message import EmailMessage


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def _headers(original: EmailMessage) -> str:
    return "".join(f"{name}: {value}\n" for name, value in original.items())


def postfix_failed(original: EmailMessage, address: str, dsn_id: str) -> bytes:
    """Postfix's 'Undelivered Mail Returned to Sender': 5.1.1, the original attached whole."""
    boundary = "3F1A21C0B2.1748161862/mx.example.org"
    body = original.as_bytes().decode()
    return _crlf(
        f"""Return-Path: <>
Received: by mx.example.org (Postfix)
\tid 4D2A21C0B3; Mon, 25 May 2026 10:31:02 +0200 (CEST)
Date: Mon, 25 May 2026 10:31:02 +0200 (CEST)
From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: fika@example.org
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="{boundary}"
Content-Transfer-Encoding: 8bit
Message-Id: {dsn_id}

This is a MIME-encapsulated message.

--{boundary}
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host mx.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<{address}>: host mail.example.org[192.0.2.10] said: 550 5.1.1
    <{address}>: Recipient address rejected: User unknown in virtual mailbox
    table (in reply to RCPT TO command)

--{boundary}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
X-Postfix-Queue-ID: 3F1A21C0B2
X-Postfix-Sender: rfc822; fika@example.org
Arrival-Date: Mon, 25 May 2026 10:31:01 +0200 (CEST)

Final-Recipient: rfc822; {address}
Original-Recipient: rfc822;{address}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mail.example.org
Diagnostic-Code: smtp; 550 5.1.1 <{address}>: Recipient address rejected: User
    unknown in virtual mailbox table

--{boundary}
Content-Description: Undelivered Message
Content-Type: message/rfc822
Content-Transfer-Encoding: 8bit

{body}
--{boundary}--
"""
    )


def exchange_ndr(original: EmailMessage, address: str, dsn_id: str) -> bytes:
    """Exchange Online's 'Undeliverable:' report: 5.1.10 RecipientNotFound, the original's
    headers only (text/rfc822-headers)."""
    boundary = "_000_AM0PR01MB12345678ABCDEFGHIJ_"
    local, _, domain = address.partition("@")
    return _crlf(
        f"""From: Microsoft Outlook
\t<MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@example.onmicrosoft.com>
To: <fika@example.org>
Date: Mon, 25 May 2026 08:31:04 +0000
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="{boundary}"
Content-Language: en-US
Message-ID: {dsn_id}
In-Reply-To: {original["Message-ID"]}
References: {original["Message-ID"]}
Subject: Undeliverable: {original["Subject"]}
Auto-Submitted: auto-replied
X-MS-Exchange-Message-Is-Ndr:
MIME-Version: 1.0

--{boundary}
Content-Type: text/plain; charset="us-ascii"

Your message to {address} couldn't be delivered.

{local} wasn't found at {domain}.

fika   Office 365   {local}
Action Required                 Recipient

Unknown To address

How to Fix It
The address may be misspelled or may not exist. Try one or more of the following:

Diagnostic information for administrators:

Generating server: AM0PR01MB1234.eurprd01.prod.exchangelabs.com

{address}
Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not
found by SMTP address lookup'

--{boundary}
Content-Type: message/delivery-status

Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.exchangelabs.com
Received-From-MTA: dns;mx.example.org
Arrival-Date: Mon, 25 May 2026 08:31:03 +0000

Final-Recipient: rfc822;{address}
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not
 found by SMTP address lookup

--{boundary}
Content-Type: text/rfc822-headers

{_headers(original)}
--{boundary}--
"""
    )


def gmail_unstructured(original: EmailMessage, address: str, dsn_id: str) -> bytes:
    """Gmail's plain-text 'Delivery Status Notification (Failure)': no report part, the
    original quoted below as text (its headers without the Message-ID, as Gmail shows them)."""
    text = original.get_body(("plain",))
    words = text.get_content() if isinstance(text, EmailMessage) else ""
    return _crlf(
        f"""Delivered-To: fika@example.org
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: fika@example.org
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Failure)
Message-ID: {dsn_id}
Date: Mon, 25 May 2026 01:31:05 -0700 (PDT)
Content-Type: text/plain; charset=UTF-8

Delivery to the following recipient failed permanently:

     {address}

Technical details of permanent failure:
Google tried to deliver your message, but it was rejected by the server for
the recipient domain example.org by mail.example.org. [192.0.2.10].

The error that the other server returned was:
550-5.1.1 The email account that you tried to reach does not exist. Please try
550-5.1.1 double-checking the recipient's email address for typos or
550-5.1.1 unnecessary spaces. Learn more at
550 5.1.1 https://support.google.com/mail/?p=NoSuchUser a1si1234567wmb.12 - gsmtp

----- Original message -----

From: {original["From"]}
To: {original["To"]}
Reply-To: {original["Reply-To"]}
Subject: {original["Subject"]}
Date: {original["Date"]}

{words}
"""
    )


def exim_failed(address: str, dsn_id: str) -> bytes:
    """Exim's 'Mail delivery failed': the address in X-Failed-Recipients and the text, nothing
    of the original (a server configured to return no copy)."""
    return _crlf(
        f"""Return-path: <>
From: Mail Delivery System <Mailer-Daemon@mx.example.net>
To: fika@example.org
Subject: Mail delivery failed: returning message to sender
Message-Id: {dsn_id}
X-Failed-Recipients: {address}
Auto-Submitted: auto-replied
Date: Mon, 25 May 2026 10:31:06 +0200

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {address}
    host mail.example.org [192.0.2.10]
    SMTP error from remote mail server after RCPT TO:<{address}>:
    550 5.1.1 <{address}>: Recipient address rejected: User unknown
"""
    )


def postfix_delayed(original: EmailMessage, address: str, dsn_id: str) -> bytes:
    """Postfix's 'Delayed Mail (still being retried)': 4.4.1, a warning only."""
    boundary = "8C4B11C0A1.1748176262/mx.example.org"
    return _crlf(
        f"""From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
Subject: Delayed Mail (still being retried)
To: fika@example.org
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="{boundary}"
Message-Id: {dsn_id}
Date: Mon, 25 May 2026 14:31:02 +0200 (CEST)

--{boundary}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.org.

####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

Your message could not be delivered for more than 4 hour(s).
It will be retried until it is 5 day(s) old.

<{address}>: connect to mail.example.org[192.0.2.10]:25: Connection timed out

--{boundary}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
X-Postfix-Queue-ID: 8C4B11C0A1
Arrival-Date: Mon, 25 May 2026 10:31:01 +0200 (CEST)

Final-Recipient: rfc822; {address}
Action: delayed
Status: 4.4.1
Diagnostic-Code: X-Postfix; connect to mail.example.org[192.0.2.10]:25:
    Connection timed out
Will-Retry-Until: Sat, 30 May 2026 10:31:01 +0200 (CEST)

--{boundary}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

{_headers(original)}
--{boundary}--
"""
    )
