"""Mutations of spec text: token edits, truncation, hostile characters and deep nesting.

Tokens are found by a small regex that knows strings, comments, words and numbers (not the
grammar's lexer: a mutation must be able to break what the lexer would refuse).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

_TOKEN = re.compile(r'"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|//[^\n]*|[A-Za-z_][A-Za-z0-9_]*'
                    r"|[0-9][0-9.]*[A-Za-z%]*|\s+|.", re.DOTALL)
# Characters that break naive text handling: NUL, BOM, bidi marks, line separators, lone
# surrogates (halves of a pair), an astral character, CR alone, form feed, combining marks.
HOSTILE = ["\x00", "\ufeff", "\u200f", "\u202e", "\u2066", "\u2028", "\u2029", "\x85",
           "\ud83d", "\ude00", "\U0001f389", "\r", "\r\n", "\x0c", "\t", "\u0301", "\x1b[31m",
           "\uffff", "\U0010ffff", "é", "\U0001d518", '"', '"""', "\\", "{", "}", "(", "///", "//"]
# Pieces that are valid somewhere in the language.
FRAGMENTS = [" ref ", " by ", " on ", ":", "?", "[]", "<", ">", ",", ".", "..", "@", "@@",
             " v2", " 1.2.3", " 10ms", " 25%", " 10MB", " 1.5", " -", " not ", " and ", " or ",
             " in ", " == ", " -> ", " = ", "\n}\n", "\nentity X {\n", "\nmodule m\n", " self.",
             " actor ", " now ", " null ", "\"s\"", "\n/// doc\n"]


def tokens(text: str) -> list[str]:
    """`text` cut into tokens and whitespace runs; their concatenation is `text`."""
    return _TOKEN.findall(text)


def _solid(parts: list[str]) -> list[int]:
    return [i for i, part in enumerate(parts) if not part.isspace()] or [0]


def delete_token(text: str, rng: random.Random) -> str:
    parts = tokens(text)
    if parts:
        del parts[rng.choice(_solid(parts))]
    return "".join(parts)


def duplicate_token(text: str, rng: random.Random) -> str:
    parts = tokens(text) or [""]
    i = rng.choice(_solid(parts))
    parts.insert(i, parts[i] + rng.choice(["", " "]))
    return "".join(parts)


def swap_tokens(text: str, rng: random.Random) -> str:
    parts = tokens(text) or [""]
    solid = _solid(parts)
    i, j = rng.choice(solid), rng.choice(solid)
    parts[i], parts[j] = parts[j], parts[i]
    return "".join(parts)


def move_token(text: str, rng: random.Random) -> str:
    parts = tokens(text) or [""]
    part = parts.pop(rng.choice(_solid(parts)))
    parts.insert(rng.randrange(len(parts) + 1), part)
    return "".join(parts)


def truncate(text: str, rng: random.Random) -> str:
    return text[: rng.randrange(len(text) + 1)]


def insert(text: str, rng: random.Random, pool: list[str]) -> str:
    at = rng.randrange(len(text) + 1)
    return text[:at] + rng.choice(pool) + text[at:]


def insert_hostile(text: str, rng: random.Random) -> str:
    return insert(text, rng, HOSTILE)


def insert_fragment(text: str, rng: random.Random) -> str:
    return insert(text, rng, FRAGMENTS)


def insert_random_characters(text: str, rng: random.Random) -> str:
    """A run of random code points (any plane, surrogates included), as bytes decoded with
    `surrogateescape` would also give."""
    run = "".join(chr(rng.choice([rng.randrange(0x80), rng.randrange(0x800),
                                  rng.randrange(0x110000)])) for _ in range(rng.randint(1, 8)))
    return insert(text, rng, [run])


def line_endings(text: str, rng: random.Random) -> str:
    return text.replace("\n", rng.choice(["\r\n", "\r", "\n\r", "\u2028", "\x85", "\x0b"]))


def deep_nesting(text: str, rng: random.Random) -> str:
    """A deeply nested or very long construct put at a random place (depth 50 to 5000)."""
    depth = rng.choice([50, 200, 1000, 5000])
    pieces = [
        "(" * depth + "x" + ")" * depth,
        "(" * depth,
        "[" * depth + "x" + "]" * depth,
        "{" * depth + "}" * depth,
        "{" * depth,
        "not " * depth + "x",
        "- " * depth + "1",
        " or ".join(["x"] * depth),
        " + ".join(["1"] * depth),
        ".".join(["a"] * depth),
        "f(" * depth + ")" * depth,
        "\n".join(["entity E {"] * depth),
        "/// doc\n" * depth,
        "page<" * depth + "X" + ">" * depth,
    ]
    piece = rng.choice(pieces)
    if rng.random() < 0.5:
        piece = f"\npolicy Deal {{\n  read: {piece}\n}}\n"
    return insert(text, rng, [piece])


Mutation = Callable[[str, random.Random], str]
MUTATIONS: dict[str, Mutation] = {
    "delete": delete_token, "duplicate": duplicate_token, "swap": swap_tokens,
    "move": move_token, "truncate": truncate, "hostile": insert_hostile,
    "fragment": insert_fragment, "random": insert_random_characters,
    "line_endings": line_endings, "nesting": deep_nesting,
}


def mutate(text: str, rng: random.Random, count: int) -> tuple[str, list[str]]:
    """`count` random mutations applied in turn; the text and their names."""
    applied = []
    for _ in range(count):
        name = rng.choice(sorted(MUTATIONS))
        text = MUTATIONS[name](text, rng)
        applied.append(name)
    return text, applied
