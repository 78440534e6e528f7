"""`python -m assistant.cli`, kept for scripts that run it: the command line is assistant/apps/cli.py."""
from assistant.apps.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
