#!/usr/bin/env python3
"""docker-archive.py — write a one-layer image as a docker-archive tar (the format of
`docker save`, which `ctr image import` reads) from a root file system directory.

Usage: docker-archive.py OUT.tar NAME:TAG ROOTFS [--entrypoint JSON] [--cmd JSON] [--env K=V]... [--user UID:GID]

No registry and no Docker engine: scripts/real-node.sh builds the runner and pause images this way
and imports them into containerd with `ctr -n k8s.io image import`. File owners are root (uid 0)
and modes are kept; the layer is deterministic (sorted entries, mtime 0).
"""
import hashlib
import io
import json
import os
import sys
import tarfile


def layer_bytes(root):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(dirnames) + sorted(filenames):
                full = os.path.join(dirpath, name)
                arc = os.path.relpath(full, root)
                info = tar.gettarinfo(full, arcname=arc)
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                info.mtime = 0
                if info.isreg():
                    with open(full, "rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.addfile(info)
    return buf.getvalue()


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    out, ref, root = argv[1], argv[2], argv[3]
    if not os.path.isdir(root):
        sys.stderr.write("docker-archive.py: %s is not a directory\n" % root)
        return 2
    entrypoint, cmd, user, env = None, None, "", ["PATH=/usr/local/bin:/usr/bin:/bin"]
    rest = argv[4:]
    while rest:
        opt = rest.pop(0)
        if not rest:
            sys.stderr.write("docker-archive.py: %s needs a value\n" % opt)
            return 2
        val = rest.pop(0)
        if opt == "--entrypoint":
            entrypoint = json.loads(val)
        elif opt == "--cmd":
            cmd = json.loads(val)
        elif opt == "--user":
            user = val
        elif opt == "--env":
            env.append(val)
        else:
            sys.stderr.write("docker-archive.py: unknown option %s\n" % opt)
            return 2
    layer = layer_bytes(root)
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": env, "Entrypoint": entrypoint, "Cmd": cmd, "WorkingDir": "/", "User": user},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "scripts/lib/docker-archive.py"}],
    }
    cfg = json.dumps(config, sort_keys=True).encode()
    cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
    layer_name = diff_id[7:] + "/layer.tar"
    manifest = json.dumps([{"Config": cfg_name, "RepoTags": [ref], "Layers": [layer_name]}]).encode()
    tmp = out + ".tmp"
    with tarfile.open(tmp, mode="w") as tar:
        for name, data in ((cfg_name, cfg), (layer_name, layer), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
