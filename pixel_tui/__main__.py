"""`python -m pixel_tui` runs the CLI."""

from pixel_tui.cli import main

raise SystemExit(main())
