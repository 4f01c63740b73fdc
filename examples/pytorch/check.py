"""Runs a preset's G and D in PyTorch on inputs and weights written by wgslgrad (or writes both
for wgslgrad to run), for test/pytorch/interop.pytorch.ts:

    python3 check.py forward DIR     # DIR/{g,d,inputs}.safetensors → DIR/torch_out.safetensors
    python3 check.py export PRESET WIDTH DIR   # PyTorch-initialised weights, inputs and outputs
    python3 check.py adam DIR        # one Adam step from DIR/adam_in.safetensors → DIR/adam_out.safetensors
    python3 check.py grads DIR       # DIR/{g,d,inputs}.safetensors → every parameter's gradient, DIR/torch_grads.safetensors

The sequence is the one the wgslgrad side runs: G and D in training mode (batch statistics,
running statistics updated), then both in eval mode (running statistics).
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgslgrad_gan import PRESETS, adam_from_wgslgrad, build, load_safetensors, one_hot, save_safetensors  # noqa: E402

torch.set_num_threads(max(1, os.cpu_count() or 1))


def run(G, D, inp, conditional, dropout_d):
    z, x = inp["z"], inp["x"]
    idx = inp.get("idx")
    oh = one_hot(idx) if conditional else None
    out = {}
    G.train()
    D.train()
    out["g_train"] = G(z, oh)
    if not dropout_d:  # dropout masks come from each library's own generator
        out["d_train"] = D(x, oh, idx)
    G.eval()
    D.eval()
    out["g_eval"] = G(z, oh)
    out["d_eval"] = D(x, oh, idx)
    if hasattr(D, "classify"):  # AC-GAN: the digit head too
        out["d_classes_eval"] = D.classify(x)[1]
    return out


def load_strict(m, path):
    sd, _ = load_safetensors(path)
    own = m.state_dict()
    sd = {k: v.to(own[k].dtype) if k in own else v for k, v in sd.items()}
    m.load_state_dict(sd, strict=True)


def load_dir(d):
    """DIR's config, G and D loaded from its weights, and its inputs."""
    cfg = json.load(open(os.path.join(d, "config.json")))
    G, D = build(cfg["preset"], cfg["width"])
    load_strict(G, os.path.join(d, "g.safetensors"))
    load_strict(D, os.path.join(d, "d.safetensors"))
    inp, _ = load_safetensors(os.path.join(d, "inputs.safetensors"))
    return cfg, G, D, inp


def main():
    mode = sys.argv[1]
    if mode == "forward":
        d = sys.argv[2]
        cfg, G, D, inp = load_dir(d)
        with torch.no_grad():
            out = run(G, D, inp, PRESETS[cfg["preset"]]["conditional"], cfg["preset"] == "mlp")
        for k, v in G.state_dict().items():
            out[f"g_state.{k}"] = v
        for k, v in D.state_dict().items():
            out[f"d_state.{k}"] = v
        save_safetensors(os.path.join(d, "torch_out.safetensors"), out)
    elif mode == "export":
        preset, width, d = sys.argv[2], float(sys.argv[3]), sys.argv[4]
        torch.manual_seed(5)
        G, D = build(preset, width)
        save_safetensors(os.path.join(d, "g.safetensors"), G.state_dict())
        save_safetensors(os.path.join(d, "d.safetensors"), D.state_dict())
        p = PRESETS[preset]
        B = 4
        inp = {"z": torch.randn(B, p["z"]), "x": torch.rand(B, 784) * 2 - 1}
        if p["conditional"]:
            inp["idx"] = torch.tensor([3.0, 0.0, 9.0, 3.0])
        save_safetensors(os.path.join(d, "inputs.safetensors"), inp)
        with torch.no_grad():
            out = run(G, D, inp, p["conditional"], preset == "mlp")
        save_safetensors(os.path.join(d, "torch_out.safetensors"), out)
    elif mode == "grads":
        # a GAN step's graph: D on real images and on G's, training mode (batch statistics), dropout
        # off (each library draws its own masks); the loss weighs each output by given weights
        d = sys.argv[2]
        cfg, G, D, inp = load_dir(d)
        G.train()
        D.train()
        for m in [*G.modules(), *D.modules()]:
            if isinstance(m, torch.nn.Dropout):
                m.eval()
        idx = inp.get("idx")
        oh = one_hot(idx) if PRESETS[cfg["preset"]]["conditional"] else None
        fake = G(inp["z"], oh)
        loss = (D(inp["x"], oh, idx) * inp["u_real"]).sum() + (D(fake, oh, idx) * inp["u_fake"]).sum()
        if hasattr(D, "classify"):
            loss = loss + (D.classify(inp["x"])[1] * inp["u_cls"]).sum()
        loss.backward()
        out = {"loss": loss.detach().reshape(1)}
        for side, m in (("g", G), ("d", D)):
            for k, p in m.named_parameters():
                out[f"{side}.{k}"] = p.grad
        save_safetensors(os.path.join(d, "torch_grads.safetensors"), out)
    elif mode == "adam":
        d = sys.argv[2]
        t, meta = load_safetensors(os.path.join(d, "adam_in.safetensors"))
        params = [t[f"param.{i}"].clone().requires_grad_(True) for i in range(int(meta["count"]))]
        opt = adam_from_wgslgrad(params, t, meta)
        for i, p in enumerate(params):
            p.grad = t[f"grad.{i}"].clone()
        opt.step()
        save_safetensors(os.path.join(d, "adam_out.safetensors"), {f"param.{i}": p.detach() for i, p in enumerate(params)})
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
