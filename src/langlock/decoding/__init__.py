"""Locked decoding: per-token byte tables, the policy's token state machine, engine adapters.

Heavy parts (numpy, llama-cpp-python, transformers) are optional and imported lazily.
"""
