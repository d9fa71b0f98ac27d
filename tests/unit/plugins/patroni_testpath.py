"""Make `ansible_collections.baremetal.k8s` importable from this checkout (as `make collection-link` does)."""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
LINK = REPO / ".collections" / "ansible_collections" / "baremetal" / "k8s"

if not LINK.exists():
    LINK.parent.mkdir(parents=True, exist_ok=True)
    os.symlink("../../..", LINK)
if str(REPO / ".collections") not in sys.path:
    sys.path.insert(0, str(REPO / ".collections"))
_namespace = sys.modules.get("ansible_collections")
if _namespace is not None and hasattr(_namespace, "__path__"):
    _portion = str(REPO / ".collections" / "ansible_collections")
    if _portion not in list(_namespace.__path__):
        _namespace.__path__.append(_portion)
