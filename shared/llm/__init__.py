"""LLMs behind OpenAI-compatible endpoints: providers, a retrying client, usage, prompts.

`resolve_model` (shared.model) builds an `LLMSceneModel` from here for any model string
`provider/model`; the stages never import this package directly except to build the
per-process `LLMClients`.
"""
