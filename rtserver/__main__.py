"""`python -m rtserver` runs the CLI."""

from rtserver.cli import main

raise SystemExit(main())
