"""`assistant serve`: the grounded assistant behind an OpenAI-compatible API, called with the
real `openai` client over HTTP (uvicorn on a free loopback port, started inside the test)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest
import uvicorn
from typer.testing import CliRunner

from assistant.api import MODEL_ID, create_app
from assistant.cli import app as cli_app
from assistant.config import Settings
from assistant.llm import GenerationInterrupted, ScriptedGenerator
from assistant.pipeline import Assistant

KEY = "test-key-123"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Running:
    """An ASGI app served by uvicorn in a thread, until ``stop``."""

    def __init__(self, app) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class SlowGenerator(ScriptedGenerator):
    """Streams a long reply slowly and records how far it got (to see generation stop)."""

    def __init__(self, words: int = 200, delay: float = 0.02) -> None:
        super().__init__(" ".join(["Bees make honey [1]."] + ["more"] * words))
        self.delay, self.yielded = delay, 0

    def stream(self, messages, *, max_tokens, temperature):
        for piece in super().stream(messages, max_tokens=max_tokens, temperature=temperature):
            time.sleep(self.delay)
            self.yielded += 1
            yield piece


class CutGenerator(ScriptedGenerator):
    def stream(self, messages, *, max_tokens, temperature):
        yield "Bees make"
        raise GenerationInterrupted("The model server at http://x/v1 ended the answer early.")


@pytest.fixture
def bees_corpus(corpus, monkeypatch):
    monkeypatch.setenv("ASSISTANT_MIN_SCORE", "0.0")
    (corpus / "bees.md").write_text("# Bees\n\nBees make honey from nectar.\n", encoding="utf-8")
    (corpus / "llamas.txt").write_text("Llamas carry loads in the Andes.\n", encoding="utf-8")
    return corpus


@pytest.fixture
def serve(bees_corpus) -> Iterator:
    servers = []

    def start(generator=None, *, api_key=KEY, max_waiting=8):
        assistant = Assistant(Settings(), generator=generator or ScriptedGenerator())
        assistant.sync()
        server = Running(create_app(assistant, api_key=api_key, max_waiting=max_waiting))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def client(server, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0, timeout=30)


def ask(server, text: str = "What do bees make?", **options):
    messages = [{"role": "user", "content": text}]
    return client(server).chat.completions.create(model=MODEL_ID, messages=messages, **options)


def test_models_and_health(serve):
    server = serve()
    assert [m.id for m in client(server).models.list()] == [MODEL_ID]
    health = httpx.get(f"{server.url}/health")  # no key: for load balancers
    assert health.status_code == 200 and health.json()["status"] == "ok"


def test_a_completion_carries_its_sources_as_text_and_as_a_record(serve):
    completion = ask(serve())
    text = completion.choices[0].message.content
    assert text.startswith("Scripted answer [1].") and "\n\nSources:\n[1] bees.md, Bees" in text
    record = completion.model_extra["assistant"]
    citation = record["citations"][0]
    assert {"document", "page", "start", "end", "text", "verified"} <= set(citation)
    assert citation["document"] == "bees.md" and record["refused"] is False
    assert record["backend"] == "scripted test double" and "prompt" not in record


def test_a_streamed_completion_arrives_in_pieces_then_the_record(serve):
    chunks = list(ask(serve(), stream=True))
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content.startswith("Scripted answer [1].") and "Sources:" in content
    assert len(chunks) > 4 and chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["assistant"]["citations"][0]["marker"] == 1


def test_a_refusal_made_before_the_model_runs_streams_once(serve):
    chunks = list(ask(serve(), "What is the MMLU score of bees?", stream=True))
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content.count("The documents don't mention MMLU") == 1
    record = chunks[-1].model_extra["assistant"]
    assert record["refused"] and record["refusal_reason"] == "unmentioned"


def test_earlier_messages_make_a_follow_up_standalone(serve):
    messages = [
        {"role": "user", "content": "What do bees make?"},
        {"role": "assistant", "content": "Honey [1]."},
        {"role": "user", "content": "and llamas?"},
    ]
    completion = client(serve()).chat.completions.create(model=MODEL_ID, messages=messages)
    standalone = completion.model_extra["assistant"]["standalone_question"]
    assert standalone != "and llamas?" and "llamas" in standalone.lower()


def test_a_wrong_key_is_refused_and_no_key_is_needed_for_health(serve):
    server = serve()
    with pytest.raises(openai.AuthenticationError, match="valid API key"):
        client(server, key="wrong").models.list()
    unauthenticated = httpx.get(f"{server.url}/v1/models")  # no Authorization header
    assert unauthenticated.status_code == 401


def test_concurrent_clients_all_get_complete_answers(serve):
    server = serve(SlowGenerator(words=10, delay=0.01))
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: ask(server), range(6)))
    for completion in answers:
        assert completion.choices[0].finish_reason == "stop"
        assert completion.model_extra["assistant"]["citations"]


def test_a_full_queue_gets_a_clear_503(serve):
    server = serve(SlowGenerator(words=300, delay=0.01), max_waiting=0)
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(ask, server)
        time.sleep(0.5)
        with pytest.raises(openai.InternalServerError) as refused:
            ask(server)
        assert refused.value.status_code == 503 and "busy" in str(refused.value)
        assert refused.value.response.headers["retry-after"] == "5"
        assert running.result().choices[0].finish_reason == "stop"


def test_a_client_that_disconnects_stops_its_generation(serve):
    generator = SlowGenerator(words=400, delay=0.02)
    server = serve(generator)
    body = {"model": MODEL_ID, "stream": True, "messages": [{"role": "user", "content": "Bees?"}]}
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.stream("POST", f"{server.url}/v1/chat/completions", json=body, headers=headers) as r:
        for _ in zip(range(5), r.iter_lines(), strict=False):
            pass
    time.sleep(1.5)
    stopped_at = generator.yielded
    time.sleep(0.5)
    assert generator.yielded == stopped_at < 300  # stopped, long before the reply's end
    assert httpx.get(f"{server.url}/health").json()["running"] == 0


def test_an_interrupted_generation_is_an_error_not_an_answer(serve):
    server = serve(CutGenerator())
    with pytest.raises(openai.APIError, match="ended the answer early"):
        list(ask(server, stream=True))
    with pytest.raises(openai.APIStatusError, match="ended the answer early"):
        ask(server)


def test_search_index_status_and_sync(serve):
    server = serve()
    headers = {"Authorization": f"Bearer {KEY}"}
    found = httpx.post(f"{server.url}/v1/search", json={"query": "honey"}, headers=headers)
    assert found.status_code == 200 and found.json()["data"][0]["document"] == "bees.md"
    status = httpx.get(f"{server.url}/v1/index", headers=headers).json()
    assert status["up_to_date"] and status["documents"] == 2
    synced = httpx.post(f"{server.url}/v1/index/sync", json={}, headers=headers).json()
    assert synced["documents"] == 2 and synced["embedded"] == 0
    bad = httpx.post(f"{server.url}/v1/search", json={"query": ""}, headers=headers)
    assert bad.status_code == 400 and "query" in bad.json()["error"]["message"]


def test_serving_beyond_this_machine_without_a_key_is_refused(bees_corpus, monkeypatch):
    monkeypatch.delenv("ASSISTANT_API_KEY", raising=False)
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 1 and "without an API key" in result.output
