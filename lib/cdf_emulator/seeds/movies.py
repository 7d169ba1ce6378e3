"""The ``movies`` seed: Person, Actor and Movie in space ``movies`` (data model ``Movies`` version ``1``).

Actors are their own nodes with a direct relation to a Person; ``Movie.actors`` edges run from a movie to
its actors (``Movie.actors`` outwards, ``Actor.movies`` inwards). One actor's externalId holds both a
single and a double quote, to catch quoting bugs in filters, SQL and file names.
"""

from __future__ import annotations

from typing import Any

from cdf_emulator.seeds._build import (
    apply_instances,
    container,
    cprop,
    direct,
    edge,
    edge_connection,
    mapped,
    node,
    view_ref,
)

SPACE = "movies"
VERSION = "1"
MODEL = "Movies"
ACTED_IN = (SPACE, "Movie.actors")
QUOTED_ACTOR = 'actor:Peter O\'Toole "Lawrence"'

PERSON = view_ref(SPACE, "Person", VERSION)
ACTOR = view_ref(SPACE, "Actor", VERSION)
MOVIE = view_ref(SPACE, "Movie", VERSION)

# (person xid, name, birth year, actor xid or None, won an Oscar)
PEOPLE = [
    ("person:keanu", "Keanu Reeves", 1964, "actor:keanu", False),
    ("person:carrie", "Carrie-Anne Moss", 1967, "actor:carrie", False),
    ("person:laurence", "Laurence Fishburne", 1961, "actor:laurence", False),
    ("person:peter", "Peter O'Toole", 1932, QUOTED_ACTOR, True),
    ("person:omar", "Omar Sharif", 1932, "actor:omar", False),
    ("person:lana", "Lana Wachowski", 1965, None, False),
    ("person:david", "David Lean", 1908, None, True),
]
# (movie xid, title, release year, minutes, meta, actor xids)
MOVIES = [
    ("movie:matrix", "The Matrix", 1999, 136.0, {"genre": ["sci-fi", "action"], "director": "person:lana"},
     ["actor:keanu", "actor:carrie", "actor:laurence"]),
    ("movie:matrix-reloaded", "The Matrix Reloaded", 2003, 138.0, {"genre": ["sci-fi"], "sequel": True},
     ["actor:keanu", "actor:carrie", "actor:laurence"]),
    ("movie:lawrence", "Lawrence of Arabia", 1962, 227.5, {"genre": ["epic"], "oscars": 7},
     [QUOTED_ACTOR, "actor:omar"]),
    ("movie:john-wick", "John Wick", 2014, 101.0, None, ["actor:keanu"]),
]  # fmt: skip


def schema_items() -> dict[str, list[dict[str, Any]]]:
    """The space, containers, views and data model of the seed, as API request items."""
    containers = [
        container(SPACE, "Person", {"name": cprop("text", nullable=False), "birthYear": cprop("int32")}),
        container(SPACE, "Actor", {"wonOscar": cprop("boolean"), "person": cprop("direct")}),
        container(
            SPACE,
            "Movie",
            {
                "title": cprop("text", nullable=False),
                "releaseYear": cprop("int32"),
                "runTimeMinutes": cprop("float32"),
                "meta": cprop("json"),
            },
        ),
    ]
    views = [
        {
            "space": SPACE,
            "externalId": "Person",
            "version": VERSION,
            "properties": {"name": mapped(SPACE, "Person", "name"), "birthYear": mapped(SPACE, "Person", "birthYear")},
        },
        {
            "space": SPACE,
            "externalId": "Actor",
            "version": VERSION,
            "properties": {
                "movies": edge_connection(ACTED_IN, MOVIE, direction="inwards"),
                "wonOscar": mapped(SPACE, "Actor", "wonOscar"),
                "person": mapped(SPACE, "Actor", "person", source=PERSON),
            },
        },
        {
            "space": SPACE,
            "externalId": "Movie",
            "version": VERSION,
            "properties": {
                "title": mapped(SPACE, "Movie", "title"),
                "actors": edge_connection(ACTED_IN, ACTOR),
                "releaseYear": mapped(SPACE, "Movie", "releaseYear"),
                "runTimeMinutes": mapped(SPACE, "Movie", "runTimeMinutes"),
                "meta": mapped(SPACE, "Movie", "meta"),
            },
        },
    ]
    model = {"space": SPACE, "externalId": MODEL, "version": VERSION, "views": [PERSON, ACTOR, MOVIE]}
    return {"spaces": [{"space": SPACE, "name": "Movies"}], "containers": containers, "views": views,
            "data_models": [model]}  # fmt: skip


def instance_items() -> list[dict[str, Any]]:
    """Persons, actors, movies, then the ``Movie.actors`` edges."""
    items = []
    for person_xid, name, born, actor_xid, won in PEOPLE:
        items.append(node(SPACE, person_xid, PERSON, {"name": name, "birthYear": born}))
        if actor_xid is not None:
            items.append(node(SPACE, actor_xid, ACTOR, {"wonOscar": won, "person": direct(SPACE, person_xid)}))
    for movie_xid, title, year, minutes, meta, _ in MOVIES:
        props = {"title": title, "releaseYear": year, "runTimeMinutes": minutes, "meta": meta}
        items.append(node(SPACE, movie_xid, MOVIE, props))
    for movie_xid, *_, actors in MOVIES:
        for actor_xid in actors:
            edge_xid = f"{movie_xid}->{actor_xid}"
            items.append(edge(SPACE, edge_xid, ACTED_IN, (SPACE, movie_xid), (SPACE, actor_xid)))
    return items


def load(state: Any) -> None:
    """Write the movies model and its instances into ``state``."""
    schema = schema_items()
    state.schema.apply_spaces(schema["spaces"])
    state.schema.apply_containers(schema["containers"])
    state.schema.apply_views(schema["views"])
    state.schema.apply_data_models(schema["data_models"])
    apply_instances(state, instance_items())
