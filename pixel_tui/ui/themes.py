"""Console themes as TOML files: the built-ins shipped as `pixel_tui.themes`, and the user's own in the themes dir.

A theme file holds the fields of Textual's `Theme` (name, primary, secondary, accent, background, surface,
panel, foreground, warning, error, success, dark) and a `[variables]` table for the console's own colors
(`gauge-ok`, `gauge-careful`, `gauge-warning`, `gauge-critical`, `gauge-empty`). A file that cannot be used
is reported and skipped; it never stops the console.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

DEFAULT_THEME = "pixel-dark"
"""The theme used when none is asked for, or when the one asked for cannot be used."""
BUILTIN_PACKAGE = "pixel_tui.themes"
"""The package the top-level `themes/` folder is installed as."""
_ORDER = (DEFAULT_THEME, "pixel-light", "pixel-contrast")

_COLORS = ("primary", "secondary", "accent", "background", "surface", "panel", "foreground", "warning", "error",
           "success", "boost")  # fmt: skip
_NUMBERS = ("luminosity_spread", "text_alpha")
GAUGE_VARIABLES = ("gauge-ok", "gauge-careful", "gauge-warning", "gauge-critical", "gauge-empty")
"""The console's own theme variables; a theme that omits them gets them from its success/warning/error colors."""


class ThemeError(ValueError):
    """A theme file that cannot be used; the message says which file and why."""


@dataclass(frozen=True)
class ThemeSet:
    """Themes that loaded, in order, and messages about files that did not."""

    themes: tuple[Theme, ...]
    errors: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Theme names, built-ins first, each once."""
        return tuple(dict.fromkeys(theme.name for theme in self.themes))


def parse_theme(text: str, origin: str) -> Theme:
    """A Theme from the text of a theme file; ThemeError naming `origin` and the key when it is not usable."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ThemeError(f"{origin}: not valid TOML: {error}") from None
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or any(c.isspace() for c in name):
        raise ThemeError(f"{origin}: name: expected a theme name without spaces, got {name!r}")
    values: dict[str, Any] = {"name": name}
    for key, value in data.items():
        if key == "name":
            continue
        if key in _COLORS:
            values[key] = _color(origin, key, value)
        elif key == "dark":
            if not isinstance(value, bool):
                raise ThemeError(f"{origin}: dark: expected true or false, got {value!r}")
            values[key] = value
        elif key in _NUMBERS:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ThemeError(f"{origin}: {key}: expected a number, got {value!r}")
            values[key] = float(value)
        elif key == "variables":
            if not isinstance(value, dict):
                raise ThemeError(f"{origin}: [variables] must be a table")
            values[key] = {str(k): _variable(origin, str(k), v) for k, v in value.items()}
        else:
            raise ThemeError(f"{origin}: unknown key {key!r}")
    if "primary" not in values:
        raise ThemeError(f"{origin}: primary: a theme needs at least a primary color")
    return Theme(**values)


def _color(origin: str, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ThemeError(f"{origin}: {key}: expected a color such as #4FB3FF or red, got {value!r}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeError(f"{origin}: {key}: not a color: {value!r}") from None
    return value


def _variable(origin: str, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ThemeError(f"{origin}: variables.{key}: expected a string, got {value!r}")
    if key in GAUGE_VARIABLES:
        _color(origin, f"variables.{key}", value)
    return value


def builtin_themes() -> ThemeSet:
    """The themes shipped in the package (pixel-dark, pixel-light, pixel-contrast, ...)."""
    themes, errors = [], []
    folder = resources.files(BUILTIN_PACKAGE)
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".toml"):
            continue
        try:
            themes.append(parse_theme(entry.read_text(encoding="utf-8"), f"built-in theme {entry.name}"))
        except ThemeError as error:  # pragma: no cover - the built-ins are tested
            errors.append(str(error))
    themes.sort(key=lambda theme: (_ORDER.index(theme.name) if theme.name in _ORDER else len(_ORDER), theme.name))
    return ThemeSet(tuple(themes), tuple(errors))


def user_themes(directory: Path | None) -> ThemeSet:
    """The `*.toml` theme files in `directory` (missing directory: none)."""
    if directory is None or not directory.is_dir():
        return ThemeSet((), ())
    themes, errors = [], []
    for path in sorted(directory.glob("*.toml")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            errors.append(f"{path}: cannot read: {error}")
            continue
        try:
            themes.append(parse_theme(text, str(path)))
        except ThemeError as error:
            errors.append(str(error))
    return ThemeSet(tuple(themes), tuple(errors))


def load_themes(directory: Path | None) -> ThemeSet:
    """Built-in themes, then the user's (a user theme with a built-in's name replaces it)."""
    builtin, user = builtin_themes(), user_themes(directory)
    by_name = {theme.name: theme for theme in builtin.themes}
    by_name.update({theme.name: theme for theme in user.themes})
    return ThemeSet(tuple(by_name.values()), builtin.errors + user.errors)
