"""Users, API tokens and roles on both backends, and the `odapp users` / `odapp tokens` commands."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text, update

from catalog import auth
from catalog.auth import AuthenticationError, AuthorizationError
from catalog.errors import NotFound, ValidationError
from catalog.store import Store
from tests.conftest import BASE, Server
from tests.test_store import make


def organisations(store: Store, *publishers: str) -> list[str]:
    """Save one dataset per publisher; their organisations exist afterwards."""
    store.save([make(i, publisher=p) for i, p in enumerate(publishers)])
    return sorted(name for name, *_ in store.organizations())


def messages(exc: pytest.ExceptionInfo) -> tuple[str, str]:
    (p,) = exc.value.problems
    return p.de, p.en


# --- users ---------------------------------------------------------------------------------------


def test_create_get_list_users(store: Store) -> None:
    anna = auth.create_user(
        store, "anna", email="anna@dresden.test", fullname="Anna Muster", sysadmin=True
    )
    bernd = auth.create_user(store, "bernd_2")
    assert anna.name == "anna" and anna.sysadmin and anna.active and not anna.has_password
    assert anna.email == "anna@dresden.test" and anna.fullname == "Anna Muster"
    assert anna.created_at.tzinfo is not None
    assert auth.get_user(store, "anna") == anna
    assert auth.get_user(store, anna.id) == anna  # by id too
    assert [u.name for u in auth.list_users(store)] == ["anna", "bernd_2"]
    assert not bernd.sysadmin and bernd.email is None
    with pytest.raises(NotFound) as exc:
        auth.get_user(store, "carla")
    assert "carla" in exc.value.problems[0].de and "carla" in exc.value.problems[0].en


@pytest.mark.parametrize(
    "name", ["A", "a", "Anna", "anna müller", "anna.m", "x" * 101, "", "anna/../x"]
)
def test_invalid_user_names_are_refused(store: Store, name: str) -> None:
    with pytest.raises(ValidationError) as exc:
        auth.create_user(store, name)
    de, en = messages(exc)
    assert "Benutzername" in de and "'name'" in de and "user name" in en and "'name'" in en
    assert auth.list_users(store) == []


def test_duplicate_user_names_are_refused(store: Store) -> None:
    auth.create_user(store, "anna")
    with pytest.raises(ValidationError) as exc:
        auth.create_user(store, "anna", email="other@x.test")
    de, en = messages(exc)
    assert "gibt es schon" in de and "already taken" in en
    auth.delete_user(store, "anna")
    with pytest.raises(ValidationError):  # deleted users keep their name
        auth.create_user(store, "anna")


def test_bad_email_and_short_password_name_the_field(store: Store) -> None:
    with pytest.raises(ValidationError) as exc:
        auth.create_user(store, "anna", email="kein-mail", password="kurz")
    fields = sorted(p.where for p in exc.value.problems)
    assert fields == ["email", "password"]
    assert auth.list_users(store) == []


def test_password_hash_and_verify(store: Store) -> None:
    anna = auth.create_user(store, "anna", password="richtig-geheim")
    assert anna.has_password
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users")).scalar_one()
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(2**14), "8", "1")
    assert "richtig-geheim" not in stored
    assert auth.check_password(store, "anna", "richtig-geheim") == anna
    assert auth.check_password(store, "anna", "falsch-geheim") is None
    assert auth.check_password(store, "niemand", "richtig-geheim") is None
    assert auth.hash_password("x" * 8) != auth.hash_password("x" * 8)  # salted
    assert auth.verify_password("x" * 8, auth.hash_password("x" * 8))
    for broken in (None, "", "scrypt$1$2", "bcrypt$16384$8$1$AAAA$AAAA", "scrypt$3$8$1$AA==$AA=="):
        assert not auth.verify_password("x" * 8, broken)
    auth.set_password(store, "anna", "neues-passwort")
    assert auth.check_password(store, "anna", "richtig-geheim") is None
    assert auth.check_password(store, "anna", "neues-passwort") is not None
    auth.delete_user(store, "anna")
    assert auth.check_password(store, "anna", "neues-passwort") is None


# --- tokens --------------------------------------------------------------------------------------


def test_token_round_trip(store: Store) -> None:
    anna = auth.create_user(store, "anna")
    token, info = auth.create_token(store, "anna", "harvester")
    assert token.startswith(f"odapp_{info.id}_") and len(info.id) == 16
    assert (info.user_name, info.label, info.revoked, info.last_used_at) == (
        "anna",
        "harvester",
        False,
        None,
    )
    assert auth.authenticate(store, token) == anna
    assert auth.authenticate(store, f"Bearer {token}") == anna
    assert auth.authenticate(store, f"  bearer   {token}  ") == anna
    assert auth.authenticate(store, None) is None
    assert auth.authenticate(store, "") is None
    (listed,) = auth.list_tokens(store, "anna")
    assert listed.id == info.id and listed.last_used_at is not None
    assert listed.last_used_at.tzinfo is not None


def test_only_the_hash_is_stored(store: Store) -> None:
    auth.create_user(store, "anna")
    token, info = auth.create_token(store, "anna", "cli")
    secret = token.removeprefix(f"odapp_{info.id}_")
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM api_tokens")).all()
    assert len(rows) == 1
    dump = repr([tuple(row) for row in rows])
    assert secret not in dump and token not in dump
    assert secret[:12] not in dump
    assert hashlib.sha256(token.encode()).hexdigest() in dump


def test_bad_tokens_are_401(store: Store) -> None:
    auth.create_user(store, "anna")
    token, info = auth.create_token(store, "anna", "")
    other_id = "0123456789abcdef" if info.id != "0123456789abcdef" else "fedcba9876543210"
    cases = {
        "malformed": ["x", "Bearer", "Bearer x", "Basic YW5uYTpnZWhlaW0=", token + "!", token * 20],
        "unknown": [
            token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),  # wrong secret
            token.replace(info.id, other_id),  # unknown id
        ],
    }
    for kind, values in cases.items():
        for value in values:
            with pytest.raises(AuthenticationError) as exc:
                auth.authenticate(store, value)
            assert exc.value.status == 401
            assert exc.value.problems[0].rule == f"auth:{kind}-token", value
            assert exc.value.problems[0].de and exc.value.problems[0].en
    auth.revoke_token(store, info.id)
    with pytest.raises(AuthenticationError) as exc:
        auth.authenticate(store, token)
    de, en = messages(exc)
    assert "widerrufen" in de and "revoked" in en and info.id in en
    (listed,) = auth.list_tokens(store, "anna")
    assert listed.revoked
    with pytest.raises(NotFound):
        auth.revoke_token(store, "0000000000000000")


def test_deleted_user_is_401_and_tokens_are_revoked(store: Store) -> None:
    auth.create_user(store, "anna")
    token, _ = auth.create_token(store, "anna", "a")
    auth.delete_user(store, "anna")
    with pytest.raises(AuthenticationError) as exc:
        auth.authenticate(store, token)
    assert exc.value.status == 401
    assert all(t.revoked for t in auth.list_tokens(store, "anna"))
    assert auth.get_user(store, "anna").state == "deleted"
    assert auth.list_users(store) == []
    assert [u.name for u in auth.list_users(store, include_deleted=True)] == ["anna"]
    with pytest.raises(ValidationError):
        auth.create_token(store, "anna", "new")
    # even a token left unrevoked (say, restored from a backup) does not let a deleted user in
    with store.sessions.begin() as session:
        session.execute(update(auth.ApiTokenRow).values(revoked=False))
    with pytest.raises(AuthenticationError) as exc:
        auth.authenticate(store, token)
    assert exc.value.problems[0].rule == "auth:deleted-user"


def test_last_used_is_written_at_most_once_a_minute(store: Store) -> None:
    auth.create_user(store, "anna")
    token, info = auth.create_token(store, "anna", "")
    auth.authenticate(store, token)
    (first,) = auth.list_tokens(store, "anna")
    auth.authenticate(store, token)
    (second,) = auth.list_tokens(store, "anna")
    assert first.last_used_at == second.last_used_at is not None
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    with store.sessions.begin() as session:
        session.execute(update(auth.ApiTokenRow).values(last_used_at=earlier))
    auth.authenticate(store, token)
    (third,) = auth.list_tokens(store, "anna")
    assert third.last_used_at is not None and third.last_used_at > earlier + timedelta(minutes=4)


def test_tokens_of_unknown_or_other_users(store: Store) -> None:
    auth.create_user(store, "anna")
    auth.create_user(store, "bernd")
    auth.create_token(store, "anna", "one")
    auth.create_token(store, "anna", "two")
    assert [t.label for t in auth.list_tokens(store, "anna")] == ["one", "two"]
    assert auth.list_tokens(store, "bernd") == []
    with pytest.raises(NotFound):
        auth.create_token(store, "carla", "x")
    with pytest.raises(NotFound):
        auth.list_tokens(store, "carla")


# --- roles ---------------------------------------------------------------------------------------


def test_roles(store: Store) -> None:
    assert organisations(store, "Umweltamt", "Stadtplanungsamt") == [
        "stadtplanungsamt",
        "umweltamt",
    ]
    root = auth.create_user(store, "root", sysadmin=True)
    admin = auth.create_user(store, "ada")
    editor = auth.create_user(store, "eddi")
    member = auth.create_user(store, "mia")
    outsider = auth.create_user(store, "otto")
    auth.set_membership(store, "ada", "umweltamt", "admin")
    auth.set_membership(store, "eddi", "umweltamt", "editor")
    auth.set_membership(store, "mia", "umweltamt", "member")
    assert auth.memberships(store, "eddi") == {"umweltamt": "editor"}
    assert auth.members(store, "umweltamt") == [
        ("ada", "admin"),
        ("eddi", "editor"),
        ("mia", "member"),
    ]
    assert auth.members(store, "stadtplanungsamt") == []

    def can(user: auth.User | None, org: str) -> bool:
        return auth.can_edit_organization(store, user, org)

    assert can(root, "umweltamt") and can(root, "stadtplanungsamt")
    assert can(admin, "umweltamt") and can(editor, "umweltamt")
    assert not can(editor, "stadtplanungsamt")
    assert not can(member, "umweltamt") and not can(outsider, "umweltamt")
    assert not can(None, "umweltamt") and not can(None, "stadtplanungsamt")
    assert not can(editor, "gibt-es-nicht")

    auth.require_sysadmin(root)
    auth.require_editor(store, editor, "umweltamt")
    with pytest.raises(AuthorizationError) as exc:
        auth.require_editor(store, editor, "stadtplanungsamt")
    assert exc.value.status == 403
    de, en = messages(exc)
    assert "'eddi'" in de and "'stadtplanungsamt'" in de
    assert "'eddi'" in en and "'stadtplanungsamt'" in en
    with pytest.raises(AuthorizationError) as exc:
        auth.require_editor(store, None, "umweltamt")
    assert "anonymous" in messages(exc)[1]
    for user in (None, editor):
        with pytest.raises(AuthorizationError) as exc:
            auth.require_sysadmin(user)
        assert exc.value.status == 403

    # a new role replaces the old one, and counts at once
    auth.set_membership(store, "eddi", "umweltamt", "member")
    assert auth.memberships(store, "eddi") == {"umweltamt": "member"}
    assert not can(editor, "umweltamt")
    auth.remove_membership(store, "ada", "umweltamt")
    assert not can(admin, "umweltamt") and auth.memberships(store, "ada") == {}
    # deleted users lose their rights and memberships
    auth.set_membership(store, "eddi", "umweltamt", "editor")
    auth.delete_user(store, "eddi")
    assert not can(editor, "umweltamt")
    assert auth.members(store, "umweltamt") == [("mia", "member")]
    deleted_root = auth.get_user(store, "root")
    auth.delete_user(store, "root")
    assert can(deleted_root, "umweltamt")  # the view was taken while active ...
    assert not can(auth.get_user(store, "root"), "umweltamt")  # ... a fresh one is not


def test_bad_memberships(store: Store) -> None:
    organisations(store, "Umweltamt")
    auth.create_user(store, "anna")
    with pytest.raises(ValidationError) as exc:
        auth.set_membership(store, "anna", "umweltamt", "owner")
    de, en = messages(exc)
    assert "'capacity'" in de and "owner" in de and "'capacity'" in en
    with pytest.raises(NotFound) as exc:
        auth.set_membership(store, "anna", "gibt-es-nicht", "editor")
    de, en = messages(exc)
    assert "Organisation" in de and "gibt-es-nicht" in en and "'organization'" in en
    with pytest.raises(NotFound) as exc:
        auth.set_membership(store, "carla", "umweltamt", "editor")
    assert "carla" in messages(exc)[1]
    with pytest.raises(NotFound):
        auth.members(store, "gibt-es-nicht")
    assert auth.memberships(store, "anna") == {}


# --- command line --------------------------------------------------------------------------------


def test_cli_users_and_tokens(tmp_path: Path) -> None:
    cli = Server(tmp_path)
    assert "users" in cli.odapp("--help").stdout and "tokens" in cli.odapp("--help").stdout
    added = cli.odapp("users", "add", "anna", "--email", "anna@x.test", "--fullname", "Anna M")
    assert "anna" in added.stdout
    cli.odapp("users", "add", "root", "--sysadmin")
    listed = cli.odapp("users", "list").stdout
    assert "anna" in listed and "anna@x.test" in listed and "Anna M" in listed
    assert "sysadmin" in listed.split("root", 1)[1].splitlines()[0]

    created = cli.odapp("tokens", "create", "anna", "--label", "harvester")
    token = created.stdout.strip()  # alone on stdout, for scripts; the note goes to stderr
    assert token.startswith("odapp_")
    assert "nicht gespeichert" in created.stderr and "not stored" in created.stderr
    store = Store(f"sqlite:///{tmp_path}/odapp.sqlite", BASE)
    try:
        assert auth.authenticate(store, token).name == "anna"
        token_id = auth.list_tokens(store, "anna")[0].id
        tokens = cli.odapp("tokens", "list", "anna").stdout
        assert token_id in tokens and "harvester" in tokens and token not in tokens
        cli.odapp("tokens", "revoke", token_id)
        assert "revoked" in cli.odapp("tokens", "list", "anna").stdout
        with pytest.raises(AuthenticationError):
            auth.authenticate(store, token)

        organisations(store, "Umweltamt")
        member = cli.odapp("users", "member", "anna", "umweltamt", "--capacity", "editor")
        assert "editor" in member.stdout
        assert auth.memberships(store, "anna") == {"umweltamt": "editor"}

        cli.odapp("users", "delete", "anna")
        assert "anna" not in cli.odapp("users", "list").stdout
    finally:
        store.engine.dispose()


def test_cli_errors_exit_2_in_both_languages(tmp_path: Path) -> None:
    cli = Server(tmp_path)
    cli.odapp("users", "add", "anna")
    for args, de, en in [
        (("users", "add", "anna"), "gibt es schon", "already taken"),
        (("users", "add", "Anna Maria"), "Benutzername", "user name"),
        (("users", "delete", "carla"), "Kein Benutzer", "no user"),
        (("users", "member", "anna", "umweltamt"), "Keine Organisation", "no organization"),
        (("users", "member", "anna", "x", "--capacity", "chef"), "Rolle", "capacity"),
        (("tokens", "create", "carla"), "Kein Benutzer", "no user"),
        (("tokens", "revoke", "0000000000000000"), "Kein API-Token", "no API token"),
    ]:
        done = cli.odapp(*args, check=False)
        assert done.returncode == 2, args
        assert de in done.stderr and en in done.stderr, (args, done.stderr)


def test_cli_password_from_stdin(tmp_path: Path) -> None:
    cli = Server(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "odapp.cli", "users", "add", "anna", "--password-prompt"],
        cwd=tmp_path,
        env=cli.env,
        input="sehr-geheim\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    store = Store(f"sqlite:///{tmp_path}/odapp.sqlite", BASE)
    try:
        assert auth.check_password(store, "anna", "sehr-geheim") is not None
    finally:
        store.engine.dispose()
