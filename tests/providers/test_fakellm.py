"""The fake model server itself: thread mode, non-streaming replies, standalone mode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.fakellm import FakeLLM, Fault, ModelScript, demo_script

ROOT = Path(__file__).resolve().parents[2]


def test_runs_in_a_background_thread_for_blocking_clients() -> None:
    with FakeLLM(default=demo_script()) as fake:
        response = httpx.post(
            f"{fake.base_url('openai')}/chat/completions",
            json={"model": "any", "messages": [{"role": "user", "content": "Trams?"}]},
        )
        assert response.status_code == 200
        assert "Trams?" in response.json()["choices"][0]["message"]["content"]
        assert fake.requests_for("any")[0].last_user_text() == "Trams?"
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{fake.url}/v1/messages", json={})


def test_start_in_thread_returns_the_url_and_faults_strike_in_order() -> None:
    fake = FakeLLM()
    url = fake.start_in_thread()
    try:
        fake.script("m", reply="Fine.", faults=[Fault.http(503)])
        body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
        statuses = [
            httpx.post(f"{url}/v1beta/models/m:generateContent", json=body).status_code
            for _ in range(2)
        ]
        assert statuses == [503, 200]
    finally:
        fake.stop_thread()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/v1/messages",
            {"model": "m", "max_tokens": 50, "messages": [{"role": "user", "content": "Hi"}]},
        ),
        (
            "/v1beta/models/m:generateContent",
            {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]},
        ),
    ],
)
async def test_non_streaming_requests_get_one_json_reply(
    fake_llm: FakeLLM, path: str, body: dict[str, object]
) -> None:
    fake_llm.script("m", ModelScript(reply=["first", "second"]))
    async with httpx.AsyncClient(headers={"anthropic-version": "2023-06-01"}) as client:
        texts = [(await client.post(f"{fake_llm.url}{path}", json=body)).text for _ in range(3)]
    assert "first" in texts[0]
    assert "second" in texts[1]
    assert "second" in texts[2]  # the last reply repeats


def test_standalone_mode_prints_its_urls_and_serves() -> None:
    command = [sys.executable, "-m", "tests.fakellm", "--port", "0"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().split(" at ")[1].split(";")[0]
            response = httpx.post(
                f"{url}/v1/chat/completions",
                json={"model": "m", "messages": [{"role": "user", "content": "Bikes?"}]},
            )
            assert response.status_code == 200
            assert "Bikes?" in response.json()["choices"][0]["message"]["content"]
        finally:
            process.terminate()
