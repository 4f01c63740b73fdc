# The same workloads as npm run bench (bench/steps.ts, bench/workloads.ts) in PyTorch eager, on CUDA
# for the ratio on a real GPU or on the CPU (threads = cores) for the ratio on a machine without one:
#   python3 bench/torch_step.py [--device cuda|cpu] [--json FILE] [--tf32] [--large] [--quick]
# npm run bench runs it with --device cpu after its own rows when Debian's PyTorch is installed, then
# once more with --serve NAMES for the paired rounds (bench/paired.ts): the workloads are built and
# warmed, and each line "NAME REPS" on stdin is answered by one JSON line on stdout with the wall ms
# of REPS runs, so that the bench can alternate its runs with ours while the host's speed drifts.
# R1 DCGAN step at batch 128 and R3 MLP GAN step at batch 100 (D step on real + fake, then G step
# with D frozen, BCE, Adam(2e-4, beta1, 0.999)), matmul 1024/4096 in float32 and the conv-transpose
# layer [64,128,7,7]→[64,64,14,14] forward + grads, the char-transformer's step at batch 32
# (cross-entropy, backward, clip_grad_norm_, AdamW). float32 throughout; TF32 is off unless --tf32
# (PyTorch's default lets cuDNN convolutions use TF32, which WGSL kernels cannot).
import argparse, json, statistics, sys, time

import torch
import torch.nn as nn

ap = argparse.ArgumentParser()
ap.add_argument("--json")
ap.add_argument("--tf32", action="store_true")
ap.add_argument("--device", choices=("cuda", "cpu"), default="cuda" if torch.cuda.is_available() else "cpu")
ap.add_argument("--large", action="store_true", help="on the CPU: matmul 4096² too (on CUDA always)")
ap.add_argument("--quick", action="store_true", help="fewer runs (npm run bench --quick)")
ap.add_argument("--matmul", default="", help="matmul sizes, e.g. 256,512,1024 (default: 1024, and 4096 on CUDA or with --large)")
ap.add_argument("--conv-batch", type=int, default=64, help="batch of the conv-transpose layer")
ap.add_argument("--gan-batch", type=int, default=128, help="batch of the DCGAN step")
ap.add_argument("--transformer-batch", type=int, default=32, help="batch of the char-transformer step")
ap.add_argument("--serve", default="", help="comma-separated workloads to build, then time on request (lines NAME REPS on stdin)")
args = ap.parse_args()
dev = torch.device(args.device)
CUDA = dev.type == "cuda"
if CUDA:
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cudnn.benchmark = True
else:
    import os
    torch.set_num_threads(os.cpu_count() or 1)
torch.manual_seed(0)
sync = torch.cuda.synchronize if CUDA else (lambda: None)
IMPL = ("pytorch-eager" + ("-tf32" if args.tf32 else "")) if CUDA else "pytorch-cpu"


def timed(fn, reps, warm=3):
    if args.quick:
        reps = min(reps, 5)
    for _ in range(warm):
        fn()
    sync()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync()
        ts.append((time.perf_counter() - t0) * 1e3)
    ts.sort()
    return {"median_ms": statistics.median(ts), "min_ms": ts[0], "max_ms": ts[-1], "runs": len(ts)}


results = []


def row(workload, st, **extra):
    r = {"workload": workload, "impl": IMPL, **st, **extra}
    results.append(r)
    print(json.dumps(r), file=sys.stderr)


def matmul_run(n):
    a = torch.randn(n, n, device=dev)
    b = torch.randn(n, n, device=dev)
    return lambda: a @ b


NB = args.conv_batch


def convt_run():
    ct = nn.ConvTranspose2d(128, 64, 4, 2, 1).to(dev)
    x = torch.randn(NB, 128, 7, 7, device=dev, requires_grad=True)
    g = torch.randn(NB, 64, 14, 14, device=dev)

    def convt():
        x.grad = None
        ct.zero_grad(set_to_none=True)
        ct(x).backward(g)

    return convt


def dcgan():
    G = nn.Sequential(nn.Linear(100, 6272), nn.BatchNorm1d(6272), nn.ReLU(), nn.Unflatten(1, (128, 7, 7)),
                      nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
                      nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh(), nn.Flatten())
    D = nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
                      nn.Conv2d(64, 128, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(6272, 1), nn.Sigmoid())
    return G, D, 100, 0.5


def mlp():
    G = nn.Sequential(nn.Linear(100, 256), nn.LeakyReLU(0.2), nn.Linear(256, 512), nn.LeakyReLU(0.2),
                      nn.Linear(512, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, 784), nn.Tanh())
    D = nn.Sequential(nn.Linear(784, 1024), nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Linear(1024, 512), nn.LeakyReLU(0.2),
                      nn.Dropout(0.3), nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Linear(256, 1), nn.Sigmoid())
    return G, D, 100, 0.9


def gan_run(build, B):
    G, D, z, beta1 = build()
    G, D = G.to(dev).train(), D.to(dev).train()
    optG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(beta1, 0.999))
    optD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(beta1, 0.999))
    bce = nn.BCELoss()
    real = torch.rand(B, 784, device=dev) * 2 - 1
    ones, zeros = torch.ones(B, 1, device=dev), torch.zeros(B, 1, device=dev)

    def step():
        fake = G(torch.randn(B, z, device=dev))
        optD.zero_grad(set_to_none=True)
        (bce(D(real), ones) + bce(D(fake.detach()), zeros)).backward()
        optD.step()
        optG.zero_grad(set_to_none=True)
        D.requires_grad_(False)
        bce(D(fake), ones).backward()
        D.requires_grad_(True)
        optG.step()

    return step


def transformer_run(B):
    """The char-transformer's step (examples/pytorch/char_transformer.py's model, bench/steps.ts's sizes)."""
    import os
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "pytorch"))
    from char_transformer import CharGpt

    model = CharGpt({"vocabSize": 27, "blockSize": 16, "nLayer": 4, "nHead": 4, "nEmbd": 64, "tied": False}).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-4, betas=(0.9, 0.99))
    x = torch.randint(0, 27, (B, 16), device=dev)
    y = torch.randint(0, 27, (B, 16), device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        model.loss(x, y).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    return step


TRANSFORMER_B = args.transformer_batch
GAN_B = args.gan_batch
GANS = ((f"dcgan-step-b{GAN_B}", dcgan, GAN_B), ("mlp-step-b100", mlp, 100))


def build(name):
    """One run of a workload by its bench name, or None for a name this script does not have."""
    if name.startswith("matmul-") and name[7:].isdigit():
        return matmul_run(int(name[7:]))
    if name == "convT-fwd-bwd":
        return convt_run()
    for gan, fn, B in GANS:
        if name == gan:
            return gan_run(fn, B)
    if name == f"transformer-step-b{TRANSFORMER_B}":
        return transformer_run(TRANSFORMER_B)
    return None


if args.serve:
    # paired rounds: build and warm everything first, then answer "NAME REPS" lines until stdin ends
    runs = {}
    for name in args.serve.split(","):
        fn = build(name)
        if fn is None:
            print(json.dumps({"error": f"unknown workload {name}"}), flush=True)
            sys.exit(2)
        for _ in range(3):
            fn()
        sync()
        runs[name] = fn
    print(json.dumps({"ready": list(runs), "device": f"CPU ({torch.get_num_threads()} threads)" if not CUDA else torch.cuda.get_device_name(0)}), flush=True)
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 2 or parts[0] not in runs or not parts[1].isdigit():
            print(json.dumps({"error": f"bad request {line.strip()!r}"}), flush=True)
            continue
        fn = runs[parts[0]]
        ms = []
        for _ in range(int(parts[1])):
            t0 = time.perf_counter()
            fn()
            sync()
            ms.append((time.perf_counter() - t0) * 1e3)
        print(json.dumps({"workload": parts[0], "ms": ms}), flush=True)
    sys.exit(0)

for n in [int(v) for v in args.matmul.split(",")] if args.matmul else (1024, 4096) if CUDA or args.large else (1024,):
    st = timed(matmul_run(n), 20)
    row(f"matmul-{n}", st, gflops=2 * n**3 / st["median_ms"] / 1e6)

st = timed(convt_run(), 20)
row("convT-fwd-bwd", st, gflops=3 * 2 * NB * 64 * 14 * 14 * 128 * 4 / st["median_ms"] / 1e6)

for name, fn, B in GANS:
    step = gan_run(fn, B)
    st = timed(step, 50 if CUDA else 10)
    # pipelined: 50 steps with one synchronize at the end (the launches run ahead of the GPU), as
    # our bench's pipelined timing records step N+1 while the GPU runs step N
    n_pipe = 3 if args.quick else 50
    t0 = time.perf_counter()
    for _ in range(n_pipe):
        step()
    sync()
    pipe_ms = (time.perf_counter() - t0) * 1e3 / n_pipe
    row(name, st, images_per_s=B * 1000 / st["median_ms"], pipelined_ms=pipe_ms, pipelined_steps=n_pipe,
        pipelined_images_per_s=B * 1000 / pipe_ms)

st = timed(transformer_run(TRANSFORMER_B), 50 if CUDA else 20)
row(f"transformer-step-b{TRANSFORMER_B}", st, words_per_s=TRANSFORMER_B * 1000 / st["median_ms"])

# which BLAS the matmuls ran on (Debian's torch links the generic libblas.so.3: OpenBLAS when
# libopenblas0-pthread is installed, else the ~40× slower reference BLAS)
blas = []
try:
    with open("/proc/self/maps") as f:
        blas = sorted({l.split()[-1] for l in f if "blas" in l.lower() and "/" in l})
except OSError:
    pass
out = {"device": torch.cuda.get_device_name(0) if CUDA else f"CPU ({torch.get_num_threads()} threads)", "torch": torch.__version__, "tf32": args.tf32, "blas": blas,
       "timing": "wall ms per call" + (" to torch.cuda.synchronize()" if CUDA else "") + ", median of the runs after 3 warm-ups", "results": results}
text = json.dumps(out, indent=1)
if args.json:
    with open(args.json + ".tmp", "w") as f:
        f.write(text + "\n")
    import os
    os.replace(args.json + ".tmp", args.json)
print(text)
