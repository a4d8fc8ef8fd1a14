"""Accounts: names, roles, clearances, password hashes and API tokens, kept with the index
(``<index>/users/users.json``).

Roles, each with the rights of the one before: ``reader`` (search and read), ``editor`` (also
upload, correct metadata, set access levels), ``admin`` (also manage users, read the audit trail).
A clearance is an access level (kb/data/access.toml): the highest a user may see.

Passwords are hashed with Argon2id (argon2-cffi, memory-hard); tokens are 32 random bytes shown
once and stored as their SHA-256 (a token is a random key, not a password: a fast hash is right).
The file is rewritten atomically under an exclusive lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kb.access import levels

ROLES = ("reader", "editor", "admin")
FOLDER = "users"
FILE = "users.json"
TOKEN_PREFIX = "kbt_"
_NAME = re.compile(r"^[\w.\-@\u4e00-\u9fff]{1,64}$")
MIN_PASSWORD = 8


class UserError(ValueError):
    """A user-management request that cannot be done (unknown user, bad role, weak password)."""


@dataclass
class User:
    name: str
    role: str = "reader"
    clearance: str = ""  # an access level name; "" = the lowest
    password_hash: str | None = None
    tokens: list[dict] = field(default_factory=list)  # {"id", "sha256", "created"}
    created: float = field(default_factory=time.time)

    @property
    def clearance_rank(self) -> int:
        lv = levels()
        return lv.names.index(self.clearance) if self.clearance in lv.names else lv.lowest

    def can(self, role: str) -> bool:
        """Has this user at least ``role``'s rights?"""
        return ROLES.index(self.role) >= ROLES.index(role)

    def public(self) -> dict:
        return {"name": self.name, "role": self.role, "clearance": self.clearance or levels().names[0],
                "has_password": bool(self.password_hash), "tokens": len(self.tokens), "created": self.created}


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class UserStore:
    def __init__(self, index_dir: str | os.PathLike):
        self.folder = Path(index_dir) / FOLDER
        self.path = self.folder / FILE

    # -- reading

    def _load(self) -> dict[str, User]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise UserError(f"{self.path}: unreadable user store ({exc}); restore it from a backup") from None
        return {name: User(**data) for name, data in raw.items()}

    def users(self) -> list[User]:
        return sorted(self._load().values(), key=lambda u: u.name)

    def get(self, name: str) -> User | None:
        return self._load().get(name)

    def any(self) -> bool:
        return bool(self._load())

    # -- writing

    @contextmanager
    def _editing(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                users = self._load()
                yield users
                tmp = self.path.with_name(f".{FILE}.{os.getpid()}.tmp")
                tmp.write_text(json.dumps({n: asdict(u) for n, u in users.items()}, ensure_ascii=False, indent=1),
                               encoding="utf-8")
                os.chmod(tmp, 0o600)
                os.replace(tmp, self.path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def add(self, name: str, role: str = "reader", clearance: str | None = None, password: str | None = None) -> User:
        if not _NAME.match(name or ""):
            raise UserError(f"user name {name!r}: 1-64 letters, digits, Chinese characters or . - _ @")
        role = self._role(role)
        clearance = self._clearance(clearance)
        with self._editing() as users:
            if name in users:
                raise UserError(f"user {name!r} exists already")
            user = User(name, role, clearance)
            if password is not None:
                user.password_hash = _hasher().hash(self._password(password))
            users[name] = user
        return user

    def remove(self, name: str) -> None:
        with self._editing() as users:
            if users.pop(name, None) is None:
                raise UserError(f"no user {name!r}")

    def change(self, name: str, role: str | None = None, clearance: str | None = None) -> User:
        with self._editing() as users:
            user = self._existing(users, name)
            if role is not None:
                user.role = self._role(role)
            if clearance is not None:
                user.clearance = self._clearance(clearance)
            return user

    def set_password(self, name: str, password: str) -> None:
        with self._editing() as users:
            self._existing(users, name).password_hash = _hasher().hash(self._password(password))

    def new_token(self, name: str) -> str:
        """A new API token for the user (printed once; only its hash is kept)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._editing() as users:
            self._existing(users, name).tokens.append(
                {"id": secrets.token_hex(4), "sha256": _token_digest(token), "created": time.time()})
        return token

    def revoke_tokens(self, name: str) -> int:
        with self._editing() as users:
            user = self._existing(users, name)
            count, user.tokens = len(user.tokens), []
            return count

    # -- checking

    def check_password(self, name: str, password: str) -> User | None:
        """The user if the password is theirs (constant work for unknown names too), else None."""
        from argon2.exceptions import InvalidHashError, VerificationError

        user = self.get(name or "")
        stored = user.password_hash if user and user.password_hash else _DUMMY_HASH()
        try:
            _hasher().verify(stored, password or "")
        except (VerificationError, InvalidHashError):
            return None
        return user if user and user.password_hash else None

    def by_token(self, token: str) -> User | None:
        if not token or not token.startswith(TOKEN_PREFIX):
            return None
        digest = _token_digest(token)
        for user in self._load().values():
            if any(hmac.compare_digest(t["sha256"], digest) for t in user.tokens):
                return user
        return None

    # -- validation

    @staticmethod
    def _existing(users: dict, name: str) -> User:
        if name not in users:
            raise UserError(f"no user {name!r}")
        return users[name]

    @staticmethod
    def _role(role: str) -> str:
        if role not in ROLES:
            raise UserError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        return role

    @staticmethod
    def _clearance(clearance: str | None) -> str:
        lv = levels()
        if not clearance:
            return lv.names[0]
        try:
            return lv.check(clearance)
        except ValueError as exc:
            raise UserError(str(exc)) from None

    @staticmethod
    def _password(password: str) -> str:
        if len(password or "") < MIN_PASSWORD:
            raise UserError(f"the password must have at least {MIN_PASSWORD} characters")
        return password


_dummy: list[str] = []


def _DUMMY_HASH() -> str:
    """A hash to verify against when the user is unknown, so a failed login takes as long either way."""
    if not _dummy:
        _dummy.append(_hasher().hash(secrets.token_urlsafe(16)))
    return _dummy[0]
