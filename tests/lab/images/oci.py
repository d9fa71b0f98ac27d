#!/usr/bin/env python3
"""Build single-layer OCI images from local files and push them to a registry, without Docker.

The lab's stand-in for `docker build`/`crane push`: standard library only.

  oci.py build --out DIR --add SRC=/usr/local/bin/NAME [--tree ROOTDIR] [--dir /tmp:1777]
               [--symlink /path=target] [--entrypoint JSON] [--cmd JSON] [--env K=V] [--user U]
  oci.py push --layout DIR --registry HOST:PORT --repo NAME --tag TAG
  oci.py inspect --registry HOST:PORT --repo NAME --tag TAG   (prints the manifest's layer sizes)

`build` writes an OCI image layout (oci-layout, index.json, blobs/sha256/...) whose layer tar is
reproducible (sorted, owner 0:0, mtime 0), so an unchanged input gives the same digests.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import stat
import sys
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _dir_entry(path: str, mode: int = 0o755) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(path)
    ti.type = tarfile.DIRTYPE
    ti.mode = mode
    return ti


def _normalize(ti: tarfile.TarInfo) -> tarfile.TarInfo:
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    ti.mtime = 0
    return ti


def layer_tar(adds: list[tuple[Path, str]], trees: list[Path], dirs: dict[str, int], links: dict[str, str]) -> bytes:
    """The uncompressed layer: every entry's parents, then entries in path order."""
    entries: dict[str, tuple[tarfile.TarInfo, Path | None]] = {}

    def parents(path: str) -> None:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            p = "/".join(parts[:i])
            if p and p not in entries:
                entries[p] = (_dir_entry(p), None)

    for src, dest_path in adds:
        dest = dest_path.lstrip("/")
        parents(dest)
        ti = tarfile.TarInfo(dest)
        st = src.stat()
        ti.size = st.st_size
        ti.mode = stat.S_IMODE(st.st_mode)
        entries[dest] = (ti, src)
    for root in trees:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in sorted(dirnames + filenames):
                full = Path(dirpath) / name
                rel = full.relative_to(root).as_posix()
                st = full.lstat()
                parents(rel)
                ti = tarfile.TarInfo(rel)
                ti.mode = stat.S_IMODE(st.st_mode)
                if stat.S_ISLNK(st.st_mode):
                    ti.type = tarfile.SYMTYPE
                    ti.linkname = os.readlink(full)
                    entries[rel] = (ti, None)
                elif stat.S_ISDIR(st.st_mode):
                    ti.type = tarfile.DIRTYPE
                    entries[rel] = (ti, None)
                elif stat.S_ISREG(st.st_mode):
                    ti.size = st.st_size
                    entries[rel] = (ti, full)
    for dir_path, mode in dirs.items():
        path = dir_path.strip("/")
        parents(path)
        entries[path] = (_dir_entry(path, mode), None)
    for link_path, target in links.items():
        path = link_path.lstrip("/")
        parents(path)
        ti = tarfile.TarInfo(path)
        ti.type = tarfile.SYMTYPE
        ti.linkname = target
        ti.mode = 0o777
        entries[path] = (ti, None)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(entries):
            ti, src = entries[path]
            _normalize(ti)
            if src is None:
                tar.addfile(ti)
            else:
                with src.open("rb") as f:
                    tar.addfile(ti, f)
    return buf.getvalue()


def write_blob(out: Path, data: bytes) -> str:
    digest = sha256(data)
    path = out / "blobs" / "sha256" / digest.split(":", 1)[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return digest


def _pair(value: str, sep: str = "=") -> tuple[str, str]:
    key, found, rest = value.partition(sep)
    if not found or not key:
        raise SystemExit(f"oci.py: expected KEY{sep}VALUE, got {value!r}")
    return key, rest


def build(args: argparse.Namespace) -> None:
    out = Path(args.out)
    adds = [(Path(s), d) for s, d in (_pair(a) for a in args.add)]
    for src, _ in adds:
        if not src.is_file():
            raise SystemExit(f"oci.py: {src} is not a file")
    for tree in args.tree:
        if not Path(tree).is_dir():
            raise SystemExit(f"oci.py: {tree} is not a directory")
    dirs = {p: int(m, 8) for p, m in (_pair(d, ":") for d in args.dir)}
    links = dict(_pair(s) for s in args.symlink)
    raw = layer_tar(adds, [Path(t) for t in args.tree], dirs, links)
    gz = gzip.compress(raw, compresslevel=6, mtime=0)
    out.mkdir(parents=True, exist_ok=True)
    layer_digest = write_blob(out, gz)
    env = {"PATH": DEFAULT_PATH}
    env.update(dict(_pair(e) for e in args.env))
    cfg: dict = {"Env": [f"{k}={v}" for k, v in env.items()], "WorkingDir": "/"}
    if args.entrypoint:
        cfg["Entrypoint"] = json.loads(args.entrypoint)
    if args.cmd:
        cfg["Cmd"] = json.loads(args.cmd)
    if args.user:
        cfg["User"] = args.user
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": [sha256(raw)]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "baremetal.k8s lab: tests/lab/images/oci.py"}],
    }
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    config_digest = write_blob(out, config_bytes)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config_bytes)},
        "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": len(gz)}],
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    manifest_digest = write_blob(out, manifest_bytes)
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": manifest_digest,
                "size": len(manifest_bytes),
                "platform": {"architecture": "amd64", "os": "linux"},
            }
        ],
    }
    (out / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (out / "index.json").write_text(json.dumps(index, sort_keys=True))
    print(f"{out}: {manifest_digest} layer {len(gz)} bytes ({len(raw)} uncompressed)")


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the lab registry is local


def _request(method: str, url: str, data: bytes | None = None, headers: dict | None = None):
    if not url.startswith("http://"):
        raise SystemExit(f"oci.py: only plain-http lab registries are supported, not {url}")
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310 (checked above)
    try:
        return _OPENER.open(req, timeout=120)
    except urllib.error.HTTPError as e:
        if method == "HEAD" and e.code == 404:
            return None
        body = e.read()[:500].decode(errors="replace")
        raise SystemExit(f"oci.py: {method} {url}: HTTP {e.code}: {body}") from None


def push_blob(base: str, repo: str, digest: str, data: bytes) -> bool:
    """Upload one blob unless the registry has it; True when it was uploaded."""
    if _request("HEAD", f"{base}/v2/{repo}/blobs/{digest}") is not None:
        return False
    resp = _request("POST", f"{base}/v2/{repo}/blobs/uploads/", data=b"")
    location = urllib.parse.urljoin(f"{base}/", resp.headers["Location"])
    sep = "&" if "?" in location else "?"
    _request(
        "PUT",
        f"{location}{sep}digest={urllib.parse.quote(digest)}",
        data=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    return True


def push(args: argparse.Namespace) -> None:
    layout = Path(args.layout)
    base = f"http://{args.registry}"
    index = json.loads((layout / "index.json").read_text())
    mdesc = index["manifests"][0]

    def blob(digest: str) -> bytes:
        return (layout / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()

    manifest_bytes = blob(mdesc["digest"])
    manifest = json.loads(manifest_bytes)
    sent = 0
    for desc in [manifest["config"], *manifest["layers"]]:
        data = blob(desc["digest"])
        if sha256(data) != desc["digest"]:
            raise SystemExit(f"oci.py: {layout}: blob {desc['digest']} is corrupt")
        sent += push_blob(base, args.repo, desc["digest"], data)
    resp = _request(
        "PUT",
        f"{base}/v2/{args.repo}/manifests/{args.tag}",
        data=manifest_bytes,
        headers={"Content-Type": manifest["mediaType"]},
    )
    got = resp.headers.get("Docker-Content-Digest")
    if got and got != mdesc["digest"]:
        raise SystemExit(f"oci.py: registry stored {got}, expected {mdesc['digest']}")
    print(f"{args.registry}/{args.repo}:{args.tag}@{mdesc['digest']} ({sent} new blobs)")


def inspect(args: argparse.Namespace) -> None:
    resp = _request(
        "GET",
        f"http://{args.registry}/v2/{args.repo}/manifests/{args.tag}",
        headers={"Accept": f"{OCI_MANIFEST}, application/vnd.docker.distribution.manifest.v2+json"},
    )
    manifest = json.loads(resp.read())
    size = sum(layer["size"] for layer in manifest["layers"])
    print(f"{args.registry}/{args.repo}:{args.tag} {resp.headers.get('Docker-Content-Digest')} {size} bytes")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--out", required=True)
    b.add_argument("--add", action="append", default=[], help="SRC=/dest/path (a file)")
    b.add_argument("--tree", action="append", default=[], help="a directory laid over / as is")
    b.add_argument("--dir", action="append", default=[], help="/path:MODE (octal)")
    b.add_argument("--symlink", action="append", default=[], help="/path=target")
    b.add_argument("--env", action="append", default=[], help="K=V (PATH has a default)")
    b.add_argument("--entrypoint", help="JSON list")
    b.add_argument("--cmd", help="JSON list")
    b.add_argument("--user")
    b.set_defaults(func=build)
    for name, func in (("push", push), ("inspect", inspect)):
        s = sub.add_parser(name)
        if name == "push":
            s.add_argument("--layout", required=True)
        s.add_argument("--registry", required=True)
        s.add_argument("--repo", required=True)
        s.add_argument("--tag", required=True)
        s.set_defaults(func=func)
    args = p.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    sys.exit(main())
