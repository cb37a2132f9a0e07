"""Run the fake model server standalone: `python -m tests.fakellm --port 8089`.

Every model answers with a short, plausible opinion, streamed at a readable pace, so an
operator can try `council-bot console` offline. Point `council.toml` at the printed URLs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from tests.fakellm.scripts import demo_script
from tests.fakellm.server import FakeLLM

_CONFIG_HINT = """\
Serving OpenAI, Anthropic and Gemini wire formats at {url}; any model name works.
In council.toml (no keys needed):

[providers.fake_openai]
kind = "openai"
base_url = "{url}/v1"

[providers.fake_anthropic]
kind = "anthropic"
base_url = "{url}"

[providers.fake_gemini]
kind = "gemini"
base_url = "{url}"

Press Ctrl+C to stop."""


async def serve(host: str, port: int) -> None:
    """Serve until cancelled."""
    async with FakeLLM(default=demo_script(), host=host, port=port) as fake:
        print(_CONFIG_HINT.format(url=fake.url), flush=True)
        await asyncio.Event().wait()


def main() -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakellm", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8089, help="port (default 8089; 0 = any)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
