"""The one exception type for problems a user can cause and fix."""


class AssistantError(Exception):
    """A problem with the user's files or settings; the message names the file and the fix."""
