"""`pg-flux pull --out DIR`: the live schema as a schema/ tree, one file per object.

The input is the plan that builds the live schema in an empty database (what `dump` prints), as
planner steps in their dependency order. The loader runs files in byte-wise path order, so:

- Each object gets one file, `<schema>/<NN>_<kind>/<name>.sql`, where NN orders a schema's kinds
  as the plan first creates them; database-wide objects (schemas, extensions, ...) go in
  `_database/`, which sorts before every lower-case schema name.
- A statement of an object that needs something the plan creates after the object itself
  (`ALTER SEQUENCE ... OWNED BY` needs its table, `REPLICA IDENTITY USING INDEX` its index,
  `ATTACH PARTITION` its parent) is split off into a *post* file, and so is every file whose
  folder would load it before something it needs (a function returning a table's row type, a
  trigger calling a function of a later-sorted schema). Post files go in `zz_post/`, which sorts
  after the schema folders, numbered in plan order: `zz_post/0001_<schema>.<kind>.<name>.sql`.
- When even that cannot work (a schema folder that sorts after `zz_post/` holding something a
  post file needs, two objects whose names are spelled alike in file names), every file gets a
  global number in plan order instead (`NNNN_<schema>.<kind>.<name>.sql`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.diff.handler import Step
from engine.errors import UsageError
from engine.model.base import ObjectKey
from engine.model.schema import Schema
from engine.plan.model import ObjectRef

DATABASE_FOLDER = "_database"
POST_FOLDER = "zz_post"


@functools.lru_cache(maxsize=1 << 12)
def _safe(name: str) -> str:
    """A file-system-safe spelling of an identifier (not SQL: only used for file names)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip(".") or "_"
    return cleaned[:100]


@dataclass
class _Unit:
    """The statements of one object that go in one file; `post` ones load after the rest."""

    key: ObjectKey
    post: bool
    positions: list[int] = field(default_factory=list)  # plan positions of its steps

    @property
    def first(self) -> int:
        return self.positions[0]

    @functools.cached_property
    def folder(self) -> str:
        return _safe(self.key.schema_ or DATABASE_FOLDER)

    @functools.cached_property
    def name(self) -> str:
        return _safe(ObjectRef.of(self.key).name)

    @property
    def stem(self) -> str:
        return f"{self.folder}.{self.key.kind}.{self.name}"


class _Units:
    """The plan's steps cut into files, and what each file needs loaded before it."""

    def __init__(self, steps: Sequence[Step], live: Schema) -> None:
        self.steps = steps
        positions: dict[ObjectKey, list[int]] = {}
        for index, step in enumerate(steps):
            positions.setdefault(step.key, []).append(index)
        self.positions = positions
        # A constraint's index has the constraint's name and no statement of its own.
        self.constraint_of_index = {
            ObjectKey(kind="index", schema_=c.key.schema_, name=c.key.name): c.key
            for c in live.constraints
        }
        self._made: dict[ObjectKey, int | None] = {}
        self.units: list[_Unit] = []
        self.unit_of: list[int] = [0] * len(steps)  # plan position -> unit index
        for key, indices in sorted(positions.items(), key=lambda item: item[1][0]):
            self._split(key, indices)
        self.units.sort(key=lambda unit: unit.first)
        for number, unit in enumerate(self.units):
            for index in unit.positions:
                self.unit_of[index] = number
        self.needs = self._needs(live)

    def _first_made(self, key: ObjectKey) -> int | None:
        """Plan position of the step that makes `key` exist (its first one that is more than a
        comment, grant or OWNED BY); a column made inside CREATE TABLE is made by its table, the
        index of a constraint by the constraint."""
        known = self._made.get(key, -1)
        if known != -1:
            return known
        made = next((i for i in self.positions.get(key, ()) if not self.steps[i].incidental), None)
        if made is None:
            maker = self.constraint_of_index.get(key) or key.table_key
            made = self._first_made(maker) if maker is not None and maker != key else None
        self._made[key] = made
        return made

    def _split(self, key: ObjectKey, indices: list[int]) -> None:
        main = _Unit(key=key, post=False)
        post = _Unit(key=key, post=True)
        start = indices[0]
        for index in indices:
            step = self.steps[index]
            late = any(
                (made := self._first_made(required)) is not None
                and made > start
                and self.steps[made].key != key
                for required in step.requires
            )
            # After a split-off step, the object's own later steps follow it (they may build on
            # it); comments, grants and owners need only the object and stay with it.
            if index != start and (late or (post.positions and not step.incidental)):
                post.positions.append(index)
            else:
                main.positions.append(index)
        self.units.append(main)
        if post.positions:
            self.units.append(post)

    def _maker(self, key: ObjectKey) -> int | None:
        made = self._first_made(key)
        return None if made is None else self.unit_of[made]

    def _needs(self, live: Schema) -> list[set[int]]:
        needs: list[set[int]] = [set() for _ in self.units]

        def add(dependent: int | None, referenced: Iterable[ObjectKey]) -> None:
            if dependent is None:
                return
            for key in referenced:
                maker = self._maker(key)
                if maker is not None and maker != dependent:
                    needs[dependent].add(maker)

        for number, unit in enumerate(self.units):
            add(number, [unit.key])
            if unit.key.table_key is not None:
                add(number, [unit.key.table_key])
            for index in unit.positions:
                add(number, self.steps[index].requires)
        for dep in live.dependencies:
            add(self._maker(dep.dependent), [dep.referenced])
        for obj in live.objects():
            # A column implies only its table, which every unit of a table-scoped key needs
            # already (above); there are many columns.
            if obj.kind != "column":
                add(self._maker(obj.key), obj.implied_deps())
        main_of = {unit.key: number for number, unit in enumerate(self.units) if not unit.post}
        for number, unit in enumerate(self.units):
            if unit.post:  # after the object's own file
                needs[number].add(main_of[unit.key])
        return needs


def _folder_paths(units: _Units) -> dict[int, str] | None:
    """The folder layout, or None when it cannot keep every file after what it needs."""
    post = {number for number, unit in enumerate(units.units) if unit.post}
    while True:
        paths = _paths(units, post)
        rank = _load_rank(paths, units)
        late = {
            number
            for number in range(len(units.units))
            if number not in post and any(rank[n] > rank[number] for n in units.needs[number])
        }
        if not late:
            break
        post |= late
    # The post files load in plan order, after what they need (checked: a schema folder that
    # sorts after POST_FOLDER could break it).
    for number in post:
        if any(rank[n] > rank[number] for n in units.needs[number]):
            return None
    # Two objects spelled alike in file names would share a file: refuse the layout.
    return paths if len(set(paths.values())) == len(paths) else None


def _paths(units: _Units, post: set[int]) -> dict[int, str]:
    kind_rank: dict[tuple[str, str], int] = {}
    ranks_in: dict[str, int] = {}
    for number, unit in enumerate(units.units):
        if number in post:
            continue
        folder = unit.folder
        if (folder, unit.key.kind) not in kind_rank:
            kind_rank[(folder, unit.key.kind)] = ranks_in.get(folder, 0)
            ranks_in[folder] = ranks_in.get(folder, 0) + 1
    paths: dict[int, str] = {}
    width = _width(len(post))
    count = 0
    for number, unit in enumerate(units.units):
        if number in post:
            count += 1
            paths[number] = f"{POST_FOLDER}/{count:0{width}d}_{unit.stem}.sql"
        else:
            kind = f"{kind_rank[(unit.folder, unit.key.kind)]:02d}_{unit.key.kind}"
            paths[number] = f"{unit.folder}/{kind}/{unit.name}.sql"
    return paths


def _load_rank(paths: dict[int, str], units: _Units) -> dict[int, int]:
    loaded = sorted(paths, key=lambda n: (paths[n].encode(), units.units[n].first))
    return {number: rank for rank, number in enumerate(loaded)}


def _width(count: int) -> int:
    """Digits of file numbers: as many as the largest needs, so that they sort byte-wise."""
    return max(4, len(str(count)))


def _numbered_paths(units: _Units) -> dict[int, str]:
    width = _width(len(units.units))
    return {n: f"{n + 1:0{width}d}_{unit.stem}.sql" for n, unit in enumerate(units.units)}


def _unordered_bodies(live: Schema) -> set[ObjectKey]:
    """Routines whose body PostgreSQL checks at creation but records no dependencies for:
    `LANGUAGE sql` with a string body. Nothing orders them after the tables they read."""
    return {r.key for r in live.routines if r.language == "sql" and not r.sql_body}


def _with_unchecked_body(statements: list[str]) -> list[str]:
    # As pg_dump does: the body is checked when the function runs, not when schema/ loads.
    return [
        "SET check_function_bodies = off;",
        *statements,
        "SET check_function_bodies = on;",
    ]


def tree(steps: Sequence[Step], live: Schema) -> dict[str, str]:
    """Relative path -> file text, in load order. `steps`: the plan from an empty database to
    `live`, in the planner's order (engine.dump.recreate_steps)."""
    units = _Units(steps, live)
    paths = _folder_paths(units) or _numbered_paths(units)
    unchecked = _unordered_bodies(live)
    files: dict[str, str] = {}
    for number in sorted(paths, key=lambda n: paths[n].encode()):
        unit = units.units[number]
        statements = [steps[i].sql.rstrip().rstrip(";") + ";" for i in unit.positions]
        if unit.key in unchecked and not unit.post:
            statements = _with_unchecked_body(statements)
        files[paths[number]] = "\n".join(statements) + "\n"
    return files


def write_tree(out: Path, files: dict[str, str], *, force: bool) -> None:
    if out.exists() and any(out.iterdir()) and not force:
        raise UsageError(f"{out} is not empty (use --force to write into it anyway)")
    if force and out.exists():
        # Only .sql files we would write are replaced; stale ones would load too, so remove them.
        for stale in out.rglob("*.sql"):
            stale.unlink()
    for relative, text in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
