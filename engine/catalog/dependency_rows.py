"""The dependency query's result (queries/dependencies.sql) -> `Schema.dependencies`.

The query prints each object's key once and every dependency as two positions in that list, so
an object that takes part in many dependencies (a column that an index, a constraint and a view
use) is one `ObjectKey` here, validated once and shared by its rows: at 10,000 tables 180,000
keys instead of 313,000, ~40 MB less model.
"""

from __future__ import annotations

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
        if pairs and not 0 <= min(pairs) <= max(pairs) < len(keys):
            raise ValueError(f"dependency pairs: a position outside the {len(keys)} keys")
        # one sort key per object, not one per row end
        sort_keys = [key.sort_key for key in keys]
        starts = sorted(
            range(0, len(pairs), 2),
            key=lambda i: (sort_keys[pairs[i]], sort_keys[pairs[i + 1]]),
        )
        # Instances as they are (pydantic does not revalidate models): 2.7 us a row.
        validate = Dependency.model_validate
        return tuple(
            validate({"dependent": keys[pairs[i]], "referenced": keys[pairs[i + 1]]})
            for i in starts
        )
