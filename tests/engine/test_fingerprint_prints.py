"""What an object's fingerprint digest is made of: its compared fields, those at their defaults
left out, so that a field added to the model later changes no fingerprint of a schema that does
not use it (a plan reviewed before an upgrade still matches production after it)."""

from __future__ import annotations

from engine.model.indexes import ColumnStatistics, Index
from engine.model.schema import Schema, _compared_prints
from engine.model.tables import Column, NotNullConstraint

INDEX = Index(
    schema="s", name="i", table="t", definition="CREATE INDEX i ON s.t USING btree (lower(v))"
)


def _column(constraint: NotNullConstraint | None) -> Column:
    return Column(
        schema="s",
        table="t",
        name="c",
        position=1,
        type="integer",
        not_null=True,
        not_null_constraint=constraint,
    )


def test_fields_at_their_defaults_are_not_printed() -> None:
    (plain,) = _compared_prints("indexes", (INDEX,))
    for field in ("statistics", "valid", "table_kind", "comment"):
        assert f"'{field}'" not in plain, plain
    targeted = INDEX.model_copy(update={"statistics": (ColumnStatistics(position=1, target=9),)})
    (printed,) = _compared_prints("indexes", (targeted,))
    assert "'statistics'" in printed
    assert printed != plain


def test_a_not_null_constraints_locality_is_no_difference() -> None:
    """`local` is not compared: a constraint that differs from the default in it alone prints
    as no constraint, and one with a name prints as the same named one of the column's own."""

    def printed(constraint: NotNullConstraint | None) -> str:
        return _compared_prints("columns", (_column(constraint),))[0]

    assert printed(NotNullConstraint(local=False)) == printed(None)
    assert printed(NotNullConstraint(name="nn", local=False)) == printed(
        NotNullConstraint(name="nn")
    )
    assert printed(NotNullConstraint(name="nn")) != printed(None)
    assert printed(NotNullConstraint(validated=False)) != printed(None)


def test_equal_schemas_have_equal_fingerprints_and_a_target_changes_it() -> None:
    def schema(*indexes: Index) -> Schema:
        return Schema(server_version_num=150000, indexes=indexes)

    assert schema(INDEX).fingerprint() == schema(INDEX.model_copy()).fingerprint()
    targeted = INDEX.model_copy(update={"statistics": (ColumnStatistics(position=1, target=9),)})
    assert schema(targeted).fingerprint() != schema(INDEX).fingerprint()
