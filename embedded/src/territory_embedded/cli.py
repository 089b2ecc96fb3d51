"""``territory-embedded``: run the whole platform in one process (what ``make run`` starts)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from territory_shared.cli import serve_api
from territory_shared.logs import configure_logging

from territory_embedded.access import ADMIN_TOKEN_FILE
from territory_embedded.app import create_embedded_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="territory-embedded", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("TERRITORY_DATA_DIR", "data")))
    parser.add_argument("--no-demo", action="store_true", help="Start empty, without loading the demo data")
    parser.add_argument("--log-format", choices=["json", "text"], default=os.environ.get("LOG_FORMAT", "json"))
    args = parser.parse_args(argv)
    configure_logging("territory-embedded", os.environ.get("LOG_LEVEL", "INFO"), args.log_format == "json")
    app = create_embedded_app(args.data_dir, load_demo_data=not args.no_demo)
    if app.state.admin_token:
        # Printed, not logged: a terminal shows it to the person who started the platform.
        print(
            f"Admin token for tenant demo (also in {args.data_dir / ADMIN_TOKEN_FILE}):\n{app.state.admin_token}\n"
            f"Web map: http://{args.host}:{args.port}/#token={app.state.admin_token}",
            flush=True,
        )
    serve_api(app, args.host, args.port)


if __name__ == "__main__":
    main()
