"""Tests of the Textual console."""
