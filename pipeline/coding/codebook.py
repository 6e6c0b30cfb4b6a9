"""The codebook: groups of leaf codes with definition, use_when, not_when and example.

The YAML shape (``configs/codebooks/*.yaml``)::

    codebook: {id, version, title, source}
    groups:
      - {id, label, definition, codes: [{id, label, definition, use_when, not_when, example}]}

Groups may nest (``groups:`` inside a group, as codebooks imported from a QDA program
do); only leaf codes are applied to text. A REFI-QDA ``.qdc`` is read by
:func:`pipeline.coding.refi.read_qdc` and gives the same model.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import PipelineError

ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_id(v: str) -> str:
    if not ID.match(v):
        raise ValueError(
            f"id '{v}' must start with a letter and hold only letters, digits, '.', '_' or '-'"
        )
    return v


class Code(_Model):
    """A leaf code: what coders apply to a stretch of text."""

    id: str
    label: str
    definition: str
    use_when: str = ""
    not_when: str = ""
    example: str = ""

    _id = field_validator("id")(_check_id)


class Group(_Model):
    id: str
    label: str
    definition: str = ""
    codes: list[Code] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)

    _id = field_validator("id")(_check_id)

    def leaves(self) -> Iterator[Code]:
        yield from self.codes
        for g in self.groups:
            yield from g.leaves()


class Meta(_Model):
    id: str
    version: str = "1"

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, v: object) -> object:
        return str(v) if isinstance(v, int | float) else v

    title: str = ""
    source: str = ""

    _id = field_validator("id")(_check_id)


class Codebook(_Model):
    codebook: Meta
    groups: list[Group] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Codebook:
        seen: set[str] = set()
        stack = list(self.groups)
        while stack:
            g = stack.pop()
            for i in [g.id, *(c.id for c in g.codes)]:
                if i in seen:
                    raise ValueError(f"id '{i}' is used twice (ids must be unique)")
                seen.add(i)
            stack += g.groups
        if not any(True for _ in self.leaves()):
            raise ValueError("the codebook has no leaf codes (a group needs 'codes:')")
        return self

    @property
    def id(self) -> str:
        return self.codebook.id

    @property
    def version(self) -> str:
        """``<id>@<version>+<digest>``: changes whenever any code's text changes."""
        return f"{self.codebook.id}@{self.codebook.version}+{self.digest[:12]}"

    @property
    def digest(self) -> str:
        """Over the codes and groups only (a title lost in a .qdc round trip keeps it)."""
        blob = json.dumps([g.model_dump(mode="json") for g in self.groups], sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def leaves(self) -> Iterator[Code]:
        for g in self.groups:
            yield from g.leaves()

    @property
    def codes(self) -> list[Code]:
        return list(self.leaves())

    def code(self, code_id: str) -> Code:
        for c in self.leaves():
            if c.id == code_id:
                return c
        raise KeyError(code_id)

    def to_yaml(self) -> str:
        data = self.model_dump(mode="json", exclude_defaults=True)
        data["codebook"] = self.codebook.model_dump(mode="json", exclude_defaults=True)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _where(err: Any) -> str:
    return ".".join(str(p) for p in err["loc"]) or "top level"


def codebook_from_dict(data: Any, path: str | Path) -> Codebook:
    if not isinstance(data, dict):
        raise PipelineError(
            f"{path}: not a codebook (expected a mapping with 'codebook:' and 'groups:').",
            hint="See configs/codebooks/social-interaction-policy.yaml for the format.",
        )
    try:
        return Codebook.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = str(err["msg"]).removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise PipelineError(
            f"{path}: invalid codebook at {_where(err)}: {msg}{more}.",
            hint="See configs/codebooks/social-interaction-policy.yaml for the format.",
        ) from None


def load_codebook(path: str | Path) -> Codebook:
    """A codebook YAML or a REFI-QDA ``.qdc``; a problem is one line naming the file."""
    path = Path(path)
    if path.suffix.lower() == ".qdc":
        from pipeline.coding.refi import read_qdc

        return read_qdc(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineError(f"{path}: codebook not found.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineError(
            f"{path}: codebook cannot be read ({exc.__class__.__name__})."
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise PipelineError(
            f"{path}: codebook is not valid YAML{where}.",
            hint="Fix the indentation or quoting there.",
        ) from None
    return codebook_from_dict(data, path)
