"""Running BRENT as a service: ``bin/service`` (launchd on macOS, systemd on Linux) and its templates.

Nothing in the bot imports this package; it is run by the project's own venv python.
"""
