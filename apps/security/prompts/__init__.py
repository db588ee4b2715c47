"""The seed's validation of LLM requests, done right (README: Assistant).

- `injection`: prompts that are SQL-injection probes, refused (`prevent_injection`);
- `entropy`: prompts that are mostly random or encoded data, refused (`check_entropy`);
- `sanitize`: answers reduced to plain text or a small escaped Markdown subset;
- `serializers`: the one request serializer applying the seed's rules.
"""
