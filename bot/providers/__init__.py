"""Model providers over one shared httpx client: OpenAI-compatible, Anthropic and Gemini."""
