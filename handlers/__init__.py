"""Platform-neutral conversation and command logic.

Handlers talk to people only through the chat seam in ``handlers.chat_port`` and
to the database only through ``storage``; they never import telegram or
slack_bolt.

- ``engine``: every delivery from any platform, once; routing.
- ``browse``: /mine and its filters; ``status_update``: the update dialogue
  and its correction; ``snooze``; ``validate``: an institution's validator.
- ``requests``: information requests sent and answered in chat.
- ``reminders/``: when to write to whom (working time, the plan, messages,
  the service that fills the outbox).
- ``summaries``: progress, overdue and missing, per institution or cluster.
"""
