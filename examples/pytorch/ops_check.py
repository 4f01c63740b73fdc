"""The transformer and CNN ops, modules, optimiser and schedules in PyTorch, on the inputs wgslgrad
used, for test/pytorch/transformer.pytorch.ts:

    python3 ops_check.py DIR   # DIR/{cases.json,inputs.safetensors} → DIR/torch_ops.safetensors, DIR/torch_lrs.json

Each case of cases.json names an op, its arguments and inputs; the output and, where asked, each
input's gradient of sum(output · w) (w an input too) are written as CASE.out and CASE.grad.INPUT.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgslgrad_gan import load_safetensors, save_safetensors  # noqa: E402


def pair(v):
    return tuple(v) if isinstance(v, list) else v


def forward(op, a, t):
    """The op of a case on its inputs t (float tensors; integer and boolean ones converted here)."""
    x = t.get("x")
    if op == "softmax":
        return F.softmax(x, a["dim"])
    if op == "logSoftmax":
        return F.log_softmax(x, a["dim"])
    if op == "layerNorm":
        return F.layer_norm(x, a["shape"], t["weight"], t["bias"], a.get("eps", 1e-5))
    if op == "gelu":
        return F.gelu(x, approximate=a["approximate"])
    if op == "silu":
        return F.silu(x)
    if op in ("max", "min"):
        r = (torch.max if op == "max" else torch.min)(x, a["dim"], keepdim=a["keepDim"])
        return r.values
    if op in ("argmax", "argmin"):
        return (torch.argmax if op == "argmax" else torch.argmin)(x, a["dim"], keepdim=a["keepDim"]).float()
    if op == "maxPool2d":
        return F.max_pool2d(x, pair(a["kernel"]), pair(a["stride"]), pair(a["padding"]))
    if op == "avgPool2d":
        return F.avg_pool2d(x, pair(a["kernel"]), pair(a["stride"]), pair(a["padding"]), count_include_pad=a["countIncludePad"])
    if op == "permute":
        return x.permute(*a["dims"])
    if op == "narrow":
        return x.narrow(a["dim"], a["start"], a["length"])
    if op == "slice":
        idx = [slice(None)] * x.ndim
        idx[a["dim"]] = slice(a["start"], a["end"], a["step"])
        return x[tuple(idx)]
    if op == "indexSelect":
        return x.index_select(a["dim"], t["index"].long())
    if op == "stack":
        return torch.stack([t["a"], t["b"], t["c"]], a["dim"])
    if op == "where":
        return torch.where(t["cond"] != 0, t["a"], t["b"])
    if op == "maskedFill":
        return x.masked_fill(t["mask"] != 0, a["value"])
    if op == "pow":
        return x.pow(a["exponent"])
    if op == "abs":
        return x.abs()
    if op == "clamp":
        return x.clamp(a["min"], a["max"])
    if op == "crossEntropy":
        target = t["target"] if a.get("probabilities") else t["target"].long()
        return F.cross_entropy(
            x, target, ignore_index=a.get("ignoreIndex", -100), label_smoothing=a.get("labelSmoothing", 0.0), reduction=a.get("reduction", "mean")
        )
    if op == "sdpa":
        return sdpa(t["q"], t["k"], t["v"], a["causal"], a.get("scale"))
    raise SystemExit(f"unknown op {op}")


def sdpa(q, k, v, causal, scale):
    """F.scaled_dot_product_attention where this PyTorch has it (2.1 and later take scale), else its
    definition: softmax(q·kᵀ·scale, causal mask) · v."""
    if hasattr(F, "scaled_dot_product_attention") and torch.__version__ >= "2.1":
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=scale)
    s = (q @ k.transpose(-2, -1)) * (scale if scale is not None else q.shape[-1] ** -0.5)
    if causal:
        s = s.masked_fill(torch.triu(torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool), 1), float("-inf"))
    return torch.softmax(s, -1) @ v


def mha(a, t, grads):
    """nn.MultiheadAttention with the case's weights; its output, and the inputs' and parameters' gradients."""
    E, H = a["embedDim"], a["numHeads"]
    m = torch.nn.MultiheadAttention(E, H, batch_first=a["batchFirst"])
    with torch.no_grad():
        for k, p in m.named_parameters():
            p.copy_(t[k])
    q, k, v = t["q"], (t["q"] if a["self"] else t["k"]), (t["q"] if a["self"] else t["v"])
    mask = None
    if a["causal"]:
        L = q.shape[1] if a["batchFirst"] else q.shape[0]
        mask = torch.triu(torch.ones(L, L, dtype=torch.bool), 1)
    out = m(q, k, v, attn_mask=mask, need_weights=False)[0]
    (out * t["w"]).sum().backward()
    for name, p in m.named_parameters():
        grads[f"grad.{name}"] = p.grad
    return out


def adamw(a, t, res):
    p = t["p"].clone().requires_grad_(True)
    opt = torch.optim.AdamW([p], lr=a["lr"], betas=tuple(a["betas"]), weight_decay=a["weightDecay"], eps=a["eps"])
    for i in range(a["steps"]):
        p.grad = t[f"g{i}"].clone()
        opt.step()
    res["out"] = p.detach()


def clip(a, t, res):
    ps = [t["p0"].clone().requires_grad_(True), t["p1"].clone().requires_grad_(True)]
    ps[0].grad, ps[1].grad = t["g0"].clone(), t["g1"].clone()
    res["out"] = torch.nn.utils.clip_grad_norm_(ps, a["maxNorm"]).reshape(1)
    res["grad.g0"], res["grad.g1"] = ps[0].grad, ps[1].grad


def lrs(spec):
    """The lr before each of spec['steps'] steps of a schedule (get_last_lr after each step)."""
    S = torch.optim.lr_scheduler
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=spec["lr"])

    def make(s):
        k, a = s["kind"], s["args"]
        if k == "StepLR":
            return S.StepLR(opt, step_size=a["stepSize"], gamma=a.get("gamma", 0.1))
        if k == "CosineAnnealingLR":
            return S.CosineAnnealingLR(opt, T_max=a["tMax"], eta_min=a.get("etaMin", 0.0))
        if k == "LinearLR":
            return S.LinearLR(opt, start_factor=a.get("startFactor", 1 / 3), end_factor=a.get("endFactor", 1.0), total_iters=a.get("totalIters", 5))
        raise SystemExit(f"unknown schedule {k}")

    if spec["kind"] == "SequentialLR":
        sched = S.SequentialLR(opt, [make(s) for s in spec["schedulers"]], milestones=spec["milestones"])
    else:
        sched = make(spec)
    out = [opt.param_groups[0]["lr"]]
    for _ in range(spec["steps"]):
        opt.step()
        sched.step()
        out.append(opt.param_groups[0]["lr"])
    return out


def main(d):
    cases = json.load(open(os.path.join(d, "cases.json")))
    inputs, _ = load_safetensors(os.path.join(d, "inputs.safetensors"))
    out = {}
    for c in cases["cases"]:
        name, op, a = c["name"], c["op"], c.get("args", {})
        t = {k[len(name) + 1 :]: v for k, v in inputs.items() if k.startswith(name + ".")}
        res = {}
        if op == "adamw":
            adamw(a, t, res)
        elif op == "clipGradNorm":
            clip(a, t, res)
        else:
            for k in c.get("grad", []):
                t[k] = t[k].clone().requires_grad_(True)
            if op == "mha":
                res["out"] = mha(a, t, res)
            else:
                y = forward(op, a, t)
                res["out"] = y
                if c.get("grad"):
                    (y * t["w"]).sum().backward()
            for k in c.get("grad", []):
                res[f"grad.{k}"] = t[k].grad
        for k, v in res.items():
            out[f"{name}.{k}"] = v.detach().reshape(v.shape) if v.ndim else v.detach().reshape(1)
    save_safetensors(os.path.join(d, "torch_ops.safetensors"), out)
    tmp = os.path.join(d, f"torch_lrs.json.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        json.dump({k: lrs(s) for k, s in cases["schedules"].items()}, f)
    os.replace(tmp, os.path.join(d, "torch_lrs.json"))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
