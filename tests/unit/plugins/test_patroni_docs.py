"""DOCUMENTATION of the Patroni modules matches their argument_spec (names, types, defaults, choices, no_log)."""

import pytest
import yaml
from ansible_collections.baremetal.k8s.plugins.doc_fragments.patroni import ModuleDocFragment
from ansible_collections.baremetal.k8s.plugins.module_utils.patroni import connection_argument_spec
from ansible_collections.baremetal.k8s.plugins.modules import patroni_config, patroni_info

SPECS = {patroni_config: patroni_config.argument_spec(), patroni_info: connection_argument_spec()}


@pytest.mark.parametrize("module", list(SPECS), ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_documentation_matches_argument_spec(module):
    doc = yaml.safe_load(module.DOCUMENTATION)
    options = dict(doc.get("options") or {})
    if "baremetal.k8s.patroni" in doc.get("extends_documentation_fragment", []):
        options.update(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
    spec = SPECS[module]
    assert set(options) == set(spec)
    for name, arg in spec.items():
        doc = options[name]
        assert doc.get("type", "str") == arg.get("type", "str"), name
        assert doc.get("default") == arg.get("default"), name
        assert doc.get("choices") == arg.get("choices"), name
    assert spec["password"]["no_log"] is True
    yaml.safe_load(module.EXAMPLES)
    yaml.safe_load(module.RETURN)
