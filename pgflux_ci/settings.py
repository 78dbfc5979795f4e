"""pgflux.toml in the action: read it, merge it with the inputs, and plan with it as pg-flux does.

The action behaves as `pg-flux plan` / `migrate apply` / `drift` with the same config file:

- the file is the `config` input (relative to the workspace), else `pgflux.toml` at the
  workspace root when it exists, else the defaults; a missing explicit file or an invalid one is
  an error naming the file and the key path (engine.config's own messages);
- an input left at its default yields to the file: `schema-dir` to the selected [[targets]]
  entry's `schema_dir`, then to the top-level `schema_dir`; `tracking-schema` to
  `tracking_schema`; `fail-on` to `hazards.fail_on`. An input set to anything else wins;
- `manage_ownership`, `shadow_roles`, `objects` and `hazards.allow` have no input: they come from
  the file, and apply to the plan, its verification, the hazard gate and drift exactly as in the
  CLI, because planning goes through the CLI's own pipeline (engine.cli).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict

from engine.apply import refused_hazards
from engine.config import DEFAULT_PATH, Config, load_config, parse_hazard_codes
from engine.diff.context import PlanOptions
from engine.errors import ConfigError
from engine.plan.build import PlanResult, build_plan
from engine.plan.model import Hazard, HazardCode, Plan, Severity
from engine.shadow import Shadow
from pgflux_ci.context import ActionInputs, FailOn

DEFAULT_TARGET = "default"


class ActionConfigError(ConfigError):
    """pgflux.toml is missing or invalid; `file` is its path relative to the workspace."""

    def __init__(self, message: str, *, file: str, details: str | None = None) -> None:
        super().__init__(message, details=details)
        self.file = file


class HazardGate(BaseModel):
    """Which hazards fail the check: not allowed by code, and at or above `fail_on`."""

    model_config = ConfigDict(frozen=True)

    fail_on: Severity | None = Severity.HIGH  # None: no hazard fails (fail-on: none)
    allowed: frozenset[HazardCode] = frozenset()
    from_config: bool = False  # fail_on came from pgflux.toml's hazards.fail_on

    @classmethod
    def of(cls, value: FailOn | HazardGate) -> HazardGate:
        if isinstance(value, HazardGate):
            return value
        return cls(fail_on=None if value is FailOn.NONE else Severity(value.value))

    @property
    def rank(self) -> int | None:
        """The lowest failing severity rank; None when nothing fails on severity."""
        return None if self.fail_on is None else self.fail_on.rank

    def fails(self, hazard: Hazard) -> bool:
        rank = self.rank
        return rank is not None and hazard.code not in self.allowed and hazard.severity.rank >= rank

    def failing(self, plan: Plan) -> int:
        """How many of the plan's hazards fail the check (engine.apply's refusal rule)."""
        if self.fail_on is None:
            return 0
        return len(refused_hazards(plan, self.allowed, self.fail_on))

    def describe(self) -> str:
        value = "none" if self.fail_on is None else self.fail_on.value
        return f"fail-on={value}" + (" (pgflux.toml hazards.fail_on)" if self.from_config else "")


class PlanSettings(BaseModel):
    """What planning needs in every mode, inputs and pgflux.toml merged."""

    model_config = ConfigDict(frozen=True)

    dsn: str
    schema_dir: Path  # where the files are read (absolute under the workspace, or as given)
    schema_dir_input: str = "schema"  # as in the repository: maps load paths to repo paths
    shadow: str = "embedded"
    tracking_schema: str = "_pgflux"
    target: str = DEFAULT_TARGET
    config: Config = Config()
    gate: HazardGate = HazardGate()

    def plan_options(self) -> PlanOptions:
        """The CLI's defaults (lock_timeout 3 s, no statement_timeout) with the config's
        ownership management and verification mode, as `pg-flux plan --config` would plan."""
        return PlanOptions(manage_ownership=self.config.manage_ownership, verify=self.config.verify)

    def plan_in(self, shadow: Shadow) -> PlanResult:
        """Plan production -> schema/ in `shadow` as `pg-flux plan` does with this config: object
        filter on both sides, shadow roles, ownership, verification."""
        return build_plan(
            self.schema_dir,
            self.dsn,
            shadow=shadow,
            options=self.plan_options(),
            tracking_schema=self.tracking_schema,
            extra_roles=self.config.shadow_roles,
            objects=self.config.objects,
        )

    @classmethod
    def resolve(
        cls,
        *,
        dsn: str,
        base: Path,
        config_path: str | None,
        schema_dir: str | None,
        tracking_schema: str | None,
        fail_on: FailOn | None,
        shadow: str = "embedded",
        target: str = DEFAULT_TARGET,
        **extra: Any,
    ) -> Self:
        """Merge: `None` means the input or flag was left at its default, so the file decides.
        Relative paths (config, schema dirs) are relative to `base` (the workspace)."""
        config = read_config(config_path, base)
        written = schema_dir if schema_dir is not None else _config_schema_dir(config, target)
        path = Path(written)
        gate = HazardGate.of(fail_on if fail_on is not None else FailOn.HIGH)
        if fail_on is None and config.hazards.fail_on is not None:
            gate = HazardGate(fail_on=config.hazards.fail_on, from_config=True)
        allowed = frozenset(parse_hazard_codes(list(config.hazards.allow)))
        return cls(
            dsn=dsn,
            schema_dir=path if path.is_absolute() else base / path,
            schema_dir_input=written,
            shadow=shadow,
            tracking_schema=tracking_schema or config.tracking_schema,
            target=target,
            config=config,
            gate=gate.model_copy(update={"allowed": allowed}),
            **extra,
        )

    @classmethod
    def from_inputs(cls, inputs: ActionInputs, workspace: Path, **extra: Any) -> Self:
        """From the action's inputs; an input equal to its default counts as not given (the
        runner fills action.yml's defaults in, so "left at the default" looks like that)."""
        return cls.resolve(
            dsn=inputs.database_url.get_secret_value(),
            base=workspace,
            config_path=inputs.config,
            schema_dir=_unless_default(inputs, "schema_dir"),
            tracking_schema=_unless_default(inputs, "tracking_schema"),
            fail_on=_unless_default(inputs, "fail_on"),
            shadow=inputs.shadow,
            target=inputs.target,
            **extra,
        )


def _unless_default(inputs: ActionInputs, field: str) -> Any:
    value = getattr(inputs, field)
    return None if value == ActionInputs.model_fields[field].default else value


def _config_schema_dir(config: Config, target: str) -> str:
    """The selected [[targets]] entry's schema_dir, else the top-level one. A target the file
    does not list is an error, except the default target (a file may list only a fleet)."""
    chosen = None
    if config.targets and (
        target != DEFAULT_TARGET or any(t.name == target for t in config.targets)
    ):
        try:
            chosen = config.target(target)
        except ConfigError as exc:
            raise _named(exc, config.source) from None
    return (chosen.schema_dir if chosen and chosen.schema_dir else config.schema_dir).as_posix()


def read_config(config_path: str | None, base: Path) -> Config:
    """`config_path` (relative to `base`), else `base`/pgflux.toml when present, else defaults."""
    explicit = bool(config_path and config_path.strip())
    written = Path(config_path.strip()) if config_path and explicit else DEFAULT_PATH
    path = written if written.is_absolute() else base / written
    if not explicit and not path.exists():
        return Config()
    try:
        config = load_config(path)
    except ConfigError as exc:
        raise _named(exc, path, written) from None
    return config.model_copy(update={"source": written})


def _named(exc: ConfigError, path: Path | None, written: Path | None = None) -> ActionConfigError:
    """The engine's message, with the file named as the repository knows it."""
    shown = (written or path or DEFAULT_PATH).as_posix()

    def fix(text: str) -> str:
        return text.replace(str(path), shown) if path is not None else text

    return ActionConfigError(
        fix(exc.message), file=shown, details=fix(exc.details) if exc.details else None
    )
