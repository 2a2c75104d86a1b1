"""The chat platforms: each adapter turns its platform's updates into
``handlers.chat_port`` messages for the engine, and the engine's replies into the
platform's own markup. Only this package imports telegram or slack_bolt."""
