"""A program file's header: the comment lines at its top, with keys such as `# example:`, `# example-tokens:` and
`# generate: stop .` (described in programs/README.md). Text only, so that anything may read it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .inputs import split_input

_HEADER_LINE = re.compile(r"#\s*([a-z-]+):\s*(.*)")


@dataclass
class Header:
    title: str
    fields: dict[str, str]

    @property
    def example(self) -> tuple[list, bool] | None:
        """The example input and whether it is a string of characters."""
        if "example-tokens" in self.fields:
            return split_input(self.fields["example-tokens"], whitespace=True), False
        if "example" in self.fields:
            return split_input(self.fields["example"]), True
        return None

    @property
    def stop(self) -> object | None:
        """The stop token of a next-token program (`# generate: stop .`), else None."""
        words = self.fields.get("generate", "").split()
        return split_input(words[1], whitespace=True)[0] if len(words) == 2 and words[0] == "stop" else None


def read_header(source: str) -> Header:
    lines = []
    for line in source.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    title = lines[0].lstrip("# ").strip() if lines else ""
    fields = {}
    for line in lines[1:]:
        match = _HEADER_LINE.match(line)
        if match:
            fields[match.group(1)] = match.group(2).strip()
    return Header(title, fields)
