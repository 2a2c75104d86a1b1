"""Local stand-ins of the Telegram Bot API and the Slack APIs, for the tests and the demo."""
