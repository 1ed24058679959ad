"""Private, local question answering over a folder of documents, with cited passages."""

from assistant.config import Settings
from assistant.errors import AssistantError

__all__ = ["AssistantError", "Settings"]
