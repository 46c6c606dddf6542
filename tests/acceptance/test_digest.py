"""The coordinators' weekly digest: every figure by hand, one programme never sees another, and
two processes at once send each coordinator one digest a week."""

from __future__ import annotations

import email
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from bot.greeting_review import review_routes
from bot.web import WebContext, create_web_app
from fikafollow.app import App
from fikafollow.commands import main
from fikafollow.config import load_settings
from messages.digest import DigestRenderer
from scheduler.digest import run_digests
from tests.support import fixed_programmes
from tests.support.dbstate import aquery, query


@pytest.fixture
def fixed(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    import asyncio

    asyncio.run(fixed_programmes.build(db_url, tmp_path))
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    return db_url


def _files(out: Path, programme: str) -> dict[str, str]:
    found = {
        p.suffix: p.read_text(encoding="utf-8")
        for p in out.glob(f"digest-{programme}-*")
        if p.suffix != ".jpg"  # thumbnails of photos to decide
    }
    assert set(found) == {".html", ".txt", ".csv"}
    return found


def _cells(html: str) -> list[list[str]]:
    """The HTML tables' rows as lists of cell texts."""
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        rows.append(
            [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)]
        )
    return rows


def _blocks(html: str, kind: str) -> list[str]:
    """The text of each `<div class="kind">` (one answer, call, note …), tags taken out."""
    found = re.findall(rf'<div class="{kind}"[^>]*>(.*?)</div>', html, re.S)
    return [re.sub(r"<[^>]+>", "", block).strip() for block in found]


def test_digest_shows_every_figure_of_its_programme_only(
    fixed: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["digest", "--now", fixed_programmes.DIGEST_AT, "--out", str(out)]) == 0
    assert "digests: 2 written, 0 sent" in capsys.readouterr().out
    alpha = _files(out, "alpha")
    text = alpha[".txt"]
    # asked 6 (A1-A3), answered 4 (Amina, Erik, Dawit, Karin) = 67 %, met again 1 (Amina),
    # will meet again yes 1 (Amina), maybe 1 (Dawit), no 0; all asked within the week
    for line in (
        "Hej Coordinator Fika Alpha!",
        "Så här gick veckan 2026-05-25–2026-05-31 i Fika Alpha.",
        "Frågade: 6 / 6",
        "Svarade: 4 / 4",
        "Svarsfrekvens: 67 % / 67 %",
        "Har träffats igen: 1 / 1",
        "Ska träffas igen: ja: 1 / 1",
        "Ska träffas igen: kanske: 1 / 1",
        "Ska träffas igen: nej: 0 / 0",
        "arabiska: 1/1 (100 %) / 1/1 (100 %)",
        "persiska: 0/1 (0 %) / 0/1 (0 %)",
        "svenska: 2/3 (67 %) / 2/3 (67 %)",
        "tigrinja: 1/1 (100 %) / 1/1 (100 %)",
        # Karin answered by SMS after her e-mail bounced; Maryam was asked by e-mail only
        "e-post: 0/1 (0 %) / 0/1 (0 %)",
        "sms: 4/5 (80 %) / 4/5 (80 %)",
        # an answer reads as the question's short name and the option's label
        '- Amina (arabiska, sms, Match A1): Har träffats igen: ja – "نعم"',
        '- Dawit (tigrinja, sms, Match A2): Ska träffas igen: kanske – "2"',
        '- Karin (svenska, sms, Match A2): Har träffats igen: nej – "nej, tyvärr, vi hann inte"',
        "- Maryam, maryam@example.org, Match A3, Obesvarat: Träffats igen?, Ska träffas igen?",
        '- Amina (Match A1): "=HYPERLINK(1) fika", Samtycke: inte frågat',
        "- Dawit (Match A2), Foto, Samtycke: ja",
        "- Karin (svenska, e-post): kunde inte levereras",
        "- Johan (svenska, sms): avregistrerade sig",
        # pairs needing attention: the match, why, then each person on a line of their own
        "Match A1, de svarar olika:",
        "- Amina (arabiska, sms): Har träffats igen: ja, +46701000001",
        "- Erik (svenska, sms): Har träffats igen: nej, +46701000002",
        "Match A2, båda säger att de inte har träffats:",
        "- Dawit (tigrinja, sms): Har träffats igen: nej, +46701000003",
        "- Karin (svenska, e-post): Har träffats igen: nej, +46701000004, karin@example.org",
    ):
        assert line in text.splitlines(), line
    sections = {s.split("\n", 1)[0]: s.split("\n")[1:] for s in text.split("== ")}
    answers = [line for line in sections["Veckans svar"] if line.startswith("- ")]
    assert len(answers) == 6
    assert [line for line in sections["Par som behöver uppmärksamhet"] if line] == [
        "Match A1, de svarar olika:",
        "- Amina (arabiska, sms): Har träffats igen: ja, +46701000001",
        "- Erik (svenska, sms): Har träffats igen: nej, +46701000002",
        "Match A2, båda säger att de inte har träffats:",
        "- Dawit (tigrinja, sms): Har träffats igen: nej, +46701000003",
        "- Karin (svenska, e-post): Har träffats igen: nej, +46701000004, karin@example.org",
    ]
    assert "=yes" not in text and "=no" not in text and "met_again" not in text

    html = alpha[".html"]
    cells = _cells(html)
    assert ["Frågade", "6", "6"] in cells
    assert ["Svarsfrekvens", "67 %", "67 %"] in cells
    assert ["sms", "4/5 (80 %)", "4/5 (80 %)"] in cells
    # no table but the three-column figures: answers, calls and pairs are one block each
    assert all(len(row) <= 3 for row in cells)
    assert "Karin svenska · sms · Match A2Har träffats igen: nej“nej, tyvärr, vi hann inte”" in (
        _blocks(html, "answer")
    )
    assert "Maryam Match A3maryam@example.orgObesvarat: Träffats igen?, Ska träffas igen?" in (
        _blocks(html, "call")
    )
    assert 'href="tel:+46701000003"' in html and 'href="mailto:karin@example.org"' in html
    assert '<html lang="sv"' in html
    # Dawit's consented photo waits for a decision: a thumbnail beside the page, no address
    [thumbnail] = re.findall(r'<img src="([^"]+)"', html)
    assert thumbnail.startswith("digest-alpha-") and (out / thumbnail).is_file()
    assert "http" not in html.split("<body", 1)[1]

    csv_lines = alpha[".csv"].splitlines()
    assert csv_lines[0] == "section,language,channel,first_name,match_id,item,value,words"
    assert len(csv_lines) == 1 + 6 + 1 + 1 + 1 + 2 + 2
    # a participant's words never reach a spreadsheet as a formula
    assert "greeting,,,Amina,A1,words,,'=HYPERLINK(1) fika" in csv_lines

    # programme beta's coordinator reads English and only beta; alpha never sees beta and back
    beta = _files(out, "beta")
    assert "Asked: 2 / 2" in beta[".txt"] and "Response rate: 50 % / 50 %" in beta[".txt"]
    for marker in ("Zara", "Olle", "B1", "Beta", "+46702", "café"):
        assert all(marker not in content for content in alpha.values()), marker
    for marker in ("Amina", "Erik", "Dawit", "Karin", "Maryam", "Johan", "A1", "A2", "A3", "Alpha"):
        assert all(marker not in content for content in beta.values()), marker


def test_a_later_week_is_empty_but_so_far_keeps_counting(fixed: str, tmp_path: Path) -> None:
    out = tmp_path / "later"
    assert (
        main(
            ["digest", "--programme", "alpha", "--now", "2026-06-08T09:00+02:00", "--out", str(out)]
        )
        == 0
    )
    text = _files(out, "alpha")[".txt"]
    assert "Så här gick veckan 2026-06-01–2026-06-07 i Fika Alpha." in text
    assert "Frågade: 0 / 6" in text and "Svarade: 0 / 4" in text
    assert "svenska: 0/0 (0 %) / 2/3 (67 %)" in text
    assert not list(out.glob("digest-beta-*"))


class Collector:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    # aiosmtpd's Controller(port=0) fails its readiness check: pick a free port first
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    collector = Collector()
    port = _free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield collector, port
    finally:
        controller.stop()


def test_sent_digest_has_text_html_and_csv_and_goes_once_a_week(
    fixed: str,
    smtp: tuple[Collector, int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    collector, port = smtp
    monkeypatch.setenv("FIKAFOLLOW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("FIKAFOLLOW_SMTP_PORT", str(port))
    monkeypatch.setenv("FIKAFOLLOW_MAIL_FROM", "digest@fika.example.org")
    monkeypatch.setenv("FIKAFOLLOW_SMTP_SECURITY", "none")
    # Monday 09:30 and again in the afternoon: the same week, one digest each
    assert main(["digest", "--send", "--now", fixed_programmes.DIGEST_AT]) == 0
    assert main(["digest", "--send", "--now", "2026-06-01T15:00+02:00"]) == 0
    assert len(collector.messages) == 2
    assert "0 sent, 2 already sent this week" in capsys.readouterr().out
    by_to = {m["To"]: m for m in collector.messages}
    alpha = by_to["alpha@example.org"]
    assert alpha["Subject"] == "Veckobrev Fika Alpha, vecka 22"
    parts = {part.get_content_type(): part for part in alpha.walk()}
    assert {"text/plain", "text/html", "text/csv"} <= parts.keys()
    assert "Frågade: 6 / 6" in parts["text/plain"].get_payload(decode=True).decode()
    assert parts["text/csv"].get_filename().endswith(".csv")
    # next Monday before 09:00 in the coordinators' zone: still last week's, already sent
    assert main(["digest", "--send", "--now", "2026-06-08T08:55+02:00"]) == 0
    assert len(collector.messages) == 2
    assert main(["digest", "--send", "--now", "2026-06-08T09:05+02:00"]) == 0
    assert len(collector.messages) == 4


def test_sending_without_a_mail_server_configured_is_a_clear_usage_error(
    fixed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["digest", "--send", "--now", fixed_programmes.DIGEST_AT]) == 2
    assert "--send needs FIKAFOLLOW_SMTP_HOST and FIKAFOLLOW_MAIL_FROM" in capsys.readouterr().err
    assert query(fixed, "SELECT count(*) FROM digest_run") == [(0,)]


def test_digest_without_mail_server_gives_the_week_back(
    fixed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIKAFOLLOW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("FIKAFOLLOW_SMTP_PORT", str(_free_port()))
    monkeypatch.setenv("FIKAFOLLOW_SMTP_SECURITY", "none")
    monkeypatch.setenv("FIKAFOLLOW_MAIL_FROM", "digest@fika.example.org")
    assert main(["digest", "--send", "--now", fixed_programmes.DIGEST_AT]) == 1
    assert query(fixed, "SELECT count(*) FROM digest_run") == [(0,)]


@pytest.mark.slow
def test_two_digest_processes_at_once_send_each_coordinator_one(
    postgres_url: str, tmp_path: Path, smtp: tuple[Collector, int]
) -> None:
    import asyncio

    collector, port = smtp
    asyncio.run(fixed_programmes.build(postgres_url, tmp_path))
    environ = {
        **os.environ,
        "FIKAFOLLOW_DATABASE_URL": postgres_url,
        "FIKAFOLLOW_SMTP_HOST": "127.0.0.1",
        "FIKAFOLLOW_SMTP_PORT": str(port),
        "FIKAFOLLOW_SMTP_SECURITY": "none",
        "FIKAFOLLOW_MAIL_FROM": "digest@fika.example.org",
    }
    command = [
        sys.executable,
        "-m",
        "fikafollow",
        "digest",
        "--send",
        "--now",
        fixed_programmes.DIGEST_AT,
    ]
    runs = [
        subprocess.Popen(command, env=environ, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [r.communicate(timeout=120)[0] for r in runs]
    assert all(r.returncode == 0 for r in runs), outputs
    assert sorted(m["To"] for m in collector.messages) == ["alpha@example.org", "beta@example.org"]
    sent = [int(o.split(" sent,")[0].rsplit(" ", 1)[1]) for o in outputs]
    assert sum(sent) == 2
    assert query(postgres_url, "SELECT count(*) FROM digest_run WHERE sent_at IS NOT NULL") == [
        (2,)
    ]


async def test_digest_links_approve_a_consented_photo_by_post_only(
    db_url: str, tmp_path: Path
) -> None:
    await fixed_programmes.build(db_url, tmp_path)
    settings = load_settings(
        database_url=db_url,
        photo_dir=tmp_path / "photos",
        public_url="https://fika.example.org",
        secret_key="test-secret-key-0123456789",
    )
    app = App(settings, {})
    made = datetime(2026, 6, 1, 8, tzinfo=UTC)
    try:
        out = tmp_path / "linked"
        await run_digests(
            app.sessions,
            DigestRenderer(),
            made,
            app.questions(),
            programme_id="alpha",
            out_dir=out,
            review_link=app.review_link(made),
        )
        text = _files(out, "alpha")[".txt"]
        links = re.findall(r"(Godkänn|Avslå): https://fika\.example\.org(\S+)", text)
        # Dawit's photo has consent: approve and reject; Amina's words: reject only
        assert [kind for kind, _ in links] == ["Avslå", "Godkänn", "Avslå"]
        approve = links[1][1]
        assert 'href="https://fika.example.org' + approve + '"' in _files(out, "alpha")[
            ".html"
        ].replace("&amp;", "&")
        # the service mounts the review page when it has a public address
        assert any(getattr(r, "path", "") == "/review/{token}" for r in app.web_routes())
        assert app.links is not None
        # the same page, on the digest's clock (the links expire after a month)
        web = create_web_app(
            WebContext(app.sessions, app.book.days(), "SE", lambda: made),
            review_routes(app.sessions, app.links.signer, lambda: made),
        )
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            page = await http.get(approve)
            assert page.status_code == 200 and '<form method="post">' in page.text
            state = "SELECT words, social FROM greeting ORDER BY id"
            # a mail scanner following the link changes nothing
            assert [s for _, s in await aquery(db_url, state)] == [None, None]
            form = re.search(r'name="form" value="([^"]+)"', page.text)
            assert form is not None
            forged = await http.post(approve, data={"form": "0" * 22})
            assert forged.status_code == 403
            tampered = approve[:-3] + ("AAA" if not approve.endswith("AAA") else "BBB")
            assert (await http.get(tampered)).status_code == 403
            done = await http.post(approve, data={"form": form.group(1)})
            assert done.status_code == 200
            socials = await aquery(db_url, state)
            assert [s for _, s in socials].count("approved") == 1
            # words without consent cannot be approved, even with a valid signature
            [(gid,)] = await aquery(
                db_url, "SELECT id FROM greeting WHERE words LIKE '%HYPERLINK%'"
            )
            valid = app.links.review_url(gid, "approved", made)
            token = valid.rsplit("/", 1)[1]
            refused = await http.post(
                f"/review/{token}", data={"form": app.links.signer.form_token(token)}
            )
            assert refused.status_code == 409
    finally:
        await app.close()
