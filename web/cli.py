"""``kb serve`` (and ``python -m web``): the site on waitress, a production WSGI server."""

from __future__ import annotations

import argparse
import signal
import sys

EPILOG = """examples:
  kb serve                                   http://127.0.0.1:5000/ on the default index
  kb serve --host 0.0.0.0 --port 8080        open to the office network
  kb serve --config /srv/kb/kb.toml --print-config

Settings: flags > environment (KB_…) > kb.toml (beside the index folder, or --config / KB_CONFIG)
> defaults. Exit codes: 0 stopped, 1 could not start (port busy, bad index), 2 bad usage."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", help="address to listen on (default 127.0.0.1; 0.0.0.0 for the office network)")
    p.add_argument("--port", type=int, help="port to listen on (default 5000)")
    p.add_argument("--threads", type=int, help="server threads (default 8)")
    p.add_argument("--index", metavar="DIR", help="index folder (default: $KB_INDEX, else index/)")
    p.add_argument("--config", metavar="FILE", help="settings file (default: $KB_CONFIG, else kb.toml beside the index)")
    p.add_argument("--print-config", action="store_true", help="print the effective settings (secrets masked) and exit")


def serve(args: argparse.Namespace) -> int:
    from kb import settings as kbsettings
    from kb.cli.common import Failed, UsageError

    try:
        values = kbsettings.load({"host": args.host, "port": args.port, "threads": args.threads, "index": args.index},
                                 config=args.config)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.print_config:
        print(kbsettings.shown(values))
        return 0
    from waitress import create_server

    from web import create_app

    app = create_app(settings_values=values)
    try:
        server = create_server(app, host=values["host"], port=values["port"], threads=values["threads"], ident="kb")
    except OSError as exc:
        raise Failed(f"cannot listen on {values['host']}:{values['port']}: {exc.strerror or exc}"
                     + (" (another server is running there? choose another --port)" if exc.errno == 98 else "")) from None
    print(f"serving {app.extensions['kb'].index_dir} on http://{values['host']}:{values['port']}/", file=sys.stderr)
    def stop(signum, frame):  # systemd and kill send SIGTERM: stop like Ctrl-C, closing the socket
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


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
