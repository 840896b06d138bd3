"""What a SIEM does with geniot's messages, written from the specifications and not from
geniot's code: split a CEF line into header and extensions and undo the escapes; parse RFC 5424
structured data; read RFC 6587 octet-counted frames."""

from __future__ import annotations

import re

_EXT_KEY = re.compile(r"(?:^| )([A-Za-z0-9_.\[\]]+)=")


def parse_cef(line: str) -> tuple[list[str], dict[str, str]]:
    """(the 7 header fields after ``CEF:0``, with ``CEF:0`` first; the extensions)."""
    assert line.startswith("CEF:"), line[:40]
    header, i, field, escaped = [], 0, [], False
    while len(header) < 7:
        ch = line[i]
        i += 1
        if escaped:
            assert ch in "\\|", f"header escape \\{ch} is not in the CEF specification"
            field.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "|":
            header.append("".join(field))
            field = []
        else:
            field.append(ch)
    return header, _extensions(line[i:])


def _extensions(text: str) -> dict[str, str]:
    # a key starts after a space (or the start) and ends at an unescaped '='; a value runs to the next key
    starts = []
    for m in _EXT_KEY.finditer(text):
        if _unescaped_at(text, m.end() - 1):
            starts.append(m)
    out = {}
    for n, m in enumerate(starts):
        end = starts[n + 1].start() if n + 1 < len(starts) else len(text)
        key = m.group(1)
        assert key not in out, f"extension key {key} twice"
        out[key] = _unescape_value(text[m.end():end])
    return out


def _unescaped_at(text: str, pos: int) -> bool:
    backslashes = 0
    while pos - 1 - backslashes >= 0 and text[pos - 1 - backslashes] == "\\":
        backslashes += 1
    return backslashes % 2 == 0


def _unescape_value(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            nxt = value[i + 1]
            out.append({"\\": "\\", "=": "=", "n": "\n", "r": "\r"}[nxt])
            i += 2
        else:
            assert ch not in "\r\n", "a raw line break inside a CEF value"
            assert ch != "=", f"an unescaped '=' inside a CEF value: {value!r}"
            out.append(ch)
            i += 1
    return "".join(out)


def parse_sd(text: str) -> dict[str, dict[str, str]]:
    """RFC 5424 STRUCTURED-DATA into {SD-ID: {name: value}}."""
    if text == "-":
        return {}
    out, i = {}, 0
    while i < len(text):
        assert text[i] == "[", text[i:]
        j = i + 1
        while text[j] not in " ]":
            j += 1
        sd_id, i = text[i + 1:j], j
        params = {}
        while text[i] == " ":
            eq = text.index("=", i)
            name = text[i + 1:eq]
            assert text[eq + 1] == '"'
            k, value = eq + 2, []
            while text[k] != '"':
                if text[k] == "\\" and text[k + 1] in '"\\]':
                    value.append(text[k + 1])
                    k += 2
                else:
                    assert text[k] != "]", "an unescaped ']' in a PARAM-VALUE"
                    value.append(text[k])
                    k += 1
            params[name] = "".join(value)
            i = k + 1
        assert text[i] == "]"
        out[sd_id] = params
        i += 1
    return out


def read_frames(data: bytes) -> list[bytes]:
    """Split RFC 6587 octet-counted frames (``LEN SP MSG``...); leftover bytes fail."""
    frames, i = [], 0
    while i < len(data):
        sp = data.index(b" ", i)
        length = int(data[i:sp])
        frames.append(data[sp + 1:sp + 1 + length])
        assert len(frames[-1]) == length, "a frame shorter than its count"
        i = sp + 1 + length
    return frames
