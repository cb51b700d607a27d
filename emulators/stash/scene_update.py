"""``sceneUpdate`` of the Stash emulator, for the fields in its schema subset (a scene's rating)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, GraphQLSchema

UPDATABLE = ("rating100",)


def install_scene_update(schema: GraphQLSchema, emulator: Any) -> None:
    """``sceneUpdate`` as Stash does it (``internal/api/resolver_mutation_scene.go`` ``SceneUpdate`` /
    ``sceneUpdate`` / ``scenePartialFromInput``; ``changesetTranslator.optionalInt``): only the keys present in the
    input change (``rating100: null`` clears the rating, a missing key leaves it); the id must be a number
    (``converting id: strconv.Atoi: …``) of an existing scene (``scene with id N not found``), both GraphQL errors;
    the scene's ``updated_at`` moves (``UpdatePartial`` stamps it), and the answer is the scene re-read.

    Stash also runs the ``Scene.Update.Post`` hooks after the commit; the emulator leaves running hooks to the test,
    which calls the plugin runner's ``run_hook`` as Stash would."""
    data = emulator.data

    def scene_update(_root: Any, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        scene_id = str(input.get("id"))
        if not scene_id.isdigit():
            raise GraphQLError(f'converting id: strconv.Atoi: parsing "{scene_id}": invalid syntax')
        with data.lock:
            if scene_id not in data.scenes:
                raise GraphQLError(f"scene with id {scene_id} not found")
            changes = {key: input[key] for key in UPDATABLE if key in input}
            data.update_scene(scene_id, **changes)
            return data.scene_dict(data.scenes[scene_id], emulator.url)

    schema.mutation_type.fields["sceneUpdate"].resolve = scene_update  # type: ignore[union-attr]
