"""The devstats filters: stages to releases (every skip flag, index ranges, requests), problems, missing secrets."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.baremetal.k8s.plugins.filter.devstats import SKIP_FLAGS, FilterModule

F = FilterModule().filters()
COMMON = {"namespace": "devstats-test", "ingressClass": "nginx-test", "sslEnv": "test"}


def by_name(releases):
    return {r["name"]: r for r in releases}


def skips(values):
    return {k[4:] for k, v in values.items() if k.startswith("skip") and v == 0}


def test_every_skip_flag_is_set_and_only_the_stage_keeps_its_templates():
    rel = by_name(F["devstats_releases"](["patroni", "statics", "bootstrap", "backups-pv"], "devstats-test", COMMON))
    for release in rel.values():
        assert {"skip" + f for f in SKIP_FLAGS} <= set(release["values"])
        assert release["values"]["skipNamespaces"] == 1
        assert release["values"]["namespace"] == "devstats-test"
    assert skips(rel["patroni"]["values"]) == {"Postgres"}
    assert skips(rel["statics"]["values"]) == {"Static"}
    assert skips(rel["bootstrap"]["values"]) == {"Bootstrap"}
    assert skips(rel["backups-pv"]["values"]) == {"BackupsPV"}
    assert rel["patroni"]["release"] == "devstats-test-patroni"


def test_secrets_stage_has_no_release_and_reports_skips_everything():
    rel = by_name(F["devstats_releases"](["reports", "secrets"], "p", {}))
    assert rel["secrets"]["release"] is None
    assert skips(rel["reports"]["values"]) == set()
    assert rel["reports"]["values"]["reportsPod"] == 1


def test_install_order_is_fixed_whatever_the_list_order():
    stages = [
        "reports",
        {"stage": "projects", "name": "b", "from": 1, "to": 2},
        "bootstrap",
        "patroni",
        "secrets",
        {"stage": "projects", "name": "a", "from": 0, "to": 1},
        "ingress",
        "statics",
        "backups-pv",
        "backups",
    ]
    names = [r["name"] for r in F["devstats_releases"](stages, "p", {})]
    assert names == [
        "secrets",
        "backups-pv",
        "patroni",
        "statics",
        "ingress",
        "bootstrap",
        "backups",
        "b",
        "a",
        "reports",
    ]


def test_projects_range_sets_every_project_index_and_no_pvs():
    rel = F["devstats_releases"]([{"stage": "projects", "name": "keda-smi", "from": 70, "to": 72}], "devstats-test")[0]
    values = rel["values"]
    assert rel["release"] == "devstats-test-keda-smi"
    for what in ("Provisions", "Crons", "Affiliations", "Grafanas", "Services"):
        assert (values[f"index{what}From"], values[f"index{what}To"]) == (70, 72)
    assert "indexPVsFrom" not in values
    assert skips(values) == {"Provisions", "Crons", "Affiliations", "Grafanas", "Services"}
    assert rel["wait"] is False


def test_claims_are_not_waited_for():
    """openebs-hostpath binds a claim when a pod first uses it: the pvcs stage's claims wait for the projects."""
    rel = F["devstats_releases"]([{"stage": "pvcs", "from": 0, "to": 2}], "devstats-test")[0]
    assert rel["wait"] is False
    assert F["devstats_releases"]([{"stage": "pvcs", "wait": True}], "devstats-test")[0]["wait"] is True


def test_domain_ranges_for_statics_and_ingress():
    rel = by_name(
        F["devstats_releases"](
            [{"stage": "statics", "from": 0, "to": 1}, {"stage": "ingress", "from": 1, "to": 4}, "pvcs"], "p"
        )
    )
    assert (rel["statics"]["values"]["indexStaticsFrom"], rel["statics"]["values"]["indexStaticsTo"]) == (0, 1)
    assert (rel["ingress"]["values"]["indexDomainsFrom"], rel["ingress"]["values"]["indexDomainsTo"]) == (1, 4)
    assert not any(k.startswith("index") for k in rel["pvcs"]["values"])  # no range given: the chart's default


def test_requests_go_only_to_the_stage_components_and_entries_override():
    requests = {
        "postgres": {"cpu": "400m", "memory": "512Mi"},
        "statics": {"cpu": "50m", "memory": "64Mi"},
        "provisions": {"cpu": "500m"},
    }
    stages = [
        "patroni",
        "statics",
        {"stage": "projects", "from": 0, "to": 1, "requests": {"provisions": {"cpu": "800m", "memory": "512Mi"}}},
    ]
    rel = by_name(
        F["devstats_releases"](stages, "p", {}, {}, requests=requests, limits={"postgres": {"memory": "2Gi"}})
    )
    assert rel["patroni"]["values"]["requestsPostgresCPU"] == "400m"
    assert rel["patroni"]["values"]["limitsPostgresMemory"] == "2Gi"
    assert "requestsStaticsCPU" not in rel["patroni"]["values"]
    assert rel["statics"]["values"]["requestsStaticsMemory"] == "64Mi"
    assert "requestsPostgresCPU" not in rel["statics"]["values"]
    assert rel["projects"]["values"]["requestsProvisionsCPU"] == "800m"
    assert rel["projects"]["values"]["requestsProvisionsMemory"] == "512Mi"


def test_values_merge_order_common_then_stage_values_then_entry():
    stages = [{"stage": "patroni", "values": {"postgresNodes": 2, "dbNodeSelector": {"extra": "x"}}}]
    common = {"namespace": "ns", "postgresNodes": 9, "dbNodeSelector": {"node2": "devstats-db"}}
    rel = F["devstats_releases"](stages, "p", common, {"patroni": {"postgresNodes": 4, "postgresStorageSize": "30Gi"}})
    values = rel[0]["values"]
    assert values["postgresNodes"] == 2 and values["postgresStorageSize"] == "30Gi"
    assert values["dbNodeSelector"] == {"node2": "devstats-db", "extra": "x"}
    assert values["skipPostgres"] == 0


def test_unknown_stage_is_named():
    problems = F["devstats_stage_problems"](["secrets", "patorni"])
    assert len(problems) == 1 and "unknown stage 'patorni'" in problems[0] and "devstats_stages[1]" in problems[0]
    with pytest.raises(AnsibleFilterError, match="patorni"):
        F["devstats_releases"](["patorni"], "p")


@pytest.mark.parametrize(
    ("stages", "text"),
    [
        ([{"stage": "projects", "from": 5, "to": 2}], "from (5) is greater than to (2)"),
        ([{"stage": "projects", "from": 0, "to": 301}], "to must be an integer from 0 to 300"),
        ([{"stage": "ingress", "from": 0, "to": 5}], "to must be an integer from 0 to 4"),
        ([{"stage": "patroni", "from": 0}], "stage patroni takes no from/to"),
        ([{"stage": "projects", "to": True}], "to must be an integer"),
        (["patroni", {"stage": "projects", "name": "patroni"}], "name 'patroni' is used by devstats_stages[0] too"),
        ([{"stage": "statics", "name": "Bad_Name"}], "name must be a DNS label"),
        ([{"stage": "statics", "form": 1}], "unknown key(s) form"),
        ([{"stage": "statics", "values": []}], "values must be a mapping"),
        ([{"stage": "statics", "wait": "yes"}], "wait must be true or false"),
        ([{"stage": "statics", "requests": {"static": {"cpu": "1"}}}], "unknown component 'static'"),
        ([{"stage": "statics", "requests": {"statics": {"cpu": 1}}}], "cpu must be a quantity string"),
        ([42], "devstats_stages[0] must be a stage name"),
        ("patroni", "devstats_stages must be a list"),
    ],
)
def test_problems(stages, text):
    problems = F["devstats_stage_problems"](stages)
    assert any(text in p for p in problems), problems


def test_role_wide_requests_are_checked():
    problems = F["devstats_stage_problems"](["patroni"], {"postgress": {"cpu": "1"}}, {"postgres": "1"})
    assert any("devstats_requests: unknown component 'postgress'" in p for p in problems)
    assert any("devstats_limits.postgres must be a mapping" in p for p in problems)


def test_every_problem_at_once():
    problems = F["devstats_stage_problems"](["nope", {"stage": "projects", "from": 3, "to": 1}, "alsonope"])
    assert len(problems) == 3


def test_good_stages_have_no_problems():
    stages = [
        "secrets",
        "backups-pv",
        "pvcs",
        "patroni",
        "statics",
        "ingress",
        "bootstrap",
        "backups",
        {"stage": "projects", "from": 0, "to": 300},
        "api",
        "vacuum",
        "reports",
    ]
    assert F["devstats_stage_problems"](stages, {"postgres": {"cpu": "1", "memory": "1Gi"}}) == []


def test_missing_secret_files_name_their_examples():
    present = ["/s/PG_PASS.secret", "/s/PG_HOST.secret.example", "/s/GHA2DB_GITHUB_OAUTH.secret"]
    missing = F["devstats_missing_secret_files"](present, ["PG_PASS.secret", "PG_HOST.secret", "PG_PORT.secret"])
    assert missing == [
        "PG_HOST.secret (copy PG_HOST.secret.example and put the real value in it)",
        "PG_PORT.secret (no PG_PORT.secret.example either)",
    ]
    assert F["devstats_missing_secret_files"](present, ["PG_PASS.secret"]) == []
