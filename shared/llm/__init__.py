"""Generic plumbing for LLMs behind OpenAI-compatible endpoints: no prompts, no stages.

Providers and one SDK client per endpoint (`providers`), a retrying, metered chat and
embedding client (`client`), JSON answers validated and re-asked (`structured`), token
usage and cost (`usage`), prompt files (`prompts`) and Prometheus metrics (`metrics`).
The planner's and the coder's models (services/*/models/llm.py) are built on it. It
imports no broker, job view or tracing, so a model can be used and tested on its own.
"""
