"""Console themes as TOML files: the built-ins shipped as `pixel_tui.themes`, and the user's own in the themes dir.

A theme file holds the fields of Textual's `Theme` (name, primary, secondary, accent, background, surface,
panel, foreground, warning, error, success, dark) and a `[variables]` table for the console's own colors
(`gauge-ok`, `gauge-careful`, `gauge-warning`, `gauge-critical`, `gauge-empty`). A file that cannot be used
is reported and skipped; it never stops the console. "Cannot be used" is decided twice: when the file is read
(types, colors, finite numbers in range) and before the theme is registered or applied (`theme_problem`: its
colors build and the console's stylesheet parses with its variables), since `[variables]` may hold any CSS.
"""

from __future__ import annotations

import inspect
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.color import Color, ColorParseError
from textual.css.stylesheet import Stylesheet, StylesheetParseError
from textual.css.tokenize import tokenize_values
from textual.dom import DOMNode
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


ThemeCheck = Callable[[Theme], str | None]
"""Why a theme cannot be applied, or None when it can (see `theme_problem`)."""


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
            # TOML allows nan and inf; Textual's color system would fail on them, or on a spread past 1.
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ThemeError(f"{origin}: {key}: expected a number from 0 to 1, got {value!r}")
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


def user_themes(directory: Path | None, check: ThemeCheck | None = None) -> ThemeSet:
    """The `*.toml` theme files in `directory` (missing directory: none) that parse and pass `check`."""
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
            theme = parse_theme(text, str(path))
        except ThemeError as error:
            errors.append(str(error))
            continue
        problem = check(theme) if check is not None else None
        if problem is not None:
            errors.append(f"{path}: {problem}")
            continue
        themes.append(theme)
    return ThemeSet(tuple(themes), tuple(errors))


def load_themes(directory: Path | None, check: ThemeCheck | None = None) -> ThemeSet:
    """Built-in themes, then the user's that pass `check` (a user theme with a built-in's name replaces it).

    The built-ins are not checked here: a test applies each of them, and checking costs startup time.
    """
    builtin, user = builtin_themes(), user_themes(directory, check)
    by_name = {theme.name: theme for theme in builtin.themes}
    by_name.update({theme.name: theme for theme in user.themes})
    return ThemeSet(tuple(by_name.values()), builtin.errors + user.errors)


def theme_variables(theme: Theme, defaults: Mapping[str, str] | None = None) -> dict[str, str]:
    """The CSS variables `theme` gives the console, as `App.get_css_variables` builds them: Textual's color
    system, the theme's own variables over it, `defaults` under it, and the gauge colors derived from the
    success/warning/error colors when the theme does not set them (Textual's own themes)."""
    variables = {**(defaults or {}), **theme.to_color_system().generate(), **theme.variables}
    derived = {
        "gauge-ok": variables.get("success", "green"),
        "gauge-careful": variables.get("text-warning", "yellow"),
        "gauge-warning": variables.get("warning", "orange"),
        "gauge-critical": variables.get("error", "red"),
        "gauge-empty": variables.get("panel-lighten-1", "grey"),
    }
    for name, value in derived.items():
        variables.setdefault(name, value)
    return variables


def theme_problem(theme: Theme, stylesheet: Stylesheet, defaults: Mapping[str, str] | None = None) -> str | None:
    """Why `theme` cannot be applied to an app whose stylesheet is `stylesheet`, or None when it can.

    Tried on a copy, so the running app is untouched: the theme's colors must build, and the stylesheet, with
    the default CSS of every widget class loaded so far (a widget mounted later parses its CSS then), must
    parse with its variables.
    """
    try:
        variables = theme_variables(theme, defaults)
    except Exception as error:  # noqa: BLE001 - any failure of Textual's color system is the theme's
        return f"its colors cannot be built: {error}"
    for name, value in theme.variables.items():
        try:
            tokenize_values({name: value})
        except Exception as error:  # noqa: BLE001 - TokenError and its kin
            return f"variables.{name} = {value!r} is not CSS: {error}"
    trial = stylesheet.copy()
    for location, css in _widget_css():
        trial.add_source(css, read_from=location, is_default_css=True)
    trial.set_variables(variables)
    try:
        trial.reparse()
    except StylesheetParseError as error:
        return _parse_problem(error, variables)
    except Exception as error:  # noqa: BLE001 - reported, never raised into the console
        return f"the stylesheet does not parse with its variables: {error}"
    return None


def _widget_css() -> Iterator[tuple[tuple[str, str], str]]:
    """(location, css) of the DEFAULT_CSS of every widget class loaded, located as Textual locates them (so the
    app's own copy of a source is not parsed twice)."""
    from textual.widgets import HelpPanel  # noqa: F401 - the keys panel mounts late; load its CSS to check it

    pending: list[type[DOMNode]] = [DOMNode]
    seen: set[type[DOMNode]] = set()
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        pending.extend(cls.__subclasses__())
        css = cls.__dict__.get("DEFAULT_CSS", "")
        if css:
            try:
                path = inspect.getfile(cls)
            except (TypeError, OSError):
                path = ""
            yield (path, f"{cls.__name__}.DEFAULT_CSS"), css


def _parse_problem(error: StylesheetParseError, variables: Mapping[str, str]) -> str:
    """The first parse error, naming the variable that caused it when one did."""
    for rule in error.errors.rules:
        for token, message in rule.errors:
            reason = _plain(str(getattr(message, "summary", message)))
            if token.referenced_by is not None:
                name = token.referenced_by.name
                return f"variables.{name} = {variables.get(name, '')!r} breaks the stylesheet: {reason}"
            return f"the stylesheet does not parse with its variables: {reason}"
    return "the stylesheet does not parse with its variables"


def _plain(markup: str) -> str:
    """Textual's error summaries are Rich markup around text that may be the theme's own (and not markup)."""
    try:
        return Text.from_markup(markup).plain
    except Exception:  # noqa: BLE001 - MarkupError: show it as it is
        return markup
