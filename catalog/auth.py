"""Users, API tokens and organisation roles.

Tokens look like ``odapp_<id>_<secret>``: the id (16 hex digits) finds the row, and only the
SHA-256 of the whole token is stored, compared in constant time. Tokens are long random strings,
so a fast hash is right for them; passwords are people's choice and get scrypt with a salt.

Roles follow CKAN: a sysadmin may edit everything; in an organisation a user is ``admin``,
``editor`` or ``member``, and admins and editors may edit its records.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid as uuidlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    String,
    Text,
    delete,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from catalog.errors import CatalogError, NotFound, Problem, ValidationError, problem
from catalog.schema import Base, Organization
from catalog.store import Store

CAPACITIES = ("admin", "editor", "member")
EDIT_CAPACITIES = ("admin", "editor")
TOKEN_PREFIX = "odapp_"
LAST_USED_RESOLUTION = timedelta(minutes=1)

_NAME = re.compile(r"[a-z0-9_-]{2,100}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TOKEN = re.compile(r"odapp_([0-9a-f]{16})_[A-Za-z0-9_-]{20,100}")
_MAX_HEADER = 512
MIN_PASSWORD = 8
MAX_PASSWORD = 1024

# scrypt: n=2**14, r=8 needs 16 MiB per hash (OWASP's minimum is n=2**17 at r=8, p=1; this
# keeps logins fast on small servers). Stored with the hash, so raising it later is seamless.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2**14, 8, 1, 32


class AuthenticationError(CatalogError):
    """The request carries credentials that are not valid (malformed, unknown, revoked)."""

    status = 401


class AuthorizationError(CatalogError):
    """The user (or anonymous caller) may not do this."""

    status = 403


# --- tables (created by migration 0003) -------------------------------------------------------


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("state IN ('active', 'deleted')", name="ck_users_state"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    fullname: Mapped[str | None] = mapped_column(Text)
    sysadmin: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(10), default="active")


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class MembershipRow(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint(
            "capacity IN ('admin', 'editor', 'member')", name="ck_memberships_capacity"
        ),
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    capacity: Mapped[str] = mapped_column(String(10))


# --- views -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    """A user as the rest of ODApp sees it (never the password hash)."""

    id: str
    name: str
    email: str | None
    fullname: str | None
    sysadmin: bool
    state: str
    created_at: datetime
    has_password: bool

    @property
    def active(self) -> bool:
        return self.state == "active"

    @classmethod
    def from_row(cls, row: UserRow) -> User:
        return cls(
            row.id,
            row.name,
            row.email,
            row.fullname,
            bool(row.sysadmin),
            row.state,
            _aware(row.created_at),
            row.password_hash is not None,
        )


@dataclass(frozen=True)
class TokenInfo:
    """An API token's public facts; the token itself is shown once, at creation."""

    id: str
    user_name: str
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


# --- passwords ---------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64) with a fresh random salt."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN)
    b64 = base64.b64encode
    return (
        f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}$"
        f"{b64(salt).decode('ascii')}${b64(digest).decode('ascii')}"
    )


def verify_password(password: str, encoded: str | None) -> bool:
    """Whether ``password`` matches a hash from :func:`hash_password` (constant-time compare)."""
    if not encoded:
        return False
    try:
        scheme, n, r, p, salt_b64, hash_b64 = encoded.split("$")
        n_, r_, p_ = int(n), int(r), int(p)
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(hash_b64, validate=True)
    except ValueError:
        return False
    if scheme != "scrypt" or not (1 < n_ <= 2**20 and 0 < r_ <= 32 and 0 < p_ <= 16):
        return False
    if not expected or len(expected) > 128:
        return False
    try:
        digest = _scrypt(password, salt, n_, r_, p_, len(expected))
    except ValueError:  # n not a power of two, too much memory
        return False
    return hmac.compare_digest(digest, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=128 * r * (n + p + 2) + 1024 * 1024,
        dklen=length,
    )


_DUMMY_HASH: list[str] = []  # compared against when a user is unknown, so timing tells nothing


def check_password(store: Store, name: str, password: str) -> User | None:
    """The active user ``name`` if ``password`` is theirs, else None."""
    with store.sessions() as session:
        row = session.scalar(select(UserRow).where(UserRow.name == name))
    if row is None or row.state != "active" or row.password_hash is None:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(hash_password(secrets.token_urlsafe(16)))
        verify_password(password, _DUMMY_HASH[0])
        return None
    return User.from_row(row) if verify_password(password, row.password_hash) else None


def set_password(store: Store, name: str, password: str | None) -> None:
    """Set (or with None remove) a user's password."""
    encoded = None if password is None else hash_password(_checked_password(password))
    with store.sessions.begin() as session:
        _user_row(session, name).password_hash = encoded


# --- users -------------------------------------------------------------------------------------


def create_user(
    store: Store,
    name: str,
    *,
    email: str | None = None,
    fullname: str | None = None,
    sysadmin: bool = False,
    password: str | None = None,
) -> User:
    """A new active user; the name follows CKAN's rules (2-100 of a-z, 0-9, ``_``, ``-``)."""
    problems = _name_problems(name)
    email = (email or "").strip() or None
    if email is not None and (len(email) > 254 or not _EMAIL.fullmatch(email)):
        problems.append(
            _field(
                "email",
                "user:email",
                f"Keine gültige E-Mail-Adresse: {email!r}",
                f"not a valid email address: {email!r}",
            )
        )
    if password is not None:
        try:
            _checked_password(password)
        except ValidationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ValidationError(problems)
    row = UserRow(
        id=str(uuidlib.uuid4()),
        name=name,
        email=email,
        fullname=(fullname or "").strip() or None,
        sysadmin=sysadmin,
        password_hash=hash_password(password) if password is not None else None,
        created_at=datetime.now(UTC),
        state="active",
    )
    try:
        with store.sessions.begin() as session:
            if session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
                raise _duplicate(name)
            session.add(row)
    except IntegrityError as exc:  # created concurrently
        raise _duplicate(name) from exc
    return User.from_row(row)


def get_user(store: Store, name_or_id: str) -> User:
    """By name, else by id; deleted users too (see ``User.state``)."""
    with store.sessions() as session:
        return User.from_row(_user_row(session, name_or_id))


def list_users(store: Store, *, include_deleted: bool = False) -> list[User]:
    with store.sessions() as session:
        query = select(UserRow).order_by(UserRow.name)
        if not include_deleted:
            query = query.where(UserRow.state == "active")
        return [User.from_row(r) for r in session.scalars(query)]


def delete_user(store: Store, name: str) -> None:
    """Mark the user deleted, revoke all their tokens and end their memberships (as CKAN)."""
    with store.sessions.begin() as session:
        row = _user_row(session, name)
        row.state = "deleted"
        session.execute(
            update(ApiTokenRow).where(ApiTokenRow.user_id == row.id).values(revoked=True)
        )
        session.execute(delete(MembershipRow).where(MembershipRow.user_id == row.id))


# --- tokens ------------------------------------------------------------------------------------


def create_token(store: Store, user_name: str, label: str = "") -> tuple[str, TokenInfo]:
    """A new API token for an active user: (the token, shown only now; its stored facts)."""
    label = label.strip()
    if len(label) > 200:
        raise ValidationError(
            [_field("label", "token:label", "Bezeichnung zu lang (max. 200)", "label too long")]
        )
    with store.sessions.begin() as session:
        user = _active_user_row(session, user_name, "token:user-deleted")
        token_id = secrets.token_hex(8)
        while session.get(ApiTokenRow, token_id) is not None:  # 2**64 ids: practically never
            token_id = secrets.token_hex(8)
        token = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        row = ApiTokenRow(
            id=token_id,
            user_id=user.id,
            name=label,
            token_hash=_token_hash(token),
            created_at=datetime.now(UTC),
            last_used_at=None,
            revoked=False,
        )
        session.add(row)
        info = _token_info(row, user.name)
    return token, info


def revoke_token(store: Store, token_id: str) -> None:
    """Revoke by token id (a whole token is accepted too; its id is used)."""
    match = _TOKEN.fullmatch(token_id.strip())
    key = match.group(1) if match else token_id.strip()
    with store.sessions.begin() as session:
        row = session.get(ApiTokenRow, key)
        if row is None:
            raise NotFound(
                [
                    _field(
                        "token_id",
                        "token:not-found",
                        f"Kein API-Token mit der Kennung {key!r}",
                        f"no API token with id {key!r}",
                    )
                ]
            )
        row.revoked = True


def list_tokens(store: Store, user_name: str) -> list[TokenInfo]:
    """The user's tokens (revoked ones too), oldest first."""
    with store.sessions() as session:
        user = _user_row(session, user_name)
        rows = session.scalars(
            select(ApiTokenRow)
            .where(ApiTokenRow.user_id == user.id)
            .order_by(ApiTokenRow.created_at, ApiTokenRow.id)
        )
        return [_token_info(r, user.name) for r in rows]


def authenticate(store: Store, header_value: str | None) -> User | None:
    """The user an ``Authorization`` header names: the raw token (as CKAN) or ``Bearer <token>``.

    No header (or an empty one) is the anonymous caller: None. Anything else that does not name
    an active user through a valid token raises :class:`AuthenticationError` (401).
    """
    if header_value is None or not header_value.strip():
        return None
    value = header_value.strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        value = rest.strip()
    match = _TOKEN.fullmatch(value) if len(value) <= _MAX_HEADER else None
    if match is None:
        raise _unauthenticated(
            "auth:malformed-token",
            "Das Authorization-Feld enthält kein ODApp-API-Token (odapp_…)",
            "the Authorization header does not hold an ODApp API token (odapp_...)",
        )
    token_id = match.group(1)
    now = datetime.now(UTC)
    with store.sessions.begin() as session:
        found = session.execute(
            select(ApiTokenRow, UserRow)
            .join(UserRow, UserRow.id == ApiTokenRow.user_id)
            .where(ApiTokenRow.id == token_id)
        ).first()
        stored_hash = found[0].token_hash if found else "0" * 64
        if not hmac.compare_digest(_token_hash(value), stored_hash) or found is None:
            raise _unauthenticated(
                "auth:unknown-token",
                "Unbekanntes API-Token",
                "unknown API token",
            )
        token, user = found
        if token.revoked:
            raise _unauthenticated(
                "auth:revoked-token",
                f"Das API-Token {token.id} wurde widerrufen",
                f"API token {token.id} has been revoked",
            )
        if user.state != "active":
            raise _unauthenticated(
                "auth:deleted-user",
                f"Der Benutzer {user.name!r} ist gelöscht",
                f"user {user.name!r} is deleted",
            )
        last = _aware(token.last_used_at) if token.last_used_at else None
        if last is None or now - last >= LAST_USED_RESOLUTION:
            # conditional, so concurrent requests write at most once per minute
            session.execute(
                update(ApiTokenRow)
                .where(
                    ApiTokenRow.id == token.id,
                    (ApiTokenRow.last_used_at.is_(None))
                    | (ApiTokenRow.last_used_at <= now - LAST_USED_RESOLUTION),
                )
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
        return User.from_row(user)


# --- organisation roles ----------------------------------------------------------------------


def set_membership(store: Store, user_name: str, organization_name: str, capacity: str) -> None:
    """Make the user an admin, editor or member of the organisation (replacing any role)."""
    if capacity not in CAPACITIES:
        raise ValidationError(
            [
                _field(
                    "capacity",
                    "membership:capacity",
                    f"Unbekannte Rolle {capacity!r} (erlaubt: {', '.join(CAPACITIES)})",
                    f"unknown capacity {capacity!r} (allowed: {', '.join(CAPACITIES)})",
                )
            ]
        )
    for attempt in range(2):
        try:
            with store.sessions.begin() as session:
                user = _active_user_row(session, user_name, "membership:user-deleted")
                org = _organization(session, organization_name)
                row = session.get(MembershipRow, (user.id, org.id))
                if row is None:
                    session.add(
                        MembershipRow(user_id=user.id, organization_id=org.id, capacity=capacity)
                    )
                else:
                    row.capacity = capacity
            return
        except IntegrityError:  # the same membership was added concurrently: update it
            if attempt:
                raise


def remove_membership(store: Store, user_name: str, organization_name: str) -> None:
    with store.sessions.begin() as session:
        user = _user_row(session, user_name)
        org = _organization(session, organization_name)
        session.execute(
            delete(MembershipRow).where(
                MembershipRow.user_id == user.id, MembershipRow.organization_id == org.id
            )
        )


def memberships(store: Store, user_name: str) -> dict[str, str]:
    """{organisation name: capacity} of the user."""
    with store.sessions() as session:
        user = _user_row(session, user_name)
        rows = session.execute(
            select(Organization.name, MembershipRow.capacity)
            .join(Organization, Organization.id == MembershipRow.organization_id)
            .where(MembershipRow.user_id == user.id)
            .order_by(Organization.name)
        ).all()
        return {name: capacity for name, capacity in rows}


def members(store: Store, organization_name: str) -> list[tuple[str, str]]:
    """(user name, capacity) of the organisation's active members, by name."""
    with store.sessions() as session:
        org = _organization(session, organization_name)
        rows = session.execute(
            select(UserRow.name, MembershipRow.capacity)
            .join(UserRow, UserRow.id == MembershipRow.user_id)
            .where(MembershipRow.organization_id == org.id, UserRow.state == "active")
            .order_by(UserRow.name)
        ).all()
        return [(name, capacity) for name, capacity in rows]


def can_edit_organization(store: Store, user: User | None, organization_name: str) -> bool:
    """Sysadmins edit everything; admins and editors of the organisation edit its records.

    Roles are read from the database, so a role taken away counts at once; the sysadmin flag
    and state come from ``user`` as :func:`authenticate` returned it for this request.
    """
    if user is None or not user.active:
        return False
    if user.sysadmin:
        return True
    with store.sessions() as session:
        capacity = session.scalar(
            select(MembershipRow.capacity)
            .join(Organization, Organization.id == MembershipRow.organization_id)
            .join(UserRow, UserRow.id == MembershipRow.user_id)
            .where(
                MembershipRow.user_id == user.id,
                Organization.name == organization_name,
                UserRow.state == "active",
            )
        )
    return capacity in EDIT_CAPACITIES


def require_sysadmin(user: User | None) -> None:
    if user is not None and user.active and user.sysadmin:
        return
    who = _who(user)
    raise AuthorizationError(
        [
            problem(
                "user",
                "auth:sysadmin-required",
                f"{who[0]} ist kein Systemadministrator; nur Systemadministratoren dürfen das",
                f"{who[1]} is not a sysadmin; only sysadmins may do this",
            )
        ]
    )


def require_editor(store: Store, user: User | None, organization_name: str) -> None:
    if can_edit_organization(store, user, organization_name):
        return
    who = _who(user)
    raise AuthorizationError(
        [
            problem(
                organization_name,
                "auth:editor-required",
                f"{who[0]} darf die Organisation {organization_name!r} nicht bearbeiten "
                "(nötig: Rolle admin oder editor)",
                f"{who[1]} may not edit organization {organization_name!r} "
                "(needs capacity admin or editor)",
            )
        ]
    )


# --- helpers -----------------------------------------------------------------------------------


def _aware(value: datetime) -> datetime:
    """SQLite gives naive datetimes back; every time stored here is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _token_info(row: ApiTokenRow, user_name: str) -> TokenInfo:
    return TokenInfo(
        row.id,
        user_name,
        row.name,
        _aware(row.created_at),
        _aware(row.last_used_at) if row.last_used_at else None,
        bool(row.revoked),
    )


def _user_row(session: Session, name_or_id: str) -> UserRow:
    rows = session.scalars(
        select(UserRow).where((UserRow.name == name_or_id) | (UserRow.id == name_or_id))
    ).all()
    if rows:
        return min(rows, key=lambda r: r.name != name_or_id)  # a name match first
    raise NotFound(
        [
            _field(
                "user",
                "user:not-found",
                f"Kein Benutzer {name_or_id!r}",
                f"no user {name_or_id!r}",
            )
        ]
    )


def _active_user_row(session: Session, name: str, rule: str) -> UserRow:
    """The user's row; a deleted user can get no token and no role."""
    user = _user_row(session, name)
    if user.state != "active":
        raise ValidationError(
            [
                _field(
                    "user",
                    rule,
                    f"Benutzer {user.name!r} ist gelöscht",
                    f"user {user.name!r} is deleted",
                )
            ]
        )
    return user


def _organization(session: Session, name: str) -> Organization:
    org = session.scalar(select(Organization).where(Organization.name == name))
    if org is None:
        raise NotFound(
            [
                _field(
                    "organization",
                    "organization:not-found",
                    f"Keine Organisation {name!r}",
                    f"no organization {name!r}",
                )
            ]
        )
    return org


def _name_problems(name: str) -> list[Problem]:
    if isinstance(name, str) and _NAME.fullmatch(name):
        return []
    return [
        _field(
            "name",
            "user:name",
            f"Ungültiger Benutzername {name!r}: 2 bis 100 Zeichen aus a-z, 0-9, _ und -",
            f"invalid user name {name!r}: 2 to 100 characters of a-z, 0-9, _ and -",
        )
    ]


def _checked_password(password: str) -> str:
    if MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return password
    raise ValidationError(
        [
            _field(
                "password",
                "user:password",
                f"Das Passwort muss {MIN_PASSWORD} bis {MAX_PASSWORD} Zeichen lang sein",
                f"the password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long",
            )
        ]
    )


def _duplicate(name: str) -> ValidationError:
    return ValidationError(
        [
            _field(
                "name",
                "user:duplicate",
                f"Den Benutzernamen {name!r} gibt es schon",
                f"user name {name!r} is already taken",
            )
        ]
    )


def _field(field: str, rule: str, de: str, en: str) -> Problem:
    return problem(field, rule, f"Feld {field!r}: {de}", f"field {field!r}: {en}")


def _who(user: User | None) -> tuple[str, str]:
    if user is None:
        return "Ein nicht angemeldeter Aufrufer", "an anonymous caller"
    return f"Benutzer {user.name!r}", f"user {user.name!r}"


def _unauthenticated(rule: str, de: str, en: str) -> AuthenticationError:
    return AuthenticationError([problem("Authorization", rule, de, en)])
