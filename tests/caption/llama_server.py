# SPDX-License-Identifier: Apache-2.0
"""llama.cpp's OpenAI-compatible server (PyPI xllamacpp) serving a GGUF text model on 127.0.0.1.

Run as a process: it prints its base URL (ending in /v1) on one line of stdout once the model is
loaded, serves until its stdin is closed, and exits. Greedy sampling with a fixed seed."""
import argparse
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--alias", default="gemma-3-270m")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    import xllamacpp as xlc

    p = xlc.CommonParams()
    p.model.path = a.model
    p.model_alias = {a.alias}
    p.n_ctx = 1024 * a.parallel
    p.n_parallel = a.parallel
    p.cpuparams.n_threads = a.threads
    p.cpuparams_batch.n_threads = a.threads
    p.sampling.seed = 42
    p.sampling.temp = 0.0
    p.use_jinja = False  # a built-in template by name: the GGUF carries none
    p.chat_template = "gemma"
    p.hostnames = ["127.0.0.1"]
    p.port = a.port
    server = xlc.Server(p)
    print(server.listening_address + "/v1", flush=True)
    sys.stdin.read()
    del server


if __name__ == "__main__":
    main()
