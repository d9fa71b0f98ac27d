"""host_probe on temporary files and real commands: contents, stats with checksums, command results (a missing
binary is rc 127), check mode, bad commands; and the filters that compare its stat with what a task would write."""

import grp
import hashlib
import os
import pwd

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.baremetal.k8s.plugins.filter.files import block_present, dir_matches, file_matches
from ansible_collections.baremetal.k8s.plugins.modules import host_probe as mod


@pytest.fixture
def run(run_module):
    def runner(check=False, **args):
        return run_module(mod.main, dict(args, _ansible_check_mode=check))

    return runner


def test_reads_stats_and_runs_in_one_call(run, tmp_path):
    conf = tmp_path / "k8s.conf"
    conf.write_text("overlay\nbr_netfilter\n")
    conf.chmod(0o640)
    res = run(
        check=True,
        read=[str(conf), str(tmp_path / "absent")],
        stat=[str(conf), str(tmp_path), str(tmp_path / "absent")],
        commands={"echo": ["echo", "a", 1], "fails": ["false"], "missing": ["no-such-binary-here"]},
    )
    assert res["changed"] is False and "failed" not in res
    assert res["content"] == {str(conf): "overlay\nbr_netfilter\n", str(tmp_path / "absent"): None}
    owner, group = pwd.getpwuid(os.getuid())[0], grp.getgrgid(os.getgid())[0]
    assert res["stat"][str(conf)] == {
        "exists": True,
        "type": "file",
        "mode": "0640",
        "owner": owner,
        "group": group,
        "checksum": hashlib.sha1(b"overlay\nbr_netfilter\n", usedforsecurity=False).hexdigest(),
    }
    assert res["stat"][str(tmp_path)]["type"] == "directory" and "checksum" not in res["stat"][str(tmp_path)]
    assert res["stat"][str(tmp_path / "absent")] == {"exists": False}
    assert res["commands"]["echo"] == {"rc": 0, "stdout": "a 1\n", "stderr": ""}
    assert res["commands"]["fails"]["rc"] == 1
    assert res["commands"]["missing"]["rc"] == 127


def test_a_command_that_is_not_an_argv_fails_naming_it(run):
    res = run(commands={"sysctl": "sysctl -a"})
    assert res["failed"] is True and "commands.sysctl must be a non-empty list" in res["msg"]


ROOT_FILE = {"exists": True, "type": "file", "mode": "0644", "owner": "root", "group": "root"}


def test_file_matches_compares_content_mode_owner_and_group():
    probed = dict(ROOT_FILE, checksum=hashlib.sha1(b"a = 1\n", usedforsecurity=False).hexdigest())
    assert file_matches(probed, "a = 1\n", "0644") is True
    assert file_matches(probed, "a = 1\n", "644") is True
    assert file_matches(probed, "a = 2\n", "0644") is False
    assert file_matches(probed, "a = 1\n", "0600") is False
    assert file_matches(dict(probed, owner="nobody"), "a = 1\n", "0644") is False
    assert file_matches(probed, None, "0644") is True  # attributes only
    assert file_matches({"exists": False}, "a = 1\n", "0644") is False
    assert file_matches(dict(probed, type="directory"), None, "0644") is False
    with pytest.raises(AnsibleFilterError, match="one path's entry"):
        file_matches("0644", "x", "0644")


def test_dir_matches():
    probed = dict(ROOT_FILE, type="directory", mode="0755")
    assert dir_matches(probed, "0755") is True
    assert dir_matches(probed, "0700") is False
    assert dir_matches(dict(probed, type="file"), "0755") is False
    assert dir_matches({"exists": False}, "0755") is False


MARKER = "# {mark} cluster hosts"
BLOCK = "10.0.0.1 master\n10.0.0.2 node-0\n"


def test_block_present_as_blockinfile_writes_it():
    written = "127.0.0.1 localhost\n# BEGIN cluster hosts\n10.0.0.1 master\n10.0.0.2 node-0\n# END cluster hosts\n"
    assert block_present(written, BLOCK, MARKER) is True
    assert block_present(written.rstrip("\n"), BLOCK, MARKER) is True  # no newline at the end of the file
    assert block_present(written, "10.0.0.1 master\n", MARKER) is False  # a host less
    assert block_present(written.replace("10.0.0.2", "10.0.0.3"), BLOCK, MARKER) is False
    assert block_present("127.0.0.1 localhost\n", BLOCK, MARKER) is False
    assert block_present("x" + written.split("\n", 1)[1], BLOCK, MARKER) is False  # a BEGIN that is not a line
    assert block_present(None, BLOCK, MARKER) is False
    with pytest.raises(AnsibleFilterError, match="{mark}"):
        block_present(written, BLOCK, "# cluster hosts")
