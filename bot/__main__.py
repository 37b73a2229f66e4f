"""`python -m bot`: the same as the `hcc-bot` command."""

from bot.cli import main
import sys

if __name__ == "__main__":  # not when multiprocessing (spawn) imports it in a photo worker
    sys.exit(main())
