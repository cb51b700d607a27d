"""Against Stash's real schema (../shared/reference/stash-schema): every query PlexSync sends is valid, and
the emulator's schema subset uses Stash's exact names, types and nullability."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from graphql import (GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType, GraphQLScalarType, build_schema,
                     parse, validate)

from emulators.stash.server import SCHEMA_FILE
from worker.stash.queries import ALL_DOCUMENTS

REPO = Path(__file__).resolve().parents[2]
SCHEMA_DIR = Path(os.environ.get("PLEXSYNC_STASH_SCHEMA_DIR", REPO.parent / "shared" / "reference" / "stash-schema"))


@pytest.fixture(scope="module")
def real_schema():
    if not (SCHEMA_DIR / "schema.graphql").exists():
        pytest.skip(f"Stash's schema is not at {SCHEMA_DIR} (set PLEXSYNC_STASH_SCHEMA_DIR)")
    parts = [(SCHEMA_DIR / "schema.graphql").read_text(encoding="utf-8")]
    parts += [path.read_text(encoding="utf-8") for path in sorted((SCHEMA_DIR / "types").glob("*.graphql"))]
    return build_schema("\n".join(parts))


@pytest.mark.parametrize("name", sorted(ALL_DOCUMENTS))
def test_every_query_we_send_is_valid_against_stash(real_schema, name):
    assert validate(real_schema, parse(ALL_DOCUMENTS[name])) == []


def test_emulator_schema_is_a_faithful_subset(real_schema):
    subset = build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))
    checked = 0
    for type_name, ours in subset.type_map.items():
        if type_name.startswith("__"):
            continue
        theirs = real_schema.type_map.get(type_name)
        assert theirs is not None, f"{type_name} is not a Stash type"
        assert type(theirs) is type(ours), type_name
        if isinstance(ours, (GraphQLObjectType, GraphQLInputObjectType)):
            for field_name, field in ours.fields.items():
                assert field_name in theirs.fields, f"{type_name}.{field_name} is not in Stash's schema"
                assert str(field.type) == str(theirs.fields[field_name].type), f"{type_name}.{field_name}"
                for arg_name, arg in getattr(field, "args", {}).items():
                    real_arg = theirs.fields[field_name].args.get(arg_name)
                    assert real_arg is not None and str(arg.type) == str(real_arg.type), f"{type_name}.{field_name}({arg_name})"
                checked += 1
        elif isinstance(ours, GraphQLEnumType):
            assert set(ours.values) <= set(theirs.values), type_name
        else:
            assert isinstance(ours, GraphQLScalarType)
    assert checked > 60
