#!/usr/bin/env python3
"""Write an OCI image archive for `ctr images import`: one layer holding busybox-static and
links for its applets, /etc/passwd and the usual empty directories.

usage: mkimage.py OUT.tar REF [CMD ARG...]   (the image's command; /bin/sh if none)
"""
import gzip
import hashlib
import io
import json
import sys
import tarfile

APPLETS = ["sh", "echo", "cat", "ls", "sleep", "true", "false", "id", "hostname", "pwd",
           "rm", "mkdir", "touch", "env", "ps", "nc"]


def entry(tar, name, kind=tarfile.DIRTYPE, mode=0o755, data=None, link=None):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    if link is not None:
        info.linkname = link
    if data is not None:
        info.size = len(data)
    tar.addfile(info, io.BytesIO(data) if data is not None else None)


def layer():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in ["bin", "dev", "etc", "proc", "sys", "root", "run"]:
            entry(tar, d)
        entry(tar, "tmp", mode=0o1777)
        with open("/bin/busybox", "rb") as f:
            entry(tar, "bin/busybox", tarfile.REGTYPE, 0o755, f.read())
        for a in APPLETS:
            entry(tar, "bin/" + a, tarfile.SYMTYPE, link="busybox")
        entry(tar, "etc/passwd", tarfile.REGTYPE, 0o644, b"root:x:0:0:root:/root:/bin/sh\n")
    return buf.getvalue()


def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def blob(tar, data):
    d = digest(data)
    entry(tar, "blobs/sha256/" + d.split(":")[1], tarfile.REGTYPE, 0o644, data)
    return {"digest": d, "size": len(data)}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, ref, cmd = sys.argv[1], sys.argv[2], sys.argv[3:] or ["/bin/sh"]
    raw = layer()
    gz = gzip.compress(raw, mtime=0)
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/bin"], "Cmd": cmd},
        "rootfs": {"type": "layers", "diff_ids": [digest(raw)]},
    }).encode()
    with tarfile.open(out, "w") as tar:
        entry(tar, "blobs")
        entry(tar, "blobs/sha256")
        cfg = blob(tar, config)
        lay = blob(tar, gz)
        manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": dict(cfg, mediaType="application/vnd.oci.image.config.v1+json"),
            "layers": [dict(lay, mediaType="application/vnd.oci.image.layer.v1.tar+gzip")],
        }).encode()
        man = blob(tar, manifest)
        index = json.dumps({
            "schemaVersion": 2,
            "manifests": [dict(man, mediaType="application/vnd.oci.image.manifest.v1+json",
                               annotations={"org.opencontainers.image.ref.name": ref,
                                            "io.containerd.image.name": ref})],
        }).encode()
        entry(tar, "index.json", tarfile.REGTYPE, 0o644, index)
        entry(tar, "oci-layout", tarfile.REGTYPE, 0o644, b'{"imageLayoutVersion": "1.0.0"}')
        # Docker 20.10's `docker load` wants the docker-archive manifest next to the layout.
        docker = json.dumps([{
            "Config": "blobs/sha256/" + cfg["digest"].split(":")[1],
            "RepoTags": [ref.split("/")[-1] if ref.startswith("docker.io/library/") else ref],
            "Layers": ["blobs/sha256/" + lay["digest"].split(":")[1]],
        }]).encode()
        entry(tar, "manifest.json", tarfile.REGTYPE, 0o644, docker)


main()
