"""Passwords, signed session cookies, CSRF tokens and OAuth state: the rules a browser meets."""

from __future__ import annotations

import io
import sys

import pytest

from chalicelib.portal import hash_password as cli
from chalicelib.portal.security import (
    OAuthSigner,
    OAuthState,
    PasswordConfigError,
    Session,
    SessionSigner,
    Signers,
    check_credential,
    hash_password,
    session_key,
    verify_password,
)

FAST = {"n": 2**10}  # small scrypt cost keeps the suite quick; the format is the same


def test_a_hashed_password_checks_only_the_right_password() -> None:
    stored = hash_password("correct horse battery", **FAST)
    assert stored.startswith("scrypt$1024$8$1$")
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterY", stored)
    assert not verify_password("", stored)


def test_two_hashes_of_one_password_differ_because_of_the_salt() -> None:
    assert hash_password("same password", **FAST) != hash_password("same password", **FAST)


def test_a_malformed_hash_is_a_configuration_problem_with_the_fix_in_words() -> None:
    with pytest.raises(PasswordConfigError, match="hash_password"):
        verify_password("anything", "plain-text-password")


def test_the_admin_token_signs_in_only_when_no_password_hash_is_set() -> None:
    stored = hash_password("the real password", **FAST)
    assert check_credential("admin-token", password_hash="", admin_token="admin-token")
    assert not check_credential("admin-token", password_hash=stored, admin_token="admin-token")
    assert check_credential("the real password", password_hash=stored, admin_token="admin-token")
    assert not check_credential("", password_hash="", admin_token="")


def test_a_session_survives_the_round_trip_through_its_cookie() -> None:
    signer = SessionSigner(b"k" * 32)
    session = Session.new(lifetime_seconds=3600)
    loaded = signer.loads(signer.dumps(session))
    assert loaded == session


@pytest.mark.parametrize(
    "tamper",
    [
        lambda v: v[:-2] + ("AA" if not v.endswith("AA") else "BB"),  # signature changed
        lambda v: v[:5] + ("A" if v[5] != "A" else "B") + v[6:],  # payload changed
        lambda v: v.replace(".", ""),  # no signature
        lambda v: "",
    ],
)
def test_a_tampered_cookie_is_no_session(tamper) -> None:  # type: ignore[no-untyped-def]
    signer = SessionSigner(b"k" * 32)
    value = signer.dumps(Session.new(lifetime_seconds=3600))
    assert signer.loads(tamper(value)) is None


def test_an_expired_session_is_no_session() -> None:
    signer = SessionSigner(b"k" * 32)
    session = Session.new(lifetime_seconds=60, now=1_000.0)
    value = signer.dumps(session)
    assert signer.loads(value, now=1_059.0) is not None
    assert signer.loads(value, now=1_060.0) is None


def test_a_new_password_ends_every_session_signed_before() -> None:
    old = SessionSigner(session_key(session_secret="s" * 32, password_hash="scrypt$old", admin_token=""))
    new = SessionSigner(session_key(session_secret="s" * 32, password_hash="scrypt$new", admin_token=""))
    value = old.dumps(Session.new(lifetime_seconds=3600))
    assert old.loads(value) is not None
    assert new.loads(value) is None


def test_no_credential_means_no_session_key() -> None:
    assert session_key(session_secret="secret", password_hash="", admin_token="") is None


def test_the_csrf_token_must_match_exactly() -> None:
    session = Session.new(lifetime_seconds=60)
    assert session.csrf_matches(session.csrf)
    assert not session.csrf_matches(session.csrf + "x")
    assert not session.csrf_matches("")
    assert not session.csrf_matches(None)
    assert Session.new(lifetime_seconds=60).csrf != session.csrf


def test_the_oauth_state_is_bound_to_provider_session_and_time() -> None:
    attempt = OAuthState.new("xero", "sid-1", now=0)
    assert attempt.matches("xero", attempt.state, "sid-1", now=10)
    assert not attempt.matches("zoho", attempt.state, "sid-1", now=10)
    assert not attempt.matches("xero", attempt.state + "x", "sid-1", now=10)
    assert not attempt.matches("xero", attempt.state, "sid-2", now=10)
    assert not attempt.matches("xero", attempt.state, "sid-1", now=601)
    signer = OAuthSigner(b"k" * 32)
    assert signer.loads(signer.dumps(attempt), now=10) == attempt


def test_each_cookie_kind_is_refused_by_every_other_kinds_signer() -> None:
    signers = Signers.from_key(b"k" * 32)
    session = Session.new(lifetime_seconds=3600)
    made = {
        "session": signers.session.dumps(session),
        "signin": signers.signin.dumps(session),
        "oauth": signers.oauth.dumps(OAuthState.new("xero", session.sid)),
    }
    readers = {"session": signers.session, "signin": signers.signin, "oauth": signers.oauth}
    for kind, value in made.items():
        for reader_kind, reader in readers.items():
            assert (reader.loads(value) is not None) == (kind == reader_kind), (kind, reader_kind)


def test_the_helper_prints_a_hash_that_verifies(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    assert cli.main(["--stdin"]) == 0
    printed = capsys.readouterr().out.strip()
    assert verify_password("a long enough password", printed)


def test_the_helper_refuses_a_short_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert cli.main(["--stdin"]) == 1
    assert "at least 12 characters" in capsys.readouterr().err
