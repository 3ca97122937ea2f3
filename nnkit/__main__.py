"""Allow ``python -m nnkit``."""

from nnkit.cli import main

if __name__ == "__main__":
    main()
