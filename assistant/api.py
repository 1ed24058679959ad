"""The assistant as an HTTP API: OpenAI-compatible chat completions over grounded answers.

``assistant serve`` runs this FastAPI app with uvicorn over one ``Assistant``. Any OpenAI client
or chat front end can use the grounded assistant as a "model" (``local-assistant``):

- ``POST /v1/chat/completions``, streaming (server-sent events) or not. The last user message
  is the question; earlier user messages are replayed as the conversation, so follow-ups are
  read as the app reads them. The reply's text ends with numbered sources, for clients that
  ignore extras; the extra field ``assistant`` holds the record: verified text, refusal and its
  reason, citations (document, page, span, passage, verified or not), unsupported sentences,
  the standalone question, the model and its backend. A stream carries the model's draft as it
  is written; when checking changed it, the last content chunk says what the check found, and
  the ``assistant`` record arrives on the final chunk. An error in the middle of a stream is an
  ``error`` event (OpenAI clients raise it), never a finished answer.
- ``GET /v1/models``; ``POST /v1/search`` (retrieval only); ``GET /v1/index`` (status) and
  ``POST /v1/index/sync``; ``GET /health`` (no key, for load balancers).

A bearer key (``ASSISTANT_API_KEY``) is required on every route but ``/health`` whenever one is
set. There is one model, so answers run one at a time: a request waits in a bounded queue and
gets a 503 with ``Retry-After`` when the queue is full. A client that disconnects stops its
generation (the stream is closed, so the model stops at the next token).
"""

from __future__ import annotations

import asyncio
import json
import queue
import secrets
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from assistant.answer import Answer
from assistant.conversation import Conversation
from assistant.errors import AssistantError
from assistant.pipeline import Assistant

MODEL_ID = "local-assistant"
POLL_S = 0.25  # how often a waiting response checks whether its client is still there


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.kind, self.headers = status, message, kind, headers


class ChatMessage(BaseModel):
    role: str
    content: str | list | None = None


class ChatRequest(BaseModel):
    model: str = MODEL_ID
    messages: list[ChatMessage]
    stream: bool = False


class SearchRequest(BaseModel):
    query: str = Field(min_length=1)
    top_k: int | None = Field(None, ge=1, le=50)


class SyncRequest(BaseModel):
    rebuild: bool = False


class ModelQueue:
    """One answer at a time; at most ``max_waiting`` more wait, the rest are turned away."""

    def __init__(self, max_waiting: int) -> None:
        self.max_waiting = max_waiting
        self._model = threading.Lock()
        self._count = 0
        self._count_lock = threading.Lock()

    def reserve(self) -> None:
        with self._count_lock:
            if self._count > self.max_waiting:
                raise ApiError(
                    503,
                    f"The assistant is busy: one answer is running and {self.max_waiting} are "
                    "waiting. Retry in a few seconds.",
                    "server_busy",
                    {"Retry-After": "5"},
                )
            self._count += 1

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the model; the reservation is released when the turn ends."""
        try:
            with self._model:
                yield
        finally:
            with self._count_lock:
                self._count -= 1

    def load(self) -> dict:
        with self._count_lock:
            return {"running": min(self._count, 1), "waiting": max(self._count - 1, 0)}


class AnswerRun:
    """One question answered in a worker thread; pieces and the outcome arrive on a queue."""

    def __init__(self, assistant: Assistant, model_queue: ModelQueue, messages: list) -> None:
        self.question, self.earlier = split_messages(messages)
        self._assistant, self._queue = assistant, model_queue
        self.events: queue.Queue = queue.Queue()
        self.stop = threading.Event()
        self.standalone = self.question
        model_queue.reserve()
        threading.Thread(target=self._produce, daemon=True).start()

    def _produce(self) -> None:
        with self._queue.turn():
            try:
                if self.stop.is_set():  # the client left while waiting for the model
                    return
                conversation = Conversation.replay(self.earlier)
                stream = conversation.ask(self.question, assistant=self._assistant)
                self.standalone = conversation.turns[-1].rewrite.standalone
                pieces = iter(stream)
                for piece in pieces:
                    if self.stop.is_set():
                        pieces.close()  # the model stops at its next token
                        return
                    self.events.put(("piece", piece))
                self.events.put(("answer", stream.answer))
            except AssistantError as error:
                self.events.put(("error", str(error)))
            except Exception as error:  # the client gets an error event, not a hang
                self.events.put(("error", f"The assistant failed: {type(error).__name__}"))
            finally:
                self.events.put(("end", None))

    async def events_until_done(self, request: Request) -> AsyncIterator[tuple[str, object]]:
        """The events in order; stops (and stops the model) when the client goes away."""
        try:
            while True:
                try:
                    kind, value = await asyncio.to_thread(self.events.get, True, POLL_S)
                except queue.Empty:
                    if await request.is_disconnected():
                        return
                    continue
                if kind == "end":
                    return
                yield kind, value
        finally:
            self.stop.set()


def split_messages(messages: list[ChatMessage]) -> tuple[str, list[str]]:
    """(the last user message, the user messages before it)."""
    asked = [_text(message.content) for message in messages if message.role == "user"]
    asked = [text for text in asked if text.strip()]
    if not asked:
        raise ApiError(400, "The messages hold no user question.", "invalid_request_error")
    return asked[-1], asked[:-1]


def _text(content: str | list | None) -> str:
    if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


def answer_record(answer: Answer, standalone: str) -> dict:
    """The ``assistant`` extra field: the grounded answer with its evidence."""
    record = answer.to_dict()
    del record["prompt"]
    return {**record, "standalone_question": standalone}


def sources_text(answer: Answer) -> str:
    """Numbered sources for clients that show only the message text."""
    if not answer.citations:
        return ""
    title = "Closest passages" if answer.refused else "Sources"
    marks = {True: " (verified)", False: " (not verified)", None: ""}
    lines = [f"[{c.marker}] {c.hit.chunk.label()}{marks[c.verified]}" for c in answer.citations]
    return f"\n\n{title}:\n" + "\n".join(lines)


def check_note(answer: Answer) -> str:
    """What verification changed about the streamed draft, as text appended to the stream."""
    if not answer.draft or answer.text.strip() == answer.draft.strip():
        return ""  # what streamed is the answer (a refusal made before the model ran, too)
    if answer.refused and answer.refusal_reason is not None and answer.draft:
        reason = answer.refusal_reason.explanation
        return f"\n\n(Not an answer: {reason}.) {answer.text}"
    return f"\n\n(Checked against the passages: {answer.text})"


def create_app(assistant: Assistant, *, api_key: str | None, max_waiting: int = 8) -> FastAPI:
    app = FastAPI(title="Local document assistant", version="1")
    model_queue = ModelQueue(max_waiting)

    def authorized(request: Request) -> None:
        if not api_key:
            return
        given = request.headers.get("authorization", "")
        if not secrets.compare_digest(given.encode(), f"Bearer {api_key}".encode()):
            raise ApiError(401, "A valid API key is required (Authorization: Bearer ...).",
                           "invalid_api_key")  # fmt: skip

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> JSONResponse:
        body = {"error": {"message": error.message, "type": error.kind, "code": error.status}}
        return JSONResponse(body, status_code=error.status, headers=error.headers)

    @app.exception_handler(AssistantError)
    async def assistant_error(request: Request, error: AssistantError) -> JSONResponse:
        body = {"error": {"message": str(error), "type": "assistant_error", "code": 500}}
        return JSONResponse(body, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        message = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        body = {"error": {"message": message, "type": "invalid_request_error", "code": 400}}
        return JSONResponse(body, status_code=400)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", **model_queue.load()}

    @app.get("/v1/models", dependencies=[Depends(authorized)])
    def models() -> dict:
        model = {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "local"}
        return {"object": "list", "data": [model]}

    @app.post("/v1/search", dependencies=[Depends(authorized)])
    def search(body: SearchRequest) -> dict:
        hits, retrieval_ms = assistant.retriever.retrieve(
            body.query, body.top_k or assistant.settings.retrieval.top_k
        )
        return {"object": "list", "data": [h.to_dict() for h in hits], "retrieval_ms": retrieval_ms}

    @app.get("/v1/index", dependencies=[Depends(authorized)])
    def index_status() -> dict:
        status = assistant.status()
        return {
            "up_to_date": status.up_to_date,
            "exists": status.index_exists,
            **{name: getattr(status, name) for name in ("new", "changed", "removed", "skipped")},
            "documents": len(status.unchanged),
        }

    @app.post("/v1/index/sync", dependencies=[Depends(authorized)])
    def sync(body: SyncRequest) -> dict:
        return assistant.sync(rebuild=body.rebuild).to_dict()

    @app.post("/v1/chat/completions", dependencies=[Depends(authorized)])
    async def chat_completions(request: Request, body: ChatRequest):
        run = AnswerRun(assistant, model_queue, body.messages)
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if body.stream:
            events = _sse(run, request, completion_id)
            return StreamingResponse(events, media_type="text/event-stream")
        return await _complete(run, request, completion_id)

    return app


async def _complete(run: AnswerRun, request: Request, completion_id: str) -> JSONResponse:
    answer = None
    async for kind, value in run.events_until_done(request):
        if kind == "error":
            raise ApiError(502, str(value), "assistant_error")
        if kind == "answer":
            answer = value
    if answer is None:  # the client went away; nobody reads this
        return JSONResponse({}, status_code=499)
    message = {"role": "assistant", "content": answer.text + sources_text(answer)}
    return JSONResponse(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": MODEL_ID,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": _usage(answer),
            "assistant": answer_record(answer, run.standalone),
        }
    )


async def _sse(run: AnswerRun, request: Request, completion_id: str) -> AsyncIterator[str]:
    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        body = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    async for kind, value in run.events_until_done(request):
        if kind == "piece":
            yield chunk({"content": value})
        elif kind == "error":
            error = {"message": str(value), "type": "assistant_error", "code": 502}
            yield f"data: {json.dumps({'error': error}, ensure_ascii=False)}\n\n"
            return
        else:
            answer: Answer = value
            yield chunk({"content": check_note(answer) + sources_text(answer)})
            record = answer_record(answer, run.standalone)
            yield chunk({}, "stop", usage=_usage(answer), assistant=record)
            yield "data: [DONE]\n\n"


def _usage(answer: Answer) -> dict:
    prompt, completion = answer.timings.prompt_tokens, answer.timings.completion_tokens
    total = prompt + completion
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}
