"""roles/codescoring without a cluster: export mode (k8s_export_dir) writes the chart values the role builds, so the
mapping from role variables to the chart's keys (pooler generations, the guide's key spellings, volumes, scaling,
External Secrets, monitoring) and the checks that run before any change are tested here; the lab test
(tests/integration/test_role_codescoring.py) installs them."""

from pathlib import Path

import pytest
from ansible_collections.baremetal.k8s.tests.unit.exportrun import run_export

REQUIRED = {
    "codescoring_repo_username": "vendor",
    "codescoring_repo_password": "repo-secret",
    "codescoring_site_host": "cs.example.org",
    "codescoring_secret_key": "django-secret",
    "codescoring_superuser_password": "admin-secret",
    "codescoring_superuser_email": "admin@example.org",
    "codescoring_db_password": "db-secret",
}


def run(tmp_path: Path, extra: dict):
    return run_export(tmp_path, "codescoring", extra, "codescoring/codescoring")


def test_defaults_pgbouncer_builtin_database_and_redis(tmp_path):
    proc, values = run(tmp_path, REQUIRED)
    assert proc.returncode == 0, proc.stdout[-3000:]
    config = values["codescoring"]["config"]
    assert (config["siteScheme"], config["siteHost"]) == ("https", "cs.example.org")
    assert config["djangoCSRFTrustedOptions"] == "https://cs.example.org"
    assert (config["databaseHost"], config["databasePort"]) == ("pgbouncer", 6432)
    assert values["pgbouncer"]["enabled"] is True and values["codescoring"]["pgcat"] == {"enabled": False}
    assert values["pgbouncer"]["postgresql"]["host"] == "codescoring-postgresql"
    assert values["postgresql"]["enabled"] is True and values["redis"] == {"enabled": True}
    assert values["imagePullSecrets"] == [{"name": "codescoring-regcred"}]
    ingress = values["codescoring"]["frontend"]["ingress"]
    assert ingress["hosts"] == [
        {"host": "cs.example.org", "paths": [{"path": "/", "pathType": "ImplementationSpecific"}]}
    ]
    # every secret is a reference in the export, and the "must match" ones all come from one variable
    text = (tmp_path / "out" / "codescoring" / "codescoring" / "values.yaml").read_text()
    assert not any(s in text for s in ("django-secret", "admin-secret", "db-secret", "repo-secret"))
    assert values["pgbouncer"]["postgresql"]["password"].startswith("SECRET(")
    assert values["postgresql"]["password"].startswith("SECRET(")
    assert config["postgresqlPassword"].startswith("SECRET(")


def test_pgcat_generation_with_external_postgresql(tmp_path):
    proc, values = run(
        tmp_path,
        REQUIRED
        | {
            "codescoring_pooler": "pgcat",
            "codescoring_pgcat_admin_password": "pgcat-secret",
            "codescoring_postgresql_host": "pg.example.org",
        },
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    pgcat = values["codescoring"]["pgcat"]
    assert pgcat["enabled"] is True and pgcat["adminPassword"].startswith("SECRET(")
    assert (pgcat["postgresql"]["host"], pgcat["postgresql"]["port"]) == ("pg.example.org", 5432)
    assert values["codescoring"]["config"]["databaseHost"] == "ipcs-pgcat"
    assert values["postgresql"] == {"enabled": False} and values["pgbouncer"] == {"enabled": False}


def test_external_pooler_uses_the_guides_spellings_unless_told(tmp_path):
    pools = {
        "transaction": {"host": "pool.example.org", "port": 6432},
        "session": {"host": "pool.example.org", "port": 6433},
    }
    extra = REQUIRED | {"codescoring_pooler": "external", "codescoring_external_pooler": pools}
    proc, values = run(tmp_path, extra)
    assert proc.returncode == 0, proc.stdout[-3000:]
    config = values["codescoring"]["config"]
    assert (config["posgtresqlHost"], config["posgtresqlPort"]) == ("pool.example.org", 6432)
    assert config["externalPooler"]["enabled"] is True
    assert config["externalPooler"]["transctionPool"]["username"] == "codescoring"
    assert config["externalPooler"]["sessionPool"]["port"] == 6433
    assert values["postgresql"] == {"enabled": False}
    keys = {
        "postgresqlHost": "postgresqlHost",
        "postgresqlPort": "postgresqlPort",
        "transactionPool": "transactionPool",
    }
    proc, values = run(tmp_path, extra | {"codescoring_key_names": keys})
    assert proc.returncode == 0, proc.stdout[-3000:]
    config = values["codescoring"]["config"]
    assert config["postgresqlHost"] == "pool.example.org" and "transactionPool" in config["externalPooler"]


def test_redis_tls_scaling_external_secrets_monitoring(tmp_path):
    proc, values = run(
        tmp_path,
        REQUIRED
        | {
            "codescoring_redis_caches_urls": "rediss://redis.example.org:6379/1",
            "codescoring_redis_huey_url": "rediss://redis.example.org:6379/0",
            "codescoring_horizontal_scaling": True,
            "codescoring_replicas": {"backend": 2, "frontend": 3},
            "codescoring_volumes": {"analysis_root": {"storage_class": "nfs"}},
            "codescoring_secret_store": {"provider": {"vault": {"server": "https://vault.example.org"}}},
            "codescoring_external_secrets": {"backend": {"dataFrom": [{"extract": {"key": "cs"}}]}},
            "codescoring_service_monitor": True,
            "codescoring_prometheus_rules": True,
        },
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    cs = values["codescoring"]
    assert values["redis"] == {"enabled": False}
    assert cs["config"]["hueyRedisUrl"].startswith("SECRET(")  # a URL may carry the Redis password
    assert cs["backend"]["affinity"] is None and cs["frontend"]["affinity"] is None
    assert (cs["backend"]["replicas"], cs["frontend"]["replicas"]) == (2, 3)
    assert cs["persistentVolumes"]["analysisRoot"] == {"storageClass": "nfs", "accessModes": ["ReadWriteMany"]}
    assert cs["persistentVolumes"]["mediaRoot"]["accessModes"] == ["ReadWriteMany"]
    assert cs["secretStore"] == {"provider": {"vault": {"server": "https://vault.example.org"}}}
    assert cs["config"]["externalSecret"] == {
        "enabled": True,
        "refreshInterval": "1h",
        "dataFrom": [{"extract": {"key": "cs"}}],
    }
    for service in ("backend", "osa_api"):
        assert cs[service]["prometheus"] == {"serviceMonitor": {"enabled": True}, "alerts": {"enabled": True}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"codescoring_secret_key": ""}, "codescoring_secret_key is required"),
        ({"codescoring_chart_version": "~2025"}, "codescoring_chart_version must pin one chart version"),
        (
            {"codescoring_volumes": {"media_root": {"volume_name": "a", "local": {"path": "/x", "node": "n"}}}},
            "codescoring_volumes.media_root: choose exactly one mode, not volume_name and local",
        ),
        ({"codescoring_external_pooler": {"transaction": {"host": "x"}}}, "codescoring_external_pooler needs"),
        (
            {
                "codescoring_horizontal_scaling": True,
                "codescoring_volumes": {"media_root": {"local": {"path": "/x", "node": "n"}}},
            },
            "cannot serve codescoring_horizontal_scaling",
        ),
        ({"codescoring_resources": {"backend": {"limit": {}}}}, "codescoring_resources.backend must be"),
        (
            {"codescoring_external_secrets": {"postgresql": {}}, "codescoring_postgresql_host": "pg"},
            "is for the built-in",
        ),
    ],
)
def test_bad_input_fails_naming_the_variable(tmp_path, change, message):
    proc, values = run(tmp_path, REQUIRED | change)
    assert proc.returncode != 0 and message in proc.stdout, proc.stdout[-3000:]
    assert values is None, "nothing written"
