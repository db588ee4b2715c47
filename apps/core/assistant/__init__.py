"""The assistant: questions about the plan answered by a model that calls read-only tools.

`llm/` is the model behind it: the client for any OpenAI-compatible chat-completions
endpoint, its errors, and the bundled simulator (docs/assistant.md).
"""
