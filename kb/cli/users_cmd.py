"""``kb users`` (accounts) and ``kb audit`` (the audit trail)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import date

from kb.cli.common import UsageError, add_index_option, index_path

USERS_EPILOG = """examples:
  kb users add wang --role editor --clearance 内部     (asks for a password)
  echo "$PASSWORD" | kb users add li --role reader --password-stdin
  kb users token wang            prints a new API token (Authorization: Bearer …)
  kb users token wang --revoke   revokes all of wang's tokens
  kb users list

Roles: reader (search, read), editor (also upload, correct metadata, set access levels),
admin (also manage users, read the audit trail). Clearance: an access level of kb/data/access.toml."""


def _password(args, confirm: bool = True) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\n")
    if not sys.stdin.isatty():
        raise UsageError("no terminal to ask for the password: pass it with --password-stdin")
    first = getpass.getpass("password: ")
    if confirm and getpass.getpass("again: ") != first:
        raise UsageError("the two passwords differ")
    return first


def _store(args):
    from kb.users import UserStore

    return UserStore(index_path(args))


def _audit(args, what: str, **details) -> None:
    from kb.audit import AuditLog
    from kb.settings import load

    AuditLog(index_path(args), load().get("audit_log")).write("user", "command line", change=what, **details)


def users(args: argparse.Namespace) -> int:
    from kb.users import UserError

    store = _store(args)
    try:
        if args.action == "add":
            password = None if args.no_password else _password(args)
            user = store.add(args.name, args.role, args.clearance, password)
            _audit(args, "add", name=user.name, role=user.role, clearance=user.clearance)
            print(f"added {user.name} ({user.role}, clearance {user.clearance})")
        elif args.action == "list":
            rows = [u.public() for u in store.users()]
            if args.json:
                print(json.dumps(rows, ensure_ascii=False))
            for row in rows if not args.json else []:
                print(f"{row['name']:20} {row['role']:7} {row['clearance']:6} "
                      f"{'password' if row['has_password'] else 'no password'}, {row['tokens']} token(s)")
        elif args.action == "remove":
            store.remove(args.name)
            _audit(args, "remove", name=args.name)
            print(f"removed {args.name}")
        elif args.action == "passwd":
            store.set_password(args.name, _password(args))
            _audit(args, "password", name=args.name)
            print(f"password of {args.name} changed")
        elif args.action == "set":
            user = store.change(args.name, args.role, args.clearance)
            _audit(args, "change", name=user.name, role=user.role, clearance=user.clearance)
            print(f"{user.name}: {user.role}, clearance {user.clearance}")
        elif args.action == "token":
            if args.revoke:
                count = store.revoke_tokens(args.name)
                _audit(args, "revoke tokens", name=args.name, count=count)
                print(f"revoked {count} token(s) of {args.name}")
            else:
                token = store.new_token(args.name)
                _audit(args, "new token", name=args.name)
                print(token)
    except UserError as exc:
        raise UsageError(str(exc)) from None
    return 0


def audit(args: argparse.Namespace) -> int:
    from kb.audit import AuditLog
    from kb.settings import load

    since = None
    if args.since:
        try:
            since = date.fromisoformat(args.since)
        except ValueError:
            raise UsageError(f"--since {args.since!r} is not a date like 2026-12-01") from None
    log = AuditLog(index_path(args), load().get("audit_log"))
    for entry in log.entries(user=args.user, since=since, action=args.action):
        if args.json:
            print(json.dumps(entry, ensure_ascii=False))
        else:
            rest = " ".join(f"{k}={v}" for k, v in entry.items() if k not in ("time", "action", "user"))
            print(f"{entry.get('time', '')}  {entry.get('user', '-'):12} {entry.get('action', ''):12} {rest}")
    return 0


def register(subparsers) -> None:
    from kb.audit import ACTIONS
    from kb.users import ROLES

    u = subparsers.add_parser("users", help="accounts: add, list, remove, passwords, API tokens",
                              description="Manage the site's accounts (kept with the index).", epilog=USERS_EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = u.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add a user")
    add.add_argument("name", help="the login name")
    add.add_argument("--role", choices=ROLES, default="reader", help="what the user may do (default reader)")
    add.add_argument("--clearance", metavar="LEVEL", help="the highest access level the user sees (default: the lowest)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--no-password", action="store_true", help="no password (the user signs in with tokens only)")
    lst = sub.add_parser("list", help="list users")
    lst.add_argument("--json", action="store_true", help="as JSON")
    rm = sub.add_parser("remove", help="remove a user (their tokens stop working)")
    rm.add_argument("name")
    pw = sub.add_parser("passwd", help="set a user's password")
    pw.add_argument("name")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    ch = sub.add_parser("set", help="change a user's role or clearance")
    ch.add_argument("name")
    ch.add_argument("--role", choices=ROLES)
    ch.add_argument("--clearance", metavar="LEVEL")
    tk = sub.add_parser("token", help="print a new API token for a user, or revoke them all")
    tk.add_argument("name")
    tk.add_argument("--revoke", action="store_true", help="revoke every token of the user")
    for p in (add, lst, rm, pw, ch, tk):
        add_index_option(p)
    u.set_defaults(run=users)

    a = subparsers.add_parser("audit", help="read the audit trail", description="The audit trail: logins, searches, "
                              "views, downloads, uploads, metadata, access and user changes.")
    a.add_argument("--user", help="only this user's entries")
    a.add_argument("--since", metavar="DATE", help="from this date on (2026-12-01)")
    a.add_argument("--action", choices=ACTIONS, help="only this kind of entry")
    a.add_argument("--json", action="store_true", help="one JSON object per line")
    add_index_option(a)
    a.set_defaults(run=audit)
