"""An answer grammar: llama.cpp constrained decoding that keeps the answer's form.

With ``GenerationSettings.answer_grammar`` on, the model may only write what the prompt asks
for (GBNF, llama.cpp's grammar format):

- the refusal sentence of the prompt, exactly; or
- prose: sentences, each followed by the marker of a shown passage ("... trained. [2]"); or
- a list: an optional lead-in line ending with a colon, then "- item [n]" lines.

A line cannot end without a marker, a marker can only name a passage that was shown (at most
three markers in a row), and the prompt's delimiters ``<<<`` and ``>>>`` cannot be echoed. The
words themselves are free, so several sentences may share one marker. Off by default: measured
in evaluation/README.md (issue 10, eleventh pass), where it gives no better answers and
generation runs at about 60% of its speed.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=16)
def answer_grammar(passages: int, refusal: str) -> str:
    """The GBNF grammar for an answer citing passages 1..``passages`` (at most 9)."""
    if not 1 <= passages <= 9:
        raise ValueError("the answer grammar names passages 1 to 9")
    quoted = refusal.strip().replace("\\", "\\\\").replace('"', '\\"')
    number = "[1]" if passages == 1 else f"[1-{passages}]"
    return "\n".join(
        [
            f'root   ::= "{quoted}" | (text ":\\n")? (items | prose)',
            'prose  ::= sent (" " sent)*',
            'items  ::= item ("\\n" item)*',
            'item   ::= "- " text " " cite "."?',
            'sent   ::= text " " cite "."?',
            "text   ::= [^\\[\\]\\n<>]+",
            f'cite   ::= "[" {number} "]" ("[" {number} "]")? ("[" {number} "]")?',
        ]
    )
