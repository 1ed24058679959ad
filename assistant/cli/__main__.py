"""`python -m assistant.cli ...` runs the same commands as `assistant ...`."""

from assistant.cli.main import app

app()
