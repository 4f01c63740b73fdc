"""The five MNIST GAN presets of examples/mnist-gan/presets.ts in PyTorch, with the same parameter
names, layouts and defaults, and safetensors I/O that needs no package beyond torch (the
`safetensors` package is used when it is importable). Import it from scripts next to it:

    from wgslgrad_gan import build, load_safetensors, save_safetensors, PRESETS
"""
import json
import struct

import torch
from torch import nn

# ---------------------------------------------------------------------------- safetensors

_DTYPES = {
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "F64": torch.float64,
    "I64": torch.int64,
    "I32": torch.int32,
}
_NAMES = {v: k for k, v in _DTYPES.items()}


def load_safetensors(path):
    """(tensors by name, metadata) of a safetensors file, read with torch.frombuffer."""
    with open(path, "rb") as f:
        data = f.read()
    (hlen,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + hlen].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + hlen
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        dtype = _DTYPES[info["dtype"]]
        buf = bytearray(data[base + b : base + e])
        t = torch.frombuffer(buf, dtype=dtype) if e > b else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out, meta


def save_safetensors(path, tensors, metadata=None):
    """Writes tensors (F32, or I64 for integer tensors) as safetensors: temp file, then rename."""
    import os

    header = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    blobs = []
    off = 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        if t.dtype not in (torch.float32, torch.int64):
            t = t.to(torch.float32)
        raw = t.numpy().tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    js = json.dumps(header, separators=(",", ":"))
    js += " " * ((8 - (len(js) + 8) % 8) % 8)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(js)))
        f.write(js.encode("utf-8"))
        for raw in blobs:
            f.write(raw)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# ---------------------------------------------------------------------------- the models


def channels(n, width):
    return max(1, round(n * width))


class Seq(nn.Module):
    """G(z, onehot) or D(x): an optional one-hot concatenated to the input, a reshape, the net, [B, -1]."""

    def __init__(self, net, in_shape=None, concat=False):
        super().__init__()
        self.net = net
        self.in_shape = in_shape
        self.concat = concat

    def forward(self, x, onehot=None, idx=None):
        h = torch.cat([x, onehot], 1) if self.concat and onehot is not None else x
        if self.in_shape:
            h = h.reshape(h.shape[0], *self.in_shape)
        y = self.net(h)
        return y.reshape(y.shape[0], -1)


class CondConvD(nn.Module):
    """R4's conditional DCGAN discriminator: the one-hot label as 10 constant 28×28 planes."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x, onehot=None, idx=None):
        b = x.shape[0]
        maps = onehot.reshape(b, 10, 1, 1) * torch.ones(1, 10, 28, 28, dtype=x.dtype)
        y = self.net(torch.cat([x.reshape(b, 1, 28, 28), maps], 1))
        return y.reshape(b, -1)


class AuxConvD(nn.Module):
    """AC-GAN's discriminator on R4's: the image alone, a real/fake head and a digit head Linear(features → 10)."""

    def __init__(self, net):
        super().__init__()
        self.net = net
        self.cls = nn.Linear(net[-2].in_features, 10)

    def classify(self, x):
        b = x.shape[0]
        h = self.net[:-2](x.reshape(b, 1, 28, 28))
        return self.net[-2:](h).reshape(b, -1), self.cls(h)

    def forward(self, x, onehot=None, idx=None):
        return self.classify(x)[0]


class EmbedD(nn.Module):
    """R5's discriminator: [image ‖ label embedding(10)] → 256 → 128 → 1 → Sigmoid."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 10)
        self.net = nn.Sequential(nn.Linear(794, 256), nn.LeakyReLU(0.2), nn.Linear(256, 128), nn.LeakyReLU(0.2), nn.Linear(128, 1), nn.Sigmoid())

    def forward(self, x, onehot=None, idx=None):
        return self.net(torch.cat([x, self.embed(idx.long())], 1))


def dcgan_d(in_ch, width, batch_norm):
    c1, c2 = channels(64, width), channels(128, width)
    layers = [nn.Conv2d(in_ch, c1, 4, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(c1, c2, 4, stride=2, padding=1)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(c2))
    layers += [nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(c2 * 7 * 7, 1), nn.Sigmoid()]
    return nn.Sequential(*layers)


def dcgan_g(z_in, conditional, width):
    c1, c2 = channels(128, width), channels(64, width)
    net = nn.Sequential(
        nn.Linear(z_in, c1 * 7 * 7),
        nn.BatchNorm1d(c1 * 7 * 7),
        nn.ReLU(),
        nn.Unflatten(1, (c1, 7, 7)),
        nn.ConvTranspose2d(c1, c2, 4, stride=2, padding=1),
        nn.BatchNorm2d(c2),
        nn.ReLU(),
        nn.ConvTranspose2d(c2, 1, 4, stride=2, padding=1),
        nn.Tanh(),
    )
    return Seq(net, concat=conditional)


def mlp(sizes, hidden, last):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        layers += hidden(i) if i < len(sizes) - 2 else last
    return nn.Sequential(*layers)


# name: (z, batch, lr_g, lr_d, beta1, beta2, logits, conditional, xavier[, aux_classes: the weights of D's and G's class terms])
PRESETS = {
    "dcgan": dict(z=100, batch=64, lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, logits=False, conditional=False, xavier=False),
    "mlp": dict(z=100, batch=100, lr_g=2e-4, lr_d=2e-4, beta1=0.9, beta2=0.999, logits=False, conditional=False, xavier=False),
    "mlp64": dict(z=64, batch=128, lr_g=2e-4, lr_d=2e-4, beta1=0.9, beta2=0.999, logits=True, conditional=False, xavier=False),
    "vanilla": dict(z=100, batch=128, lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, logits=False, conditional=False, xavier=False),
    "cdcgan": dict(z=100, batch=128, lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, logits=False, conditional=True, xavier=False),
    "cgan": dict(z=128, batch=64, lr_g=2e-4, lr_d=1e-4, beta1=0.5, beta2=0.999, logits=False, conditional=True, xavier=True),
    "acgan": dict(z=100, batch=128, lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, logits=False, conditional=True, xavier=False, aux_classes=(1.0, 5.0)),
}


def build(preset, width=1.0):
    """(G, D) of a preset, parameter names as wgslgrad's (`net.0.weight`, `embed.weight`, …)."""
    lrelu = lambda: [nn.LeakyReLU(0.2)]  # noqa: E731
    if preset == "dcgan":
        return dcgan_g(100, False, width), Seq(dcgan_d(1, width, False), in_shape=(1, 28, 28))
    if preset == "cdcgan":
        return dcgan_g(110, True, width), CondConvD(dcgan_d(11, width, True))
    if preset == "acgan":
        return dcgan_g(110, True, width), AuxConvD(dcgan_d(1, width, True))
    if width != 1:
        raise ValueError(f"only dcgan, cdcgan and acgan have a width; {preset} is an MLP")
    if preset == "mlp":
        g = mlp([100, 256, 512, 1024, 784], lambda i: lrelu(), [nn.Tanh()])
        d = mlp([784, 1024, 512, 256, 1], lambda i: lrelu() + [nn.Dropout(0.3)], [nn.Sigmoid()])
        return Seq(g), Seq(d)
    if preset == "mlp64":
        g = mlp([64, 128, 256, 512, 1024, 784], lambda i: [nn.BatchNorm1d([128, 256, 512, 1024][i]), nn.ReLU()], [nn.Tanh()])
        d = mlp([784, 512, 256, 128, 1], lambda i: lrelu(), [])
        return Seq(g), Seq(d)
    if preset == "vanilla":
        g = mlp([100, 150, 300, 784], lambda i: [nn.ReLU()], [nn.Tanh()])
        d = mlp([784, 300, 150, 1], lambda i: [nn.ReLU()], [nn.Sigmoid()])
        return Seq(g), Seq(d)
    if preset == "cgan":
        g = mlp([138, 128, 256, 784], lambda i: [nn.ReLU()], [nn.Tanh()])
        return Seq(g, concat=True), EmbedD()
    raise ValueError(f"unknown preset {preset}")


def one_hot(labels):
    return torch.nn.functional.one_hot(labels.long(), 10).to(torch.float32)


# ---------------------------------------------------------------------------- Adam state


def adam_from_wgslgrad(params, tensors, meta, lr=None):
    """A torch.optim.Adam over `params` holding a wgslgrad optimiser state (exp_avg.i, exp_avg_sq.i, step)."""
    hyper = json.loads(meta.get("hyper", "{}"))
    opt = torch.optim.Adam(params, lr=lr if lr is not None else hyper.get("lr", 1e-3), betas=tuple(hyper.get("betas", (0.9, 0.999))), eps=hyper.get("eps", 1e-8), weight_decay=hyper.get("weightDecay", 0))
    step = int(meta.get("step", "0"))
    for i, p in enumerate(params):
        if step:
            opt.state[p] = {"step": torch.tensor(float(step)), "exp_avg": tensors[f"exp_avg.{i}"].reshape(p.shape).clone(), "exp_avg_sq": tensors[f"exp_avg_sq.{i}"].reshape(p.shape).clone()}
    return opt


def adam_to_wgslgrad(opt, params):
    """A torch.optim.Adam's state as wgslgrad's optimiser file: (tensors, metadata)."""
    g = opt.param_groups[0]
    tensors = {}
    step = 0
    for i, p in enumerate(params):
        st = opt.state.get(p, {})
        tensors[f"exp_avg.{i}"] = st.get("exp_avg", torch.zeros_like(p)).detach()
        tensors[f"exp_avg_sq.{i}"] = st.get("exp_avg_sq", torch.zeros_like(p)).detach()
        if "step" in st:
            step = int(st["step"])
    hyper = {"lr": g["lr"], "betas": list(g["betas"]), "eps": g["eps"], "weightDecay": g["weight_decay"]}
    return tensors, {"step": str(step), "hyper": json.dumps(hyper)}
