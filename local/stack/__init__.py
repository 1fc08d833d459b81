"""The one-command local stack: moto (AWS stand-in) + resources from ``template.yaml`` + provider sandbox +
local HTTP API gateway + SQS pollers. ``python -m local.stack`` runs it; tests use :class:`LocalStack`."""

from __future__ import annotations

from local.stack.stack import LocalStack, ScheduleRun
from local.stack.template import Template, load_yaml

__all__ = ["LocalStack", "ScheduleRun", "Template", "load_yaml"]
