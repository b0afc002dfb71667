"""Collection settings for the doctest run over ``src``: the vLLM adapter imports vLLM at
module level (its classes subclass vLLM's), so outside a vLLM environment it is not
collected; ``make test-vllm`` runs it in one."""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("vllm") else ["src/langlock/decoding/vllm.py"]
