"""Base for every API-facing pydantic model: camelCase on the wire, snake_case in code."""

from __future__ import annotations

from typing import Generic

from pydantic import BaseModel, ConfigDict, RootModel
from pydantic.alias_generators import to_camel
from pydantic.root_model import RootModelRootType


class ApiModel(BaseModel):
    # defer_build: a model's validator is built on its first use, not at import (cold start: the API function
    # declares ~60 models and one request touches a few of them)
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True, defer_build=True
    )


class RequestModel(ApiModel):
    """Requests reject unknown fields so a typo ('ammount') is a clear 422, not a silently ignored value."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
        extra="forbid",
        str_strip_whitespace=True,
        defer_build=True,
    )


class DeferredModel(BaseModel):
    """A plain (not camelCased) model whose validator is also built on first use, not at import."""

    model_config = ConfigDict(defer_build=True)


class DeferredRootModel(RootModel[RootModelRootType], Generic[RootModelRootType]):
    """``RootModel`` built on first use; its parametrizations (``DeferredRootModel[dict[str, X]]``) inherit that."""

    model_config = ConfigDict(defer_build=True)
