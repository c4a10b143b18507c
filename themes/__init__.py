"""The built-in console themes, as TOML files; installed as the `pixel_tui.themes` package (see pyproject.toml)."""
