"""The model on an OpenAI-compatible server: a scripted stand-in server for every failure a
user can meet, and llama-cpp-python's real server with the default GGUF end to end."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.llm import GenerationInterrupted, ServerGenerator, load_generator
from assistant.llm.server import API_KEY_VARIABLE, estimate_tokens
from assistant.pipeline import Assistant
from tests.conftest import REAL_MODEL_CACHE
from tests.test_api import Running, free_port

REPLY = ["Bees ", "make ", "honey ", "[1]."]


def stand_in(behaviour: dict) -> FastAPI:
    """A small OpenAI-compatible server whose answers the test scripts."""
    app = FastAPI()

    def refused(request: Request):
        wanted = behaviour.get("key")
        if wanted and request.headers.get("authorization") != f"Bearer {wanted}":
            return JSONResponse({"error": {"message": "bad key"}}, status_code=401)
        return None

    @app.get("/v1/models")
    def models(request: Request):
        return refused(request) or {"data": [{"id": "stand-in-model", "object": "model"}]}

    @app.get("/props")
    def props():
        if not behaviour.get("n_ctx"):
            return JSONResponse({"error": "no"}, status_code=404)
        return {"default_generation_settings": {"n_ctx": behaviour["n_ctx"]}}

    @app.post("/tokenize")
    async def tokenize(request: Request):
        if not behaviour.get("tokenize"):
            return JSONResponse({"error": "no"}, status_code=404)
        text = (await request.json())["content"]
        return {"tokens": list(range(len(text.split())))}

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        behaviour["requests"] = behaviour.get("requests", 0) + 1
        behaviour["body"] = await request.json()
        mode = behaviour.get("mode", "ok")
        if denied := refused(request):
            return denied
        if mode in ("404", "500"):
            return JSONResponse({"error": {"message": f"mode {mode}"}}, status_code=int(mode))
        if mode == "slow":
            time.sleep(3)

        def events():
            pieces = REPLY if mode != "cut" else REPLY[:2]
            for piece in pieces:
                delta = {"choices": [{"index": 0, "delta": {"content": piece}}]}
                yield f"data: {_json(delta)}\n\n"
            if mode != "cut":
                done = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                yield f"data: {_json(done)}\n\ndata: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


def _json(value) -> str:
    import json

    return json.dumps({"id": "x", "object": "chat.completion.chunk", "created": 0, **value})


@pytest.fixture
def server():
    behaviour: dict = {}
    running = Running(stand_in(behaviour))
    running.behaviour = behaviour
    yield running
    running.stop()


def generator(server, **options) -> ServerGenerator:
    return ServerGenerator(f"{server.url}/v1", **options)


def stream(generator: ServerGenerator) -> str:
    messages = [{"role": "user", "content": "Bees?"}]
    return "".join(generator.stream(messages, max_tokens=16, temperature=0.0))


def test_answers_come_from_the_server_and_record_it(server, corpus, monkeypatch):
    (corpus / "bees.md").write_text("# Bees\n\nBees make honey.\n", encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_MIN_SCORE", "0.0")
    settings = Settings().with_overrides(generator="server", server_url=f"{server.url}/v1")
    assistant = Assistant(settings)
    assistant.sync()
    answer = assistant.ask("What do bees make?").run()
    assert answer.draft == "Bees make honey [1]." and not answer.refused
    assert answer.model == "stand-in-model"
    assert answer.backend == f"OpenAI-compatible server at {server.url}/v1"
    assert answer.to_dict()["backend"] == answer.backend


def test_an_answer_grammar_goes_to_the_server_as_llama_cpp_reads_it(server):
    remote = generator(server)
    assert stream(remote) == "Bees make honey [1]."
    assert "grammar" not in server.behaviour["body"]
    messages = [{"role": "user", "content": "Bees?"}]
    grammar = 'root ::= "Bees."'
    "".join(remote.stream(messages, max_tokens=16, temperature=0.0, grammar=grammar))
    assert server.behaviour["body"]["grammar"] == grammar


def test_a_server_that_is_down_is_named_with_what_to_check():
    with pytest.raises(AssistantError, match=r"Cannot reach the model server at http://127\.0"):
        ServerGenerator(f"http://127.0.0.1:{free_port()}/v1")


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("404", "answered 404: no model 'stand-in-model' or no chat endpoint"),
        ("500", r"failed \(500: mode 500\). Check the server's log"),
    ],
)
def test_server_errors_become_messages(server, mode, message):
    server.behaviour["mode"] = mode
    with pytest.raises(AssistantError, match=message):
        stream(generator(server))


def test_a_refused_key_says_which_setting_and_never_shows_the_key(server, monkeypatch):
    server.behaviour["key"] = "right-key"
    monkeypatch.setenv(API_KEY_VARIABLE, "wrong-secret-key")
    with pytest.raises(
        AssistantError, match=f"refused the API key \\(401\\).*{API_KEY_VARIABLE}"
    ) as e:
        generator(server)
    assert "wrong-secret-key" not in str(e.value)
    monkeypatch.setenv(API_KEY_VARIABLE, "right-key")
    assert stream(generator(server)) == "Bees make honey [1]."
    settings = Settings().with_overrides(generator="server", server_url=f"{server.url}/v1")
    assert "right-key" not in settings.model_dump_json()


def test_a_cut_stream_is_an_interruption_not_an_answer(server):
    server.behaviour["mode"] = "cut"
    with pytest.raises(GenerationInterrupted, match="ended the answer before it was complete"):
        stream(generator(server))


def test_a_slow_server_times_out_with_the_setting_to_raise(server):
    server.behaviour["mode"] = "slow"
    with pytest.raises(AssistantError, match="did not answer within 1 s.*ASSISTANT_SERVER_TIMEOUT"):
        stream(generator(server, timeout=1.0))


def test_tokens_are_counted_by_the_server_where_it_can(server):
    text = "one two three four"
    assert generator(server).count_tokens(text) == estimate_tokens(text) == 8
    server.behaviour["tokenize"] = True
    assert generator(server).count_tokens(text) == 4
    assert estimate_tokens("日本語") == 3  # a character the estimate cannot split is a token


def test_a_smaller_server_context_bounds_the_prompt(server):
    assert generator(server, n_ctx=4096).n_ctx == 4096
    server.behaviour["n_ctx"] = 1024
    assert generator(server, n_ctx=4096).n_ctx == 1024


# --- llama-cpp-python's own server with the default GGUF ------------------------------------


@pytest.fixture(scope="module")
def llama_server(real_generator, tmp_path_factory):
    """`python -m llama_cpp.server` with the default model on a free loopback port."""
    from assistant.llm import default_model_path

    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model"]
    command += [str(default_model_path(REAL_MODEL_CACHE)), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--n_ctx", "2048", "--n_threads", "2"]
    command += ["--api_key", "server-secret", "--verbose", "False"]
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with log.open("wb") as output:  # a file, not a pipe: a full pipe would stall the server
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            headers = {"Authorization": "Bearer server-secret"}
            if httpx.get(f"{url}/v1/models", headers=headers, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail(f"llama_cpp.server did not start: {log.read_text()[-2000:]}")
    yield f"{url}/v1"
    process.terminate()
    process.wait(timeout=30)


@pytest.mark.real
def test_the_real_llama_cpp_server_answers_with_verified_citations(
    llama_server, default_corpus, real_embedder, monkeypatch
):
    monkeypatch.setenv(API_KEY_VARIABLE, "server-secret")
    settings = Settings().with_overrides(
        embedder="default", generator="server", server_url=llama_server, max_tokens=80
    )
    remote = load_generator(settings.generation)
    assert remote.count_tokens("Open models") == 2  # the server's own tokenizer answered
    assistant = Assistant(settings, embedder=real_embedder, generator=remote)
    assistant.sync()
    stream = assistant.ask(
        "What did Capital Fund Management use Hugging Face Inference Endpoints for?"
    )
    pieces = list(stream)
    answer = stream.answer
    assert len(pieces) > 1 and not answer.refused and "label" in answer.text.lower()
    assert any(c.verified for c in answer.citations)
    assert answer.backend == f"OpenAI-compatible server at {llama_server}"
    assert "server-secret" not in str(answer.to_dict())
