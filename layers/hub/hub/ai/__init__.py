"""AI model providers (Anthropic, OpenAI, Gemini, Replicate) behind one request/response shape."""
