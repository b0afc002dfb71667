"""Locked decoding: per-token byte tables, the policy's token state machine, engine adapters.

``lock()`` picks the adapter for what it is given. Heavy parts (numpy, llama-cpp-python,
transformers) are optional and imported lazily: importing this package loads none of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langlock.policy import Policy


def lock(
    target: Any,
    lang: str = "ru",
    preset: str = "strict",
    allow_scripts: tuple[str, ...] | frozenset[str] = (),
    latin_bias: float | None = None,
    policy: Policy | None = None,
    open_native: bool = False,
) -> Any:
    """A logits processor that keeps ``target``'s generations in ``lang``.

    ``target`` is a loaded ``llama_cpp.Llama`` (gives a ``LlamaCppLock``, for
    ``logits_processor=``, bare or in a list) or a Hugging Face tokenizer (gives a
    ``TransformersLock`` for ``model.generate(logits_processor=LogitsProcessorList([...]))``).
    ``allow_scripts`` opens scripts the prompt legitimately asks for (``("Han",)``);
    ``latin_bias`` tunes the soft penalty on Latin in prose under ``standard``. Either lock
    fails closed: a step it cannot mask leaves only the end of text.
    """
    from langlock.policy import Policy, script_name

    policy = policy or Policy.from_options(lang=lang, preset=preset)
    scripts = frozenset(script_name(s) for s in allow_scripts)
    if hasattr(target, "n_vocab") and hasattr(target, "model_path"):
        from langlock.decoding.llama_cpp import LlamaCppLock, table_for_llama
        from langlock.decoding.state import LockMasks

        table = table_for_llama(target)
        masks = LockMasks(
            table, policy, allow_scripts=scripts, latin_bias=latin_bias, open_native=open_native
        )
        return LlamaCppLock(masks, end_ids=(int(target.token_eos()),))
    if hasattr(target, "backend_tokenizer"):
        from langlock.decoding.state import LockMasks
        from langlock.decoding.transformers import TransformersLock, table_for_tokenizer

        table = table_for_tokenizer(target)
        masks = LockMasks(
            table, policy, allow_scripts=scripts, latin_bias=latin_bias, open_native=open_native
        )
        eos = getattr(target, "eos_token_id", None)
        return TransformersLock(masks, end_ids=() if eos is None else (int(eos),))
    raise TypeError(
        f"cannot lock a {type(target).__name__}: pass a llama_cpp.Llama or a Hugging Face "
        "fast tokenizer (PreTrainedTokenizerFast)"
    )


__all__ = ["lock"]
