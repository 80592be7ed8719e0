"""netsnap's own security-group format: JSON, or the small YAML subset documented here.

    format: netsnap-sg/1          # required first key
    group: sg-master              # group id (optional name: ...)
    stateful: true
    rules:
      - direction: ingress        # ingress | egress
        protocol: udp             # tcp | udp | icmp | any | a number
        ports: 8472               # 80, 8000-8080, or 22,80,443; omitted = all
        remote: 192.168.0.0/24    # a CIDR, or group:<id>; omitted = any
        action: allow             # allow | deny (default allow)
        priority: 1               # 1 = highest (default 100)

Only this shape is understood: top-level `key: value` lines, one `rules:` list whose items start
with `- key: value` and continue with indented `key: value` lines, `#` comments and quoted scalars.
The JSON form is the same object: `{"format": "netsnap-sg/1", "group": ..., "rules": [...]}`.
"""

from __future__ import annotations

FORMAT_TAG = "netsnap-sg/1"


class NativeSyntaxError(ValueError):
    """A line of the simple format that does not fit; the message names the line."""


def _scalar(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if " #" in text:
        text = text.split(" #", 1)[0].rstrip()
    return text


def _key_value(text: str, lineno: int) -> tuple[str, str]:
    if ":" not in text:
        raise NativeSyntaxError(f"line {lineno}: expected 'key: value'")
    key, _, value = text.partition(":")
    key = key.strip()
    if not key or " " in key:
        raise NativeSyntaxError(f"line {lineno}: bad key {key!r}")
    return key, _scalar(value)


def parse_simple_yaml(text: str) -> tuple[dict[str, object], dict[int, int]]:
    """Parse the subset into a dict; also return {rule index: 1-based line of its `-`}."""
    top: dict[str, object] = {}
    rules: list[dict[str, str]] = []
    rule_lines: dict[int, int] = {}
    in_rules = False
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indented = line[0] in " \t"
        if not indented:
            key, value = _key_value(stripped, lineno)
            if key == "rules":
                if value not in ("", "[]"):
                    raise NativeSyntaxError(f"line {lineno}: 'rules:' must be followed by a list")
                in_rules = True
                top["rules"] = rules
            else:
                in_rules = False
                top[key] = value
            continue
        if not in_rules:
            raise NativeSyntaxError(f"line {lineno}: indented line outside 'rules:'")
        if stripped.startswith("- ") or stripped == "-":
            rules.append({})
            rule_lines[len(rules) - 1] = lineno
            stripped = stripped[1:].strip()
            if not stripped:
                continue
        if not rules:
            raise NativeSyntaxError(f"line {lineno}: rule fields before the first '- '")
        key, value = _key_value(stripped, lineno)
        rules[-1][key] = value
    return top, rule_lines
