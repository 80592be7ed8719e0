"""systemd's splitting of command lines and `Environment=` values into words (systemd.syntax(7)).

Words are separated by whitespace; a word may contain double- or single-quoted parts; backslash
escapes are C-style (`\\n`, `\\t`, `\\\\`, `\\"`, `\\'`, `\\ `). An unterminated quote ends the last
word at the end of the line and is reported.
"""

from __future__ import annotations

_C_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", " ": " ", "s": " "}


def split_words(line: str) -> tuple[list[str], str | None]:
    """Split `line` into words; returns (words, error or None)."""
    words: list[str] = []
    cur: list[str] = []
    in_word = False
    quote: str | None = None
    i = 0
    while i < len(line):
        ch = line[i]
        if quote is not None:
            if ch == quote:
                quote = None
            elif ch == "\\" and i + 1 < len(line) and quote == '"':
                i += 1
                cur.append(_C_ESCAPES.get(line[i], "\\" + line[i]))
            else:
                cur.append(ch)
        elif ch in (" ", "\t", "\n"):
            if in_word:
                words.append("".join(cur))
                cur, in_word = [], False
        elif ch in ('"', "'"):
            quote, in_word = ch, True
        elif ch == "\\" and i + 1 < len(line):
            i += 1
            cur.append(_C_ESCAPES.get(line[i], line[i]))
            in_word = True
        else:
            cur.append(ch)
            in_word = True
        i += 1
    if in_word:
        words.append("".join(cur))
    return words, (f"unterminated {quote} quote" if quote else None)
