"""Bad theme files never stop the console: refused when read, or when they would not apply, and skipped on every
way of switching (start, ctrl+t, the palette's theme picker, App.theme)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.theme import Theme

from pixel_tui.paths import Paths
from pixel_tui.ui.themes import ThemeError, builtin_themes, parse_theme
from tests.ui.helpers import make_app, replay, until

GOOD = 'name = "{name}"\nprimary = "#336699"\ndark = true\n'


def _paths(tmp_path: Path, **files: str) -> Paths:
    """Paths under `tmp_path`, with `files` (stem -> text) in the themes dir."""
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "state")
    paths.themes_dir.mkdir(parents=True)
    for stem, text in files.items():
        (paths.themes_dir / f"{stem}.toml").write_text(text)
    return paths


def _notes(app: object) -> list[str]:
    return [str(note.message) for note in app._notifications]  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1.5", "-0.1"])
@pytest.mark.parametrize("key", ["luminosity_spread", "text_alpha"])
def test_numbers_must_be_finite_and_from_0_to_1(key: str, value: str) -> None:
    with pytest.raises(ThemeError, match=re.escape(f"t.toml: {key}: expected a number from 0 to 1")):
        parse_theme(f'name = "x"\nprimary = "#fff"\n{key} = {value}\n', "t.toml")
    assert parse_theme(f'name = "x"\nprimary = "#fff"\n{key} = 0.5\n', "t.toml")


def test_every_builtin_theme_applies() -> None:
    """The built-ins are registered unchecked (startup time): this is their check."""
    app, _ = make_app()
    stylesheet = app.stylesheet  # App.__init__ reads the app's CSS; widgets add theirs in `theme_problem`
    stylesheet.read_all(app.css_path)
    for theme in builtin_themes().themes:
        assert app.theme_problem(theme) is None, theme.name


BAD_FILES = {
    "nan": ("luminosity_spread = nan", "luminosity_spread: expected a number from 0 to 1, got nan"),
    "colour": (
        '[variables]\nblock-cursor-foreground = "not a colour"',
        "variables.block-cursor-foreground = 'not a colour' breaks the stylesheet",
    ),
    "brace": ('[variables]\nunused = "{"', "variables.unused = '{' is not CSS"),
    # Only the keys panel's Markdown uses it: it would break when the panel opens, long after the start.
    "late": ('[variables]\nmarkdown-h1-color = "zz"', "variables.markdown-h1-color = 'zz' breaks the stylesheet"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
async def test_a_theme_that_cannot_apply_is_reported_and_skipped_at_start(tmp_path: Path, case: str) -> None:
    extra, reason = BAD_FILES[case]
    paths = _paths(tmp_path, bad=GOOD.format(name="bad") + extra + "\n", mine=GOOD.format(name="mine"))
    app, _ = make_app(paths=paths, theme="bad")
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot, 1)
        assert app.theme == "pixel-dark"  # the fallback
        assert "bad" not in app.available_themes and "bad" not in app.theme_names and "mine" in app.theme_names
        notes = _notes(app)
        assert any(note.startswith(f"{paths.themes_dir / 'bad.toml'}: {reason}") for note in notes), notes
        assert "no usable theme named 'bad'; using pixel-dark" in notes
        for _ in range(len(app.theme_names) + 1):  # ctrl+t goes round the good ones
            await pilot.press("ctrl+t")
            await pilot.pause()
        app.action_show_help_panel()  # the late case's widget
        await pilot.pause()
        assert app.is_running


async def test_a_broken_user_theme_does_not_take_the_builtin_of_that_name_with_it(tmp_path: Path) -> None:
    paths = _paths(tmp_path, mine=GOOD.replace("{name}", "pixel-light") + '[variables]\nprimary = "nope"\n')
    app, _ = make_app(paths=paths, theme="pixel-light")
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot, 1)
        assert app.theme == "pixel-light"
        assert app.current_theme == builtin_themes().themes[1]  # the shipped one
        assert any("mine.toml: variables.primary = 'nope'" in note for note in _notes(app))


BROKEN = Theme(name="broken", primary="#336699", variables={"block-cursor-foreground": "not a colour"})
"""A theme that reaches the app without passing the file check (registered directly)."""


async def test_setting_a_theme_that_does_not_apply_keeps_the_current_one() -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot, 1)
        await pilot.press("ctrl+t")
        assert app.theme == "pixel-light"
        app.register_theme(BROKEN)
        app.theme = "broken"
        await pilot.pause()
        assert app.theme == "pixel-light" and app.is_running
        assert "broken" not in app.available_themes
        assert any(note.startswith("broken: variables.block-cursor-foreground") for note in _notes(app))
        app.theme = "textual-light"  # Textual's own themes are checked too, and pass
        await pilot.pause()
        assert app.theme == "textual-light"


async def test_ctrl_t_skips_a_theme_that_does_not_apply() -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot, 1)
        app.register_theme(BROKEN)
        app.theme_names = ("pixel-dark", "broken", "pixel-light")
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert app.theme == "pixel-light" and app.theme_names == ("pixel-dark", "pixel-light")
        assert any(note.startswith("broken: ") for note in _notes(app))


async def test_the_palette_theme_picker_skips_a_theme_that_does_not_apply() -> None:
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await replay(pilot, 1)
        app.register_theme(BROKEN)
        app.action_change_theme()
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"broken")
        await pilot.pause(0.3)  # the palette searches in a worker
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, CommandPalette))
        await pilot.pause()
        assert app.theme == "pixel-dark" and app.is_running
        assert any(note.startswith("broken: ") for note in _notes(app))
