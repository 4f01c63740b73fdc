# The same workloads as npm run bench (bench/steps.ts, bench/workloads.ts) in PyTorch eager on CUDA, for the ratio on a real GPU:
#   python3 bench/torch_step.py [--json FILE] [--tf32]
# R1 DCGAN step at batch 128 and R3 MLP GAN step at batch 100 (D step on real + fake, then G step
# with D frozen, BCE, Adam(2e-4, beta1, 0.999)), matmul 1024/4096 in float32 and the conv-transpose
# layer [64,128,7,7]→[64,64,14,14] forward + grads. float32 throughout; TF32 is off unless --tf32
# (PyTorch's default lets cuDNN convolutions use TF32, which WGSL kernels cannot).
import argparse, json, statistics, sys, time

import torch
import torch.nn as nn

ap = argparse.ArgumentParser()
ap.add_argument("--json")
ap.add_argument("--tf32", action="store_true")
args = ap.parse_args()
torch.backends.cuda.matmul.allow_tf32 = args.tf32
torch.backends.cudnn.allow_tf32 = args.tf32
torch.backends.cudnn.benchmark = True
dev = torch.device("cuda")
torch.manual_seed(0)


def timed(fn, reps, warm=3):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        ts.append((time.perf_counter() - t0) * 1e3)
    ts.sort()
    return {"median_ms": statistics.median(ts), "min_ms": ts[0], "max_ms": ts[-1], "runs": len(ts)}


results = []


def row(workload, st, **extra):
    r = {"workload": workload, "impl": "pytorch-eager" + ("-tf32" if args.tf32 else ""), **st, **extra}
    results.append(r)
    print(json.dumps(r), file=sys.stderr)


for n in (1024, 4096):
    a = torch.randn(n, n, device=dev)
    b = torch.randn(n, n, device=dev)
    st = timed(lambda: a @ b, 20)
    row(f"matmul-{n}", st, gflops=2 * n**3 / st["median_ms"] / 1e6)

ct = nn.ConvTranspose2d(128, 64, 4, 2, 1).to(dev)
x = torch.randn(64, 128, 7, 7, device=dev, requires_grad=True)
g = torch.randn(64, 64, 14, 14, device=dev)


def convt():
    x.grad = None
    ct.zero_grad(set_to_none=True)
    ct(x).backward(g)


st = timed(convt, 20)
row("convT-fwd-bwd", st, gflops=3 * 2 * 64 * 64 * 14 * 14 * 128 * 4 / st["median_ms"] / 1e6)


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


for name, build, B in (("dcgan-step-b128", dcgan, 128), ("mlp-step-b100", mlp, 100)):
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

    st = timed(step, 50)
    row(name, st, images_per_s=B * 1000 / st["median_ms"])

out = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "tf32": args.tf32,
       "timing": "wall ms per call to torch.cuda.synchronize(), median of the runs after 3 warm-ups", "results": results}
text = json.dumps(out, indent=1)
if args.json:
    with open(args.json + ".tmp", "w") as f:
        f.write(text + "\n")
    import os
    os.replace(args.json + ".tmp", args.json)
print(text)
