"""Entry point for ``python -m trustctl``."""

from trustctl.cli import main

main()
