"""Each campaign's own form: the snapshot stored with it, read back once per process (by its hash).

A campaign created before forms were stored with campaigns (form_snapshot NULL) uses the installation's form
(HCC_FORM, by default the shipped report), as it always did.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from conversations.form import Form, parse_form
from bot.form_files import load_form_file
from storage.models import Campaign

_CACHE: dict[str, Form] = {}


def form_hash(raw: dict[str, Any]) -> str:
    """SHA-256 of the form's canonical JSON."""
    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def read_form_file(path: Path) -> tuple[Form, dict[str, Any]]:
    """Load and validate a form file (our YAML, or an XLSForm .xlsx): the form and the raw data to store (plain
    JSON: the form is built from it, so what is stored is what was checked)."""
    return load_form_file(Path(path))


def form_of(campaign: Campaign | None, default: Form) -> Form:
    """The form of the campaign: its snapshot, or the installation's form for an older campaign."""
    if campaign is None or campaign.form_snapshot is None:
        return default
    key = campaign.form_hash or form_hash(campaign.form_snapshot)
    form = _CACHE.get(key)
    if form is None:
        # Validated when it was stored: a release that refuses it now raises FormError, a bug to see.
        form = parse_form(campaign.form_snapshot, Path(f"campaign-{campaign.id}"))
        _CACHE[key] = form
    return form
