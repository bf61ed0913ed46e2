# SPDX-License-Identifier: Apache-2.0
"""A single-node Slurm cluster for the tests: Debian's slurm-wlm 22.05 and munge, configured in a
temporary folder on loopback ports and started as this (root) user. Clients reach it through
SLURM_CONF (env()). Needs no systemd and no cgroups (proctrack/linuxproc, task/none)."""
import os
import pathlib
import shutil
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def available():
    return all(shutil.which(b) for b in ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sacct")) or \
        all(shutil.which(b) for b in ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel"))


class Cluster:
    def __init__(self, root):
        self.root = pathlib.Path(root)
        self.procs = []
        for d in ("state", "spool", "munge", "log"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        self.sock = self.root / "munge" / "munge.socket"
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        cpus = os.cpu_count() or 2
        mem = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20 * 0.8)
        self.conf = self.root / "slurm.conf"
        self.conf.write_text(f"""ClusterName=reeltest
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.sock}
StateSaveLocation={self.root}/state
SlurmdSpoolDir={self.root}/spool
SlurmctldPidFile={self.root}/slurmctld.pid
SlurmdPidFile={self.root}/slurmd.pid
SlurmctldLogFile={self.root}/log/slurmctld.log
SlurmdLogFile={self.root}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=600
KillWait=5
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
""")
        self.procs.append(subprocess.Popen(["munged", "-F", "--force", f"--socket={self.sock}", f"--key-file={key}",
                                            f"--pid-file={self.root}/munge/munged.pid", f"--log-file={self.root}/log/munged.log",
                                            f"--seed-file={self.root}/munge/seed"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        self._wait(lambda: self.sock.exists(), "munged")
        env = self.env()
        self.procs.append(subprocess.Popen(["slurmctld", "-D", "-i", "-f", str(self.conf)], env=env, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.STDOUT))
        self.procs.append(subprocess.Popen(["slurmd", "-D", "-N", "localhost", "-f", str(self.conf)], env=env,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        self._wait(self._idle, "the node to be idle", 60)

    def env(self, base=None):
        e = dict(base if base is not None else os.environ)
        e["SLURM_CONF"] = str(self.conf)
        return e

    def _idle(self):
        p = subprocess.run(["sinfo", "-h", "-N", "-o", "%t"], capture_output=True, text=True, env=self.env())
        return p.returncode == 0 and p.stdout.strip() in ("idle", "mix", "alloc")

    def _wait(self, ok, what, seconds=20):
        t = time.monotonic()
        while time.monotonic() - t < seconds:
            if ok():
                return
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"{what}: a daemon exited ({p.args[0]}); logs in {self.root}/log\n" + self.logs())
            time.sleep(0.2)
        raise RuntimeError(f"timed out waiting for {what}; logs in {self.root}/log\n" + self.logs())

    def logs(self):
        out = ""
        for f in sorted((self.root / "log").glob("*.log")):
            out += f"--- {f.name}\n" + f.read_text(errors="replace")[-3000:]
        return out

    def queue(self):
        p = subprocess.run(["squeue", "-h", "-o", "%i %T"], capture_output=True, text=True, env=self.env())
        return [l.split() for l in p.stdout.splitlines() if l.strip()]

    def wait_idle_queue(self, seconds=600):
        self._wait(lambda: not self.queue(), "the queue to drain", seconds)

    def stop(self):
        for p in reversed(self.procs):
            p.terminate()
        for p in reversed(self.procs):
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
