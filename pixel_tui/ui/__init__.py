"""The Textual console: the only part of pixel_tui that imports Textual."""
