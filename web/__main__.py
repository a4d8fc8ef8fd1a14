"""Serve the site: ``python -m web [--host 127.0.0.1] [--port 5000] [--threads 4]`` (waitress).

For development with reloading: ``flask --app web run --debug``.
"""

import argparse
import os
import sys


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m web", description="Serve the knowledge base site.")
    parser.add_argument("--host", default=os.environ.get("KB_HOST", "127.0.0.1"),
                        help="address to listen on (default 127.0.0.1; use 0.0.0.0 for the office network)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("KB_PORT", 5000)))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("KB_THREADS", 4)))
    parser.add_argument("--index", help="index folder (default: $KB_INDEX, else index/)")
    args = parser.parse_args()
    if args.index:
        os.environ["KB_INDEX"] = args.index
    from waitress import serve

    from web import create_app

    app = create_app()
    print(f"serving {app.extensions['kb'].index_dir} on http://{args.host}:{args.port}/", file=sys.stderr)
    serve(app, host=args.host, port=args.port, threads=args.threads, ident="kb")
    return 0


if __name__ == "__main__":
    sys.exit(main())
