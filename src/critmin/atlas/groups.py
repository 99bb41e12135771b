"""Country groups kept as data: ``critmin/data/groups.yaml`` plus an optional user file.

A group file is YAML of the form::

    groups:
      my-group:
        source: "where the list comes from"
        members: [USA, CAN]        # ISO 3166 alpha-3 codes
        include: [eu27]            # optional: other groups whose members are added

User groups come from the file named by ``--groups-file`` or the ``CRITMIN_GROUPS_FILE`` environment
variable; an unknown ISO3 code, an unknown included group or a malformed entry is an error naming the file.
"""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

GROUPS_ENV = "CRITMIN_GROUPS_FILE"
_NON_ISO_CODES = {"XKX"}  # Kosovo (user-assigned code, as in the alias table)


class GroupFileError(ValueError):
    """A group file that cannot be used (named file, group, field, value and what was expected)."""


class GroupSpec(BaseModel):
    """One group entry of a group file."""

    model_config = ConfigDict(extra="forbid")
    source: str = Field(min_length=1)
    members: list[str] = Field(default_factory=list)
    include: list[str] = Field(default_factory=list)
    note: str = ""


class GroupFile(BaseModel):
    """A whole group file."""

    model_config = ConfigDict(extra="forbid")
    groups: dict[str, GroupSpec]


def _is_iso3(code: str) -> bool:
    import pycountry  # here: only a group file being parsed needs the ISO database

    return code in _NON_ISO_CODES or pycountry.countries.get(alpha_3=code) is not None


def parse_group_file(text: str, name: str) -> dict[str, GroupSpec]:
    """Validate the YAML text of a group file; ``name`` is used in error messages."""
    import yaml

    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise GroupFileError(f"{name}: not valid YAML ({exc})") from exc
    try:
        parsed = GroupFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"field {'.'.join(str(p) for p in e['loc'])}: {e['msg']} (value {e.get('input')!r})"
            for e in exc.errors()
        )
        raise GroupFileError(
            f"{name}: {problems}; expected 'groups: {{name: {{source, members, include}}}}'"
        ) from exc
    for gname, spec in parsed.groups.items():
        for i, code in enumerate(spec.members):
            if not _is_iso3(code):
                raise GroupFileError(
                    f"{name}: group {gname!r}, members[{i}] = {code!r}: expected an ISO 3166 alpha-3 code"
                )
    return parsed.groups


def resolve_groups(specs: dict[str, GroupSpec], name: str) -> dict[str, frozenset[str]]:
    """Expand ``include`` references (no cycles) into member sets."""
    out: dict[str, frozenset[str]] = {}

    def expand(g: str, stack: tuple[str, ...]) -> frozenset[str]:
        if g in out:
            return out[g]
        if g in stack:
            raise GroupFileError(f"{name}: group {g!r} includes itself through {' -> '.join(stack)}")
        spec = specs[g]
        members = set(spec.members)
        for inc in spec.include:
            if inc not in specs:
                raise GroupFileError(f"{name}: group {g!r} includes {inc!r}: expected one of {sorted(specs)}")
            members |= expand(inc, (*stack, g))
        out[g] = frozenset(members)
        return out[g]

    for g in specs:
        expand(g, ())
    return out


@cache
def bundled_group_specs() -> dict[str, GroupSpec]:
    """The validated bundled groups (``critmin/data/groups.yaml``), through a binary copy keyed by the
    file, this module and the YAML and ISO libraries (:mod:`critmin.atlas.tablecache`)."""
    from critmin.atlas import tablecache

    raw = resources.files("critmin.data").joinpath("groups.yaml").read_bytes()
    versions = tablecache.installed("pyyaml", "pycountry", "pydantic")
    key = tablecache.digest({"groups.yaml": raw}, ["atlas/groups.py"], versions)

    def valid(hit: Any) -> bool:
        return isinstance(hit, dict) and all(isinstance(v, GroupSpec) for v in hit.values())

    return tablecache.cached(
        "bundled-groups",
        key,
        lambda: parse_group_file(raw.decode("utf-8"), "critmin/data/groups.yaml"),
        valid,
    )


def load_groups(groups_file: str | Path | None = None) -> dict[str, frozenset[str]]:
    """Bundled groups plus the user's (``groups_file`` or ``$CRITMIN_GROUPS_FILE``); user groups may
    include bundled ones and may not redefine them."""
    specs = dict(bundled_group_specs())
    path = groups_file if groups_file is not None else os.environ.get(GROUPS_ENV) or None
    name = "critmin/data/groups.yaml"
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise GroupFileError(f"{p}: group file not found (from --groups-file or ${GROUPS_ENV})")
        name = str(p)
        user = parse_group_file(p.read_text(encoding="utf-8"), name)
        clash = sorted(set(user) & set(specs))
        if clash:
            raise GroupFileError(f"{name}: groups {clash} already exist in the bundled groups; use new names")
        specs.update(user)
    return resolve_groups(specs, name)
