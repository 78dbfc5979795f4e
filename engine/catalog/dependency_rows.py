"""The dependency query's result (queries/dependencies.sql) -> `Schema.dependencies`.

The query prints each object's key once and every dependency as two positions in that list, so
an object that takes part in many dependencies (a column that an index, a constraint and a view
use) is one `ObjectKey` here, validated once and shared by its rows: at 10,000 tables (before
the rows of indexes and constraints on columns were left out, see the query) 180,000 keys
instead of 313,000, ~40 MB less model.
"""

from __future__ import annotations

from pydantic import TypeAdapter

from engine.model.base import Dependency, Model, ObjectKey


class DependencyRows(Model):
    """keys: every object that takes part in a dependency; pairs: dependent, referenced,
    dependent, referenced, ... as positions in `keys`."""

    keys: tuple[ObjectKey, ...] = ()
    pairs: tuple[int, ...] = ()

    def dependencies(self) -> tuple[Dependency, ...]:
        """The rows in key order (dependent, then referenced), as `Schema.sorted()` puts them."""
        keys, pairs = self.keys, self.pairs
        if len(pairs) % 2:
            raise ValueError(f"dependency pairs: an odd number of positions ({len(pairs)})")
        count = len(keys)
        if pairs and not 0 <= min(pairs) <= max(pairs) < count:
            raise ValueError(f"dependency pairs: a position outside the {count} keys")
        # Each key's rank in key order, once; a row is then one integer, rank(dependent) *
        # count + rank(referenced), and sorting those is sorting the rows: at 10,000 tables
        # 0.75 s instead of 1.1 s for sorting the rows by their keys' sort keys.
        sort_keys = [key.sort_key for key in keys]
        order = sorted(range(count), key=sort_keys.__getitem__)
        rank = [0] * count
        for position, index in enumerate(order):
            rank[index] = position
        ends = iter(pairs)
        codes = sorted(rank[a] * count + rank[b] for a, b in zip(ends, ends, strict=True))
        ranked = [keys[index] for index in order]
        # Instances as they are (pydantic does not revalidate models).
        return _ROWS.validate_python(
            [
                {"dependent": ranked[code // count], "referenced": ranked[code % count]}
                for code in codes
            ]
        )


_ROWS: TypeAdapter[tuple[Dependency, ...]] = TypeAdapter(tuple[Dependency, ...])
