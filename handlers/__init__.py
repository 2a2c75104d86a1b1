"""Platform-neutral conversation and command logic.

Handlers talk to people only through the chat seam in ``bot.chat_port`` and
to the database only through ``storage``; they never import telegram or
slack_bolt. The conversations themselves arrive with issue 3.
"""
