"""Mail servers of our own on loopback for the e-mail tests, and a match to write to.

SMTP is aiosmtpd in a thread (on a port picked first: `Controller(port=0)` fails its readiness
check). IMAP is Debian's Dovecot, started per test with a configuration of its own in a temporary
folder and a passwd-file user, so nothing system-wide changes. Where Dovecot or Chromium is not
installed the tests that need them are skipped with the reason — unless
FIKAFOLLOW_TEST_REQUIRE_SERVICES=1 (CI sets it), where that is a failure.
"""

from __future__ import annotations

import grp
import io
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from PIL import ExifTags, Image

from fikafollow.app import App
from fikafollow.config import load_settings
from store import intake
from store.models import Programme

REQUIRE_SERVICES = os.environ.get("FIKAFOLLOW_TEST_REQUIRE_SERVICES") == "1"
DOVECOT = Path("/usr/sbin/dovecot")
CHROMIUM = Path("/usr/bin/chromium")
# 10:30 in Stockholm, 21 days after the first fika: the follow-ups are due
NOW = datetime(2026, 5, 25, 8, 30, tzinfo=UTC)
SECRET = "test-secret-key-not-for-production-0123"
MATCH_CSV = (
    "match_id,matched_on,kind,participant_id,first_name,role,language,channel,phone,email,gender\n"
    "M1,2026-05-04,individual,P1,Amina,newcomer,ar,email,,amina@example.org,woman\n"
    "M1,2026-05-04,individual,P2,Karin,established,sv,email,,karin@example.org,woman\n"
    "M2,2026-05-04,individual,P3,Dariush,newcomer,fa,email,,dariush@example.org,man\n"
    "M2,2026-05-04,individual,P4,Erik,established,en,email,,erik@example.org,man\n"
)


def require_or_skip(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"FIKAFOLLOW_TEST_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpSink:
    """An SMTP server's handler: keeps what it accepts, refuses the addresses it is told to."""

    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(
        self, server: object, session: object, envelope: object, address: str, options: object
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)  # type: ignore[attr-defined]
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.received.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)  # type: ignore[attr-defined]
        )
        return "250 Message accepted"


@dataclass
class SmtpServer:
    port: int
    sink: SmtpSink


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(port, sink)
    finally:
        controller.stop()


@dataclass
class ImapServer:
    port: int
    username: str
    password: str


DOVECOT_CONF = """\
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {login_user}
mail_location = maildir:{base}/mail/%u
first_valid_uid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


@pytest.fixture
def imap_server(tmp_path: Path) -> Iterator[ImapServer]:
    if not DOVECOT.exists():
        require_or_skip("Dovecot is not installed (scripts/test-services.sh installs it as root)")
    # Dovecot's login process refuses to run as root: as root the servers run as Debian's
    # dovecot/dovenull users, in a folder they can reach (pytest's tmp is root-only)
    base = Path(tempfile.mkdtemp(prefix="fikafollow-dovecot-"))
    base.chmod(0o755)
    if os.getuid() == 0:
        internal, login = pwd.getpwnam("dovecot"), pwd.getpwnam("dovenull")
    else:
        internal = login = pwd.getpwuid(os.getuid())
    for sub in ("run", "state", "mail", "home"):
        (base / sub).mkdir()
    for sub in ("mail", "home"):
        os.chown(base / sub, internal.pw_uid, internal.pw_gid)
    port = free_port()
    (base / "users").write_text("replies:{PLAIN}imap-test-password\n", encoding="utf-8")
    conf = base / "dovecot.conf"
    conf.write_text(
        DOVECOT_CONF.format(
            base=base,
            port=port,
            user=internal.pw_name,
            group=grp.getgrgid(internal.pw_gid).gr_name,
            login_user=login.pw_name,
            uid=internal.pw_uid,
            gid=internal.pw_gid,
        ),
        encoding="utf-8",
    )
    # in the foreground (-F), so the test owns the process and stops exactly it
    log_file = (base / "stdout.log").open("wb")
    process = subprocess.Popen(
        [str(DOVECOT), "-F", "-c", str(conf)], stdout=log_file, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    logs = [base / "dovecot.log", base / "stdout.log"]
                    text = " ".join(
                        p.read_text(errors="replace")[-1500:] for p in logs if p.exists()
                    )
                    pytest.fail(f"dovecot does not answer on {port}: {text}")
                time.sleep(0.05)
        yield ImapServer(port, "replies", "imap-test-password")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log_file.close()
        shutil.rmtree(base, ignore_errors=True)


def mail_settings(
    db_url: str, tmp_path: Path, smtp_port: int, **extra: object
) -> dict[str, object]:
    return {
        "database_url": db_url,
        "photo_dir": tmp_path / "photos",
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_security": "none",
        "mail_from": "Fika <fika@example.org>",
        "mail_reply_to": "replies@example.org",
        "public_url": "http://127.0.0.1:8765",
        "secret_key": SECRET,
        **extra,
    }


async def mail_app(db_url: str, tmp_path: Path, smtp_port: int, **extra: object) -> App:
    """An app with the e-mail channel and links, four participants imported and asked."""
    app = App(load_settings(**mail_settings(db_url, tmp_path, smtp_port, **extra)))
    await app.start()
    programme = await app.programme(None, NOW)
    rows, errors = intake.read_csv(MATCH_CSV.encode(), "SE")
    assert not errors
    async with app.sessions.begin() as session:
        programme = await session.get_one(Programme, programme.id)
        await intake.apply(session, programme, rows, NOW, app.book.days())
    return app


def photo_with_gps(fmt: str = "JPEG") -> bytes:
    image = Image.new("RGB", (64, 48), (200, 120, 40))
    exif = Image.Exif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (59.0, 19.0, 30.0)
    out = io.BytesIO()
    image.save(out, format=fmt, exif=exif)
    return out.getvalue()
