"""Platform-neutral conversation and command logic.

Handlers talk to people only through the chat seam in ``bot.chat_port`` and
to the database only through ``storage``; they never import telegram or
slack_bolt. ``engine`` takes every delivery; ``browse`` is /mine and its
filters; ``status_update`` is the step-by-step update and its correction.
"""
