"""Deterministic customer classification (Homeowner / Business / Builder). Pure code; the rules are data."""

from __future__ import annotations

from booksync.classification.classifier import (
    MANUAL_REASON,
    Classification,
    CustomerFacts,
    classify,
    location_key,
    normalise,
)
from booksync.classification.rules import BUILDER, BUSINESS, CLASSES, HOMEOWNER

__all__ = [
    "BUILDER",
    "BUSINESS",
    "CLASSES",
    "HOMEOWNER",
    "MANUAL_REASON",
    "Classification",
    "CustomerFacts",
    "classify",
    "location_key",
    "normalise",
]
