"""Photos on S3-compatible storage (`FIKAFOLLOW_MEDIA_URL`), against a real S3 API on loopback
(moto's server, started by the test): stored private under unguessable names, served to the
signed-in coordinator, zipped, exported, and erased by `forget` and by retention — and nothing of
it in the local photo folder."""

from __future__ import annotations

import asyncio
import io
import re
import socket
import zipfile
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiobotocore.session import get_session
from moto.server import ThreadedMotoServer
from sqlalchemy import select

from fikafollow.commands import main
from fikafollow.config import ConfigError, load_settings
from store.media import MediaUnavailable, S3Media, parse_media_url
from store.models import Greeting, Participant
from store.personal_data import retention_pass
from store.photos import PhotoRejected, PhotoStore
from tests.support.coordinator_world import FIRST_EMAIL, World, cli, make_world
from tests.support.mail_support import NOW, SmtpServer, photo_with_gps

BUCKET = "fika-photos"
PREFIX = "greetings"
KEY = "test-access-key"
SECRET = "test-secret-key"
NAME = re.compile(rf"{PREFIX}/[0-9a-f]{{32}}\.jpg")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        # moto keeps its buckets in the process, across servers: each test starts empty
        httpx.post(endpoint + "/moto-api/reset").raise_for_status()
        yield endpoint
    finally:
        server.stop()


@pytest.fixture
async def bucket(s3_endpoint: str) -> AsyncIterator[Any]:
    """A raw client on the bucket, to look at what the service left there."""
    async with get_session().create_client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
    ) as client:
        await client.create_bucket(Bucket=BUCKET)
        yield client


async def _keys(client: Any) -> list[str]:
    listed = await client.list_objects_v2(Bucket=BUCKET)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def _media_url(endpoint: str) -> str:
    return f"s3://{BUCKET}/{PREFIX}?endpoint={endpoint}&region=us-east-1"


async def test_a_photo_is_kept_private_under_an_unguessable_name_and_erased(
    s3_endpoint: str, bucket: Any, tmp_path: Path
) -> None:
    media = S3Media(parse_media_url(_media_url(s3_endpoint)), KEY, SECRET)
    store = PhotoStore(tmp_path / "photos", media=media)
    try:
        first, second = await asyncio.gather(
            store.save(photo_with_gps()), store.save(photo_with_gps("PNG"))
        )
        keys = await _keys(bucket)
        assert keys == sorted([f"{PREFIX}/{first.path}", f"{PREFIX}/{second.path}"])
        assert all(NAME.fullmatch(k) for k in keys)
        # private: the owner's grant only, nobody else's, and no public URL answers
        acl = await bucket.get_object_acl(Bucket=BUCKET, Key=keys[0])
        grantees = [g["Grantee"] for g in acl["Grants"]]
        assert [g["Type"] for g in grantees] == ["CanonicalUser"]
        assert not any("AllUsers" in str(g) or "AuthenticatedUsers" in str(g) for g in grantees)
        head = await bucket.head_object(Bucket=BUCKET, Key=keys[0])
        assert head["ContentType"] == "image/jpeg"

        kept = await store.read(first.path)
        assert kept is not None and kept[:2] == b"\xff\xd8"
        assert b"GPS" not in kept
        # a refused photo leaves nothing behind
        with pytest.raises(PhotoRejected):
            await store.save(b"not a photo at all")
        assert len(await _keys(bucket)) == 2
        # names that are paths are never followed
        assert await store.read("../" + first.path) is None
        await store.delete(first.path)
        await store.delete(first.path)  # already gone: not an error
        assert await store.read(first.path) is None
        assert await _keys(bucket) == [f"{PREFIX}/{second.path}"]
        # nothing in the local folder
        assert not (tmp_path / "photos").exists()
    finally:
        await store.close()


async def test_credentials_from_the_usual_aws_variables(
    s3_endpoint: str, bucket: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    store = PhotoStore(tmp_path, media=S3Media(parse_media_url(_media_url(s3_endpoint))))
    try:
        saved = await store.save(photo_with_gps())
        assert await _keys(bucket) == [f"{PREFIX}/{saved.path}"]
    finally:
        await store.close()


async def test_a_bucket_out_of_reach_is_our_error_and_keeps_nothing(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    store = PhotoStore(tmp_path, media=S3Media(parse_media_url(_media_url(dead)), KEY, SECRET))
    try:
        with pytest.raises(MediaUnavailable):
            await store.save(photo_with_gps())
        with pytest.raises(MediaUnavailable):
            await store.read("0" * 32 + ".jpg")
    finally:
        await store.close()
    assert await asyncio.to_thread(lambda: list(tmp_path.iterdir())) == []


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://bucket/prefix", "s3://bucket"),
        ("s3:///prefix", "s3://bucket"),
        ("s3://bucket?endpoint=ftp://x", "http(s) URL"),
        ("s3://bucket?region=x&acl=public-read", "unknown media URL parameter"),
    ],
)
def test_a_wrong_media_url_is_refused_at_start_naming_the_variable(url: str, says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(media_url=url)
    assert "FIKAFOLLOW_MEDIA_URL" in str(refused.value) and says in str(refused.value)


def test_one_media_key_without_the_other_is_refused() -> None:
    with pytest.raises(ConfigError, match="MEDIA_ACCESS_KEY and FIKAFOLLOW_MEDIA_SECRET_KEY"):
        load_settings(media_url="s3://b", media_access_key="x")


@pytest.fixture
async def s3_world(
    db_url: str,
    tmp_path: Path,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    s3_endpoint: str,
    bucket: Any,
) -> AsyncIterator[World]:
    # every App of the test (the world's and the command line's) reads these
    monkeypatch.setenv("FIKAFOLLOW_MEDIA_URL", _media_url(s3_endpoint))
    monkeypatch.setenv("FIKAFOLLOW_MEDIA_ACCESS_KEY", KEY)
    monkeypatch.setenv("FIKAFOLLOW_MEDIA_SECRET_KEY", SECRET)
    monkeypatch.setenv("FIKAFOLLOW_PHOTO_DIR", str(tmp_path / "photos"))
    async for w in make_world(db_url, tmp_path, smtp_server, monkeypatch):
        yield w


async def _sign_in(world: World) -> Any:
    client = world.client()
    page = await client.get("/coordinator/login")
    token = CSRF.search(page.text)
    assert token
    await client.post("/coordinator/login", data={"email": FIRST_EMAIL, "csrf": token[1]})
    link = world.sign_in_link(FIRST_EMAIL)
    assert (await client.post(link)).status_code == 303
    return client


async def test_every_place_a_photo_is_read_or_erased_goes_to_the_bucket(
    s3_world: World,
    bucket: Any,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = s3_world
    # the world's two greetings with photos are in the bucket, not in the folder
    assert len(await _keys(bucket)) == 2
    assert not (tmp_path / "photos").exists()

    # the coordinator's page shows the photo and zips the approved ones, from the bucket
    client = await _sign_in(world)
    gid = world.greeting_ids["first"]
    page = await client.get("/coordinator/greetings")
    photo = await client.get(f"/coordinator/greetings/{gid}/photo")
    assert photo.status_code == 200 and photo.content[:2] == b"\xff\xd8"
    token = CSRF.search(page.text)
    assert token
    await client.post(
        "/coordinator/greetings",
        data={"csrf": token[1], "greeting": str(gid), "decision": "approved"},
    )
    archive = zipfile.ZipFile(
        io.BytesIO((await client.get("/coordinator/greetings/approved.zip")).content)
    )
    jpegs = [n for n in archive.namelist() if n.endswith(".jpg")]
    assert len(jpegs) == 1 and archive.read(jpegs[0]) == photo.content

    # a data-access request: the photo comes from the bucket into FILE.zip
    out = tmp_path / "karin.json"
    await asyncio.to_thread(
        cli, db_url, "participant", "export", "P2", "--out", str(out), monkeypatch=monkeypatch
    )
    with zipfile.ZipFile(tmp_path / "karin.json.zip") as exported:
        assert [exported.read(n) for n in exported.namelist()] == [photo.content]

    # erasure: Karin's photo leaves the bucket, the other programme's stays
    async with world.app.sessions() as session:
        karins = await session.scalar(select(Greeting.photo_path).where(Greeting.id == gid))
    assert karins is not None
    await asyncio.to_thread(cli, db_url, "participant", "forget", "P2", monkeypatch=monkeypatch)
    left = await _keys(bucket)
    assert len(left) == 1 and left != [f"{PREFIX}/{karins}"]
    assert (await client.get(f"/coordinator/greetings/{gid}/photo")).status_code == 404

    # retention: a photo nobody agreed to share goes after the retention period
    unshared = await world.app.photos.save(photo_with_gps())
    async with world.app.sessions.begin() as session:
        other = await session.scalar(select(Greeting).where(Greeting.id != gid))
        assert other is not None
        session.add(
            Greeting(
                followup_id=other.followup_id,
                participant_id=other.participant_id,
                words="",
                photo_path=unshared.path,
                photo_type=unshared.content_type,
                consent="no",
                created_at=NOW,
                consent_at=NOW,
            )
        )
    assert f"{PREFIX}/{unshared.path}" in await _keys(bucket)
    days = world.app.settings.retention_days
    await retention_pass(world.app.sessions, world.app.photos, days, NOW + timedelta(days + 1))
    assert await _keys(bucket) == left
    assert not (tmp_path / "photos").exists()

    # the bucket gone (or away): the photo page answers 503 with Retry-After, not 500
    async with world.app.sessions.begin() as session:
        karins_row = await session.get_one(Greeting, gid)
        karins_row.photo_path = left[0].removeprefix(f"{PREFIX}/")
    for key in left:
        await bucket.delete_object(Bucket=BUCKET, Key=key)
    await bucket.delete_bucket(Bucket=BUCKET)
    away = await client.get(f"/coordinator/greetings/{gid}/photo")
    assert away.status_code == 503 and away.headers["retry-after"]

    # erasure with the bucket away fails whole and says why: nothing erased, try again later
    monkeypatch.setenv("FIKAFOLLOW_DATABASE_URL", db_url)
    code = await asyncio.to_thread(main, ["participant", "forget", "Q1", "--programme", "other"])
    assert code == 1
    async with world.app.sessions() as session:
        zainab = await session.scalar(
            select(Participant.first_name).where(Participant.external_id == "Q1")
        )
    assert zainab == "Zainab"
