"""The application: configuration, command line, and (later) the scheduler and chat adapters."""
