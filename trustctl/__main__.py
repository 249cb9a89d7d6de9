"""Entry point for ``trustctl`` and ``python -m trustctl``: Ctrl-C while starting up exits 130."""

from __future__ import annotations


def main() -> None:
    """Load the command layer and run it; Ctrl-C before a command handles it ends quietly."""
    try:
        from trustctl.cli import main as run

        run()
    except KeyboardInterrupt:  # while the modules load (~60 ms): no traceback, as later
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
