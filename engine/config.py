"""`pgflux.toml`: read with tomllib, validated by pydantic; errors name the key path.

    schema_dir = "schema"
    tracking_schema = "_pgflux"
    manage_ownership = false
    verify = "auto"                      # or "whole": never verify on the plan's scope alone
    shadow_roles = ["app_reader"]        # roles created in the shadow before loading schema/
    [hazards]
    allow = ["INDEX_BUILD", "NON_TRANSACTIONAL"]
    fail_on = "high"                     # refuse any hazard at or above this severity
    [objects]
    include = ["public.*"]               # fnmatch patterns on `schema.name`
    exclude = ["public.tmp_*"]
    [[targets]]
    name = "eu"; dsn_env = "EU_DATABASE_URL"; schema_dir = "schema"

CLI flags override what the file says.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.diff.context import VerifyMode
from engine.errors import ConfigError
from engine.model.base import SchemaObject
from engine.model.schema import OBJECT_FIELDS, Schema
from engine.plan.model import HazardCode, Severity

DEFAULT_PATH = Path("pgflux.toml")

VALID_CODES = tuple(c.value for c in HazardCode)


def parse_hazard_codes(values: list[str] | tuple[str, ...]) -> tuple[HazardCode, ...]:
    """Hazard codes from text; an unknown one raises ValueError naming the valid codes."""
    codes: list[HazardCode] = []
    for value in values:
        text = value.strip()
        if not text:
            continue
        if text not in VALID_CODES:
            raise ValueError(f'unknown hazard code "{text}" (valid: {", ".join(VALID_CODES)})')
        codes.append(HazardCode(text))
    return tuple(codes)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HazardPolicy(_Strict):
    allow: tuple[str, ...] = ()
    fail_on: Severity | None = None

    @field_validator("allow", mode="after")
    @classmethod
    def _codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for index, code in enumerate(value):
            if code not in VALID_CODES:
                # Raised per item so the key path ends in [index].
                raise ValueError(f'[{index}]: unknown hazard code "{code}"')
        return value


class ObjectFilter(_Strict):
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def selects(self, name: str) -> bool:
        if self.include and not any(fnmatch.fnmatchcase(name, p) for p in self.include):
            return False
        return not any(fnmatch.fnmatchcase(name, p) for p in self.exclude)


class Target(_Strict):
    name: str = Field(min_length=1)
    dsn_env: str = Field(min_length=1)
    schema_dir: Path | None = None


class Config(_Strict):
    schema_dir: Path = Path("schema")
    tracking_schema: str = Field(default="_pgflux", min_length=1)
    manage_ownership: bool = False
    verify: VerifyMode = "auto"
    shadow_roles: tuple[str, ...] = ()
    hazards: HazardPolicy = HazardPolicy()
    objects: ObjectFilter = ObjectFilter()
    targets: tuple[Target, ...] = ()
    # Where the file was read from (None: defaults).
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("targets", mode="after")
    @classmethod
    def _unique_targets(cls, value: tuple[Target, ...]) -> tuple[Target, ...]:
        names = [t.name for t in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate target name(s): {', '.join(duplicates)}")
        return value

    def target(self, name: str) -> Target:
        for target in self.targets:
            if target.name == name:
                return target
        raise ConfigError(f"{self.source or DEFAULT_PATH}: no target named {name!r}")


def _key_path(location: tuple[int | str, ...]) -> str:
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + part
    return text


def _format_errors(path: Path, exc: ValidationError) -> tuple[str, str]:
    lines = []
    for error in exc.errors():
        key = _key_path(tuple(error["loc"]))
        message = error["msg"].removeprefix("Value error, ")
        if message.startswith("["):
            # Our per-item messages carry the index: `allow[1]: ...`.
            index, _, message = message.partition(": ")
            key += index
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"{path}: {key}: {message}")
    return lines[0], "\n".join(lines[1:])


def load_config(path: Path | None) -> Config:
    """The config at `path`; `None` reads ./pgflux.toml when present, else defaults."""
    explicit = path is not None
    path = path or DEFAULT_PATH
    if not path.exists():
        if explicit:
            raise ConfigError(f"{path}: no such config file")
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        first, rest = _format_errors(path, exc)
        raise ConfigError(first, details=rest or None) from None
    return config.model_copy(update={"source": path})


def _filter_name(obj: SchemaObject) -> str | None:
    key = obj.key
    if key.schema_ is None:
        return None
    return f"{key.schema_}.{key.parent if key.parent is not None else key.name}"


def filter_schema(schema: Schema, objects: ObjectFilter) -> Schema:
    """Only the objects `objects` selects, matched on `schema.name` (table-scoped objects on their
    table's name). Database-wide objects (schemas, extensions, ...) are matched on their name
    against `exclude` only: an include list of `app.*` keeps schema app itself."""
    if not objects.include and not objects.exclude:
        return schema

    def keep(obj: SchemaObject) -> bool:
        name = _filter_name(obj)
        if name is None:
            return not any(fnmatch.fnmatchcase(obj.key.name, p) for p in objects.exclude)
        return objects.selects(name)

    update = {f: tuple(o for o in getattr(schema, f) if keep(o)) for f in OBJECT_FIELDS}
    kept = {o.key for f in OBJECT_FIELDS for o in update[f]}
    deps = tuple(d for d in schema.dependencies if d.dependent in kept and d.referenced in kept)
    filtered = schema.model_copy(update=update | {"dependencies": deps})
    # Leaving objects out keeps the order the planner relies on.
    return filtered.mark_ordered() if schema.is_ordered else filtered
