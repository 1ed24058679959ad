"""A model on a server: streaming chat completions from any OpenAI-compatible endpoint.

llama.cpp's ``llama-server``, llama-cpp-python's server, vLLM, Ollama and LM Studio all speak
this protocol; the official ``openai`` client does the HTTP. Only generation moves: retrieval,
prompt assembly, citation checks and refusals stay in the assistant's process.

Prompt budgeting needs token counts without the model file. The server is asked where it can
(llama.cpp's ``/tokenize``, llama-cpp-python's ``/extras/tokenize/count``, and llama.cpp's
``/props`` for a context smaller than ``ASSISTANT_N_CTX``); otherwise a count is estimated on
the safe side (an ASCII character is at least 0.4 tokens, any other character one
token), and a server that still rejects the prompt as too long gets a clear message.

Failures name the URL and what to check: a server that is down, too slow, refuses the key
(401), lacks the model or the endpoint (404) or fails (5xx); a stream that ends without the
server's "finished" mark is an interruption, raised as ``GenerationInterrupted`` so nothing
shows it as a complete answer. The API key is read from the environment
(``ASSISTANT_SERVER_API_KEY``) and never stored in settings, so it appears in no log, report or
page.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator

from assistant.errors import AssistantError
from assistant.llm.base import Messages

API_KEY_VARIABLE = "ASSISTANT_SERVER_API_KEY"
_TOKENIZE_PATHS = (("/tokenize", "content", "tokens"), ("/extras/tokenize/count", "input", "count"))
_MESSAGE_OVERHEAD = 8  # chat-template tokens around one message, counted generously


class GenerationInterrupted(AssistantError):
    """The model stopped before its answer was complete (the stream was cut)."""


class ServerGenerator:
    def __init__(
        self, base_url: str, *, model: str = "", timeout: float = 120.0, n_ctx: int = 2048
    ) -> None:
        import openai

        if not base_url:
            raise AssistantError(
                "No model server is set. Set ASSISTANT_SERVER_URL to the server's OpenAI-"
                "compatible address (for example http://127.0.0.1:8080/v1)."
            )
        import httpx

        self.url = base_url.rstrip("/")
        key = os.environ.get(API_KEY_VARIABLE)
        self._http = httpx.Client(  # the server's own endpoints beside the OpenAI ones
            base_url=self.url.removesuffix("/v1"),
            headers={"Authorization": f"Bearer {key}"} if key else {},
            timeout=10,
        )
        self._client = openai.OpenAI(
            base_url=self.url,
            api_key=key or "no-key",
            timeout=timeout,
            max_retries=0,
        )
        self._timeout = timeout
        self.name = model or self._first_model()
        self.backend = f"OpenAI-compatible server at {self.url}"
        self.n_ctx = min(n_ctx, self._server_context() or n_ctx)
        self._tokenizer: tuple[str, str, str] | None | bool = False  # False: not probed yet

    def _server_context(self) -> int | None:
        """The context size llama.cpp's server reports (``/props``); None elsewhere."""
        import httpx

        try:
            reply = self._http.get("/props", timeout=5)
            settings = reply.json().get("default_generation_settings", {})
        except (httpx.HTTPError, ValueError, AttributeError):
            return None
        size = settings.get("n_ctx") if isinstance(settings, dict) else None
        return size if isinstance(size, int) and size > 0 else None

    def _first_model(self) -> str:
        models = self._call(lambda: list(self._client.models.list()))
        if not models:
            raise AssistantError(
                f"The model server at {self.url} lists no model. Load one on the server, or "
                "set ASSISTANT_SERVER_MODEL."
            )
        return models[0].id

    def stream(
        self,
        messages: Messages,
        *,
        max_tokens: int,
        temperature: float,
        grammar: str | None = None,
    ) -> Iterator[str]:
        """The answer from the server; a ``grammar`` goes as llama.cpp's server reads it (its
        "grammar" field), which other OpenAI-compatible servers ignore or refuse."""
        import openai

        response = self._call(
            lambda: self._client.chat.completions.create(
                model=self.name,
                messages=messages,
                max_tokens=max_tokens,
                temperature=temperature,
                stream=True,
                extra_body={"grammar": grammar} if grammar else None,
            )
        )
        finished = False
        try:
            for chunk in response:
                choice = chunk.choices[0] if chunk.choices else None
                if choice is None:
                    continue
                if choice.delta is not None and choice.delta.content:
                    yield choice.delta.content
                finished = finished or choice.finish_reason is not None
        except (openai.APIError, OSError) as error:
            raise GenerationInterrupted(
                f"The model server at {self.url} stopped in the middle of the answer ({error}). "
                "Ask again; if it keeps happening, check the server's log."
            ) from None
        finally:
            response.close()
        if not finished:
            raise GenerationInterrupted(
                f"The model server at {self.url} ended the answer before it was complete. "
                "Ask again; if it keeps happening, check the server's log."
            )

    def count_tokens(self, text: str) -> int:
        counted = self._server_count(text)
        return counted if counted is not None else estimate_tokens(text)

    def prompt_tokens(self, messages: Messages) -> int:
        contents = [message["content"] for message in messages]
        counted = self._server_count("\n".join(contents))
        if counted is None:
            counted = sum(estimate_tokens(content) for content in contents)
        return counted + _MESSAGE_OVERHEAD * (len(messages) + 1)

    def _server_count(self, text: str) -> int | None:
        """The server's own token count, or None when it has no tokenize endpoint."""
        import httpx

        if self._tokenizer is False:
            self._tokenizer = self._probe_tokenizer()
        if self._tokenizer is None:
            return None
        path, field, answer = self._tokenizer
        try:
            reply = self._http.post(path, json={field: text})
            reply.raise_for_status()
        except httpx.HTTPError:
            return None
        value = reply.json()[answer]
        return value if isinstance(value, int) else len(value)

    def _probe_tokenizer(self) -> tuple[str, str, str] | None:
        import httpx

        for path, field, answer in _TOKENIZE_PATHS:
            try:
                reply = self._http.post(path, json={field: "probe"})
            except httpx.HTTPError:
                return None
            if reply.status_code == 200 and answer in reply.json():
                return path, field, answer
        return None

    def _call(self, request):
        """Run one request, turning the client's errors into messages that say what to check."""
        import openai

        try:
            return request()
        except openai.APITimeoutError:
            raise AssistantError(
                f"The model server at {self.url} did not answer within {self._timeout:g} s. "
                "Check that it is not overloaded, or raise ASSISTANT_SERVER_TIMEOUT."
            ) from None
        except openai.APIConnectionError:
            raise AssistantError(
                f"Cannot reach the model server at {self.url}. Check that it is running and "
                "that ASSISTANT_SERVER_URL is its OpenAI-compatible address (ending in /v1)."
            ) from None
        except openai.AuthenticationError:
            raise AssistantError(
                f"The model server at {self.url} refused the API key (401). Set the right key "
                f"in {API_KEY_VARIABLE}."
            ) from None
        except openai.NotFoundError:
            raise AssistantError(
                f"The model server at {self.url} answered 404: no model "
                f"'{getattr(self, 'name', '')}' or no chat endpoint there. Check "
                "ASSISTANT_SERVER_MODEL and that the address ends in /v1."
            ) from None
        except openai.BadRequestError as error:
            raise AssistantError(
                f"The model server at {self.url} rejected the request (400: {_said(error)}). "
                "If the prompt is too long, lower ASSISTANT_N_CTX to the server's context size."
            ) from None
        except openai.APIStatusError as error:
            raise AssistantError(
                f"The model server at {self.url} failed ({error.status_code}: {_said(error)}). "
                "Check the server's log."
            ) from None


def _said(error) -> str:
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        detail = body.get("error", body)
        message = detail.get("message") if isinstance(detail, dict) else detail
        return str(message)[:200]
    return str(error)[:200]


def estimate_tokens(text: str) -> int:
    """An upper estimate of the tokens of a text for tokenizers we cannot ask."""
    other = sum(1 for ch in text if not ch.isascii())
    return math.ceil((len(text) - other) * 0.4 + other)
