"""Make `ansible_collections.baremetal.k8s` importable from this checkout (as `make collection-link` does)."""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
LINK = REPO / ".collections" / "ansible_collections" / "baremetal" / "k8s"


def ensure_collection_path():
    if not LINK.exists():
        LINK.parent.mkdir(parents=True, exist_ok=True)
        os.symlink("../../..", LINK)
    path = str(REPO / ".collections")
    if path not in sys.path:
        sys.path.insert(0, path)
    # A portion of the ansible_collections namespace may already be imported without this path.
    namespace = sys.modules.get("ansible_collections")
    if namespace is not None and hasattr(namespace, "__path__"):
        portion = str(REPO / ".collections" / "ansible_collections")
        if portion not in list(namespace.__path__):
            namespace.__path__.append(portion)


ensure_collection_path()
