"""roles/cvat without a cluster: export mode (k8s_export_dir) writes the chart values the role builds, so the
mapping from role variables to upstream chart keys and the checks that run before any change are tested here;
the lab test (tests/integration/test_role_cvat.py) installs them."""

from pathlib import Path

import pytest
import yaml
from ansible_collections.baremetal.k8s.tests.unit.exportrun import run_export

PASSWORDS = {
    "cvat_postgresql_password": "pg-user-secret",
    "cvat_postgresql_postgres_password": "pg-admin-secret",
    "cvat_postgresql_replication_password": "pg-repl-secret",
    "cvat_redis_password": "redis-secret",
}


def run(tmp_path: Path, extra: dict):
    return run_export(tmp_path, "cvat", extra, f"{extra.get('cvat_namespace', 'cvat')}/cvat")


def test_bundled_databases_existing_claim_and_user_values(tmp_path):
    user_file = tmp_path / "more.yaml"
    user_file.write_text(yaml.safe_dump({"cvat": {"backend": {"additionalVolumes": [{"name": "x", "emptyDir": {}}]}}}))
    proc, values = run(
        tmp_path,
        PASSWORDS
        | {
            "cvat_backend_data_claim": "data",
            "cvat_ingress_class": "nginx",
            "cvat_ingress_hostname": "cvat.example.org",
            "cvat_kvrocks_password": "kv-secret",
            "cvat_values_files": [str(user_file)],
            "cvat_values": {"ingress": {"annotations": {"a": "b"}}},
        },
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert values["postgresql"] == {
        "enabled": True,
        "auth": {"existingSecret": "cvat-postgresql-auth", "username": "cvat", "database": "cvat"},
        "secret": {"create": False, "name": "cvat-postgresql-auth"},
    }
    assert values["redis"] == {
        "enabled": True,
        "auth": {"existingSecret": "cvat-redis-auth", "existingSecretPasswordKey": "password"},
        "secret": {"create": False, "name": "cvat-redis-auth"},
    }
    assert values["cvat"]["kvrocks"] == {
        "existingSecret": "cvat-kvrocks-auth",
        "secret": {"create": False, "name": "cvat-kvrocks-auth"},
    }
    backend = values["cvat"]["backend"]
    assert backend["permissionFix"] == {"enabled": False} and backend["defaultStorage"] == {"enabled": False}
    # the user's list is kept and the claim's volume added to it
    assert backend["additionalVolumes"] == [
        {"name": "x", "emptyDir": {}},
        {"name": "cvat-backend-data", "persistentVolumeClaim": {"claimName": "data"}},
    ]
    assert values["ingress"] == {
        "enabled": True,
        "hostname": "cvat.example.org",
        "className": "nginx",
        "annotations": {"a": "b"},
        "tls": False,
        "tlsSecretName": "ingress-tls-cvat",
    }
    assert values["analytics"] == {"enabled": False} and values["traefik"] == {"enabled": False}
    assert values["nuclio"] == {"enabled": False}
    text = (tmp_path / "out" / "cvat" / "cvat" / "values.yaml").read_text() + proc.stdout
    assert not [p for p in [*PASSWORDS.values(), "kv-secret"] if p in text]


def test_external_databases_nuclio_traefik(tmp_path):
    proc, values = run(
        tmp_path,
        {
            "cvat_namespace": "annot",
            "cvat_postgresql_host": "pg.example.org",
            "cvat_postgresql_port": "6432",
            "cvat_postgresql_password": "pg-user-secret",
            "cvat_redis_host": "10.0.0.5",
            "cvat_redis_existing_secret": "my-redis",
            "cvat_nuclio_enabled": "true",
            "cvat_nuclio_registry_secret": "regcred",
            "cvat_analytics_enabled": "true",
            "cvat_traefik_enabled": True,
            "cvat_traefik_external_ips": ["192.0.2.10"],
        },
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert values["postgresql"]["enabled"] is False
    assert values["postgresql"]["external"] == {"host": "pg.example.org", "port": 6432}
    assert values["redis"]["enabled"] is False and values["redis"]["external"] == {"host": "10.0.0.5"}
    assert values["redis"]["secret"] == {"create": False, "name": "my-redis"}
    assert values["nuclio"] == {"enabled": True, "registry": {"secretName": "regcred"}}
    assert values["analytics"] == {"enabled": True}
    assert values["traefik"] == {"enabled": True, "service": {"externalIPs": ["192.0.2.10"]}}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"cvat_postgresql_password": ""}, "cvat_postgresql_password is required"),
        ({"cvat_postgresql_postgres_password": ""}, "cvat_postgresql_postgres_password is required"),
        ({"cvat_redis_password": ""}, "cvat_redis_password is required"),
        ({"cvat_redis_existing_secret": "r"}, "cvat_redis_existing_secret and cvat_redis_password exclude"),
        ({"cvat_postgresql_existing_secret": "p"}, "cvat_postgresql_existing_secret and the cvat_postgresql_"),
        ({"cvat_nuclio_enabled": True, "cvat_nuclio_registry_url": "r.example.org"}, "cvat_nuclio_enabled: true needs"),
        ({"cvat_chart_source": "path"}, "cvat_chart_path must name"),
        ({"cvat_chart_oci": "registry-1.docker.io/cvat/cvat"}, "cvat_chart_oci must be"),
        ({"cvat_traefik_external_ips": ["192.0.2.1"]}, "cvat_traefik_external_ips needs cvat_traefik_enabled"),
        ({"cvat_superuser_username": "a b"}, "cvat_superuser_username may hold"),
        ({"cvat_superuser_username": "admin"}, "cvat_superuser_password is required"),
        ({"cvat_release_name": "CVAT"}, "cvat_release_name must be"),
        ({"cvat_timeout": "soon"}, "cvat_timeout must be"),
        ({"cvat_postgresql_port": 70000}, "cvat_postgresql_port must be"),
    ],
)
def test_bad_input_is_named(tmp_path, change, named):
    proc, values = run(tmp_path, PASSWORDS | change)
    assert proc.returncode != 0 and named in proc.stdout, proc.stdout[-3000:]
    assert values is None, "nothing exported"
