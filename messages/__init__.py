"""What the bot says, one catalog per language.

The catalogs themselves arrive with the conversations (issue 3). What lives
here already is the list of languages the bot speaks, so that configuration,
imports and the CLI can refuse a focal point whose language has no catalog.
"""

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "fr", "es")
DEFAULT_LANGUAGE = "en"
