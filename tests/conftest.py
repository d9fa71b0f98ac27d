"""Shared by every test tier: make `ansible_collections.baremetal.k8s` resolve to this checkout
(the same link `make collection-link` creates), so tests import and run the code being edited."""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COLLECTIONS = REPO / ".collections"
LINK = COLLECTIONS / "ansible_collections" / "baremetal" / "k8s"


def _link_checkout() -> None:
    if not LINK.is_symlink():
        LINK.parent.mkdir(parents=True, exist_ok=True)
        os.symlink("../../..", LINK)
    if str(COLLECTIONS) not in sys.path:
        sys.path.insert(0, str(COLLECTIONS))
    # ansible itself may already have imported the ansible_collections namespace without this portion.
    namespace = sys.modules.get("ansible_collections")
    if namespace is not None and hasattr(namespace, "__path__"):
        portion = str(COLLECTIONS / "ansible_collections")
        if portion not in list(namespace.__path__):
            namespace.__path__.append(portion)


# Under ansible-test (tests/sanity/ansible-test.sh) the checkout already is .../ansible_collections/baremetal/k8s.
if REPO.parents[1].name != "ansible_collections":
    _link_checkout()
