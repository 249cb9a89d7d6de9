"""Entry point for ``python -m trustctl``."""

from trustctl.cli import main

if __name__ == "__main__":
    main()
