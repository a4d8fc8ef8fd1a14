"""``kb serve`` (and ``python -m web``): the site on waitress, a production WSGI server."""

from __future__ import annotations

import argparse
import signal
import sys

EPILOG = """examples:
  kb serve                                   http://127.0.0.1:5000/ on the default index
  kb serve --host 0.0.0.0 --port 8080        open to the office network
  kb serve --processes 2                     one server process per core (many users at once)
  kb serve --config /srv/kb/kb.toml --print-config

Settings: flags > environment (KB_…) > kb.toml (beside the index folder, or --config / KB_CONFIG)
> defaults. Exit codes: 0 stopped, 1 could not start (port busy, bad index), 2 bad usage."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", help="address to listen on (default 127.0.0.1; 0.0.0.0 for the office network)")
    p.add_argument("--port", type=int, help="port to listen on (default 5000)")
    p.add_argument("--threads", type=int, help="server threads per process (default 1: searches are CPU work under one interpreter lock; uploads are ingested in the background)")
    p.add_argument("--processes", type=int, help="server processes sharing the port (default 1; one per core "
                   "for many users at once)")
    p.add_argument("--index", metavar="DIR", help="index folder (default: $KB_INDEX, else index/)")
    p.add_argument("--config", metavar="FILE", help="settings file (default: $KB_CONFIG, else kb.toml beside the index)")
    p.add_argument("--print-config", action="store_true", help="print the effective settings (secrets masked) and exit")


def serve(args: argparse.Namespace) -> int:
    from kb import settings as kbsettings
    from kb.cli.common import UsageError

    try:
        values = kbsettings.load({"host": args.host, "port": args.port, "threads": args.threads,
                                  "processes": args.processes, "index": args.index}, config=args.config)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.print_config:
        print(kbsettings.shown(values))
        return 0
    if values["processes"] < 1 or values["threads"] < 1:
        raise UsageError("--processes and --threads must be at least 1")
    if values["processes"] > 1:
        return _serve_processes(values)
    from waitress import create_server

    from web import create_app

    app = create_app(settings_values=values)
    _freeze_long_lived(app)
    try:
        server = create_server(app, host=values["host"], port=values["port"], threads=values["threads"], ident="kb")
    except OSError as exc:
        raise _cannot_listen(values, exc) from None
    print(f"serving {app.extensions['kb'].index_dir} on http://{values['host']}:{values['port']}/", file=sys.stderr)
    _run_until_stopped(server)
    return 0


# Requests after which the heap is frozen (below): by then it holds what serving keeps for good.
FREEZE_AFTER = (10, 100, 1_000, 10_000, 100_000)


def _freeze_long_lived(app) -> None:
    """Keep what a server holds for good (modules, jieba's dictionary, the snapshot's caches) out of
    the collector's full passes: one took 30-40 ms of a server process here, during which every
    queued request waited (the p99 at 50 clients). ``gc.freeze`` after a few requests, and again
    after ten times as many, as caches fill (objects freed later are still freed by refcount)."""
    import itertools

    served = itertools.count(1)
    points = set(FREEZE_AFTER)

    @app.after_request
    def freeze_after(response):
        if next(served) in points:
            response.call_on_close(_freeze)  # once the answer is written, not before it
        return response


def _freeze() -> None:
    import gc

    gc.collect()  # garbage cycles made so far are freed, not frozen
    gc.freeze()


def _cannot_listen(values: dict, exc: OSError):
    from kb.cli.common import Failed

    return Failed(f"cannot listen on {values['host']}:{values['port']}: {exc.strerror or exc}"
                  + (" (another server is running there? choose another --port)" if exc.errno == 98 else ""))


def _run_until_stopped(server) -> None:
    def stop(signum, frame):  # systemd and kill send SIGTERM: stop like Ctrl-C, closing the socket
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def _serve_processes(values: dict) -> int:
    """``processes`` forked servers accepting on one listening socket (as ``gunicorn -w N``): each
    has its own interpreter lock, so searches use every core. The parent only watches: SIGTERM or
    Ctrl-C stops them all; one that dies stops the rest (exit 1, for systemd to restart)."""
    import os
    import secrets
    import socket

    if not values.get("secret_key"):  # one key for all, or a session cookie works in one process only
        values = {**values, "secret_key": secrets.token_hex(32)}
    try:
        listener = socket.create_server((values["host"], values["port"]), backlog=1024)
    except OSError as exc:
        raise _cannot_listen(values, exc) from None
    from web.balance import ConnectionBalance

    balance = ConnectionBalance(values["processes"])  # keep-alive connections spread evenly
    children, parent = [], os.getpid()
    for slot in range(values["processes"]):
        pid = os.fork()
        if pid == 0:  # a server process: its own app, index snapshot and threads
            code = 1
            try:
                from kb.segments import die_with_parent

                die_with_parent(parent, signal.SIGTERM)  # a killed parent leaves no server holding the port
                from waitress import create_server

                from web import create_app

                signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us (Ctrl-C reaches the group)
                app = create_app(settings_values=values)
                _freeze_long_lived(app)
                server = create_server(app, sockets=[listener],
                                       threads=values["threads"], ident="kb")
                balance.attach(server, slot)
                _run_until_stopped(server)
                code = 0
            finally:
                os._exit(code)
        children.append(pid)
    listener.close()
    balance.close()
    print(f"serving on http://{values['host']}:{values['port']}/ with {len(children)} processes "
          f"({', '.join(map(str, children))})", file=sys.stderr)
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True
        for child in children:
            try:
                os.kill(child, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    failed = False
    alive = set(children)
    while alive:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        alive.discard(pid)
        if not stopping:  # one died by itself: the rest go too (a supervisor restarts the whole)
            failed = True
            print(f"server process {pid} ended ({os.waitstatus_to_exitcode(status)}); stopping the others",
                  file=sys.stderr)
            stop(None, None)
    return 1 if failed else 0


def register(subparsers) -> None:
    p = subparsers.add_parser("serve", help="serve the web site", description="Serve the knowledge base site "
                              "with waitress.", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    p.set_defaults(run=serve)


def main(argv: list[str] | None = None) -> int:
    from kb.cli.common import Parser, standalone

    parser = Parser(prog="python -m web", description="Serve the knowledge base site (the same "
                                     "as `kb serve`).", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return standalone(parser, serve, argv)
