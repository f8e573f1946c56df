"""Placeholder: routes for this area are being written (issue 3)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1", tags=["registry"])
