"""The PyTorch twin of examples/char-transformer: the same character-level GPT (parameter names and
layout of wgslgrad's), the same words, split and batches (mulberry32, repeated to the bit), the same
AdamW, schedule and clipping, started from the weights a wgslgrad run wrote before its first step.

    python3 char_transformer.py train DIR [STEPS]   # DIR/{config.json,init.safetensors} → DIR/torch_metrics.csv
    python3 char_transformer.py step DIR             # one training step's loss and gradients → DIR/torch_step.safetensors

`train` prints one JSON line: {"val_loss": ..., "train_loss": ..., "steps": ..., "seconds": ...}.
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wgslgrad_gan import load_safetensors, save_safetensors  # noqa: E402

torch.set_num_threads(max(1, os.cpu_count() or 1))
M32 = 0xFFFFFFFF


def imul(a, b):
    return (a * b) & M32


def mulberry32(seed):
    """examples/char-transformer/data.ts's stream of numbers in [0, 1)."""
    state = [seed & M32]

    def nxt():
        state[0] = (state[0] + 0x6D2B79F5) & M32
        t = state[0]
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & M32
        return ((t ^ (t >> 14)) & M32) / 4294967296

    return nxt


def load_words(path, seed, max_len, lower_az, val_fraction=0.1, max_val=1000):
    """data.ts's loadWords: the same words in the same order, the same split and characters."""
    import re

    seen, words = set(), []
    with open(path, encoding="utf-8") as f:
        for line in f.read().split("\n"):
            w = line.strip()
            if not w or "." in w or w in seen or len(w) > max_len:
                continue
            if lower_az and not re.fullmatch(r"[a-z]+", w):
                continue
            seen.add(w)
            words.append(w)
    r = mulberry32(seed)
    for i in range(len(words) - 1, 0, -1):
        j = math.floor(r() * (i + 1))
        words[i], words[j] = words[j], words[i]
    n_val = min(max_val, max(1, math.floor(len(words) * val_fraction)))
    chars = "".join(sorted(set("".join(words))))
    return chars, words[: len(words) - n_val], words[len(words) - n_val :]


def encode(words, chars, T):
    x = torch.zeros(len(words), T, dtype=torch.long)
    y = torch.full((len(words), T), -1, dtype=torch.long)
    for n, w in enumerate(words):
        for t, c in enumerate(w):
            tok = chars.index(c) + 1
            x[n, t + 1] = tok
            y[n, t] = tok
        y[n, len(w)] = 0
    return x, y


class Batches:
    def __init__(self, words, seed):
        self.words = words
        self.r = mulberry32((seed ^ 0x9E3779B9) & M32)

    def next(self, batch):
        return [self.words[math.floor(self.r() * len(self.words))] for _ in range(batch)]


class Mlp(nn.Module):
    def __init__(self, e):
        super().__init__()
        self.c_fc = nn.Linear(e, 4 * e)
        self.c_proj = nn.Linear(4 * e, e)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, e, heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(e)
        self.attn = nn.MultiheadAttention(e, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(e)
        self.mlp = Mlp(e)

    def forward(self, x, mask):
        h = self.ln_1(x)
        a = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return a + self.mlp(self.ln_2(a))


class CharGpt(nn.Module):
    def __init__(self, c):
        super().__init__()
        e = c["nEmbd"]
        self.config = c
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(c["vocabSize"], e),
                wpe=nn.Embedding(c["blockSize"], e),
                h=nn.ModuleList([Block(e, c["nHead"]) for _ in range(c["nLayer"])]),
                ln_f=nn.LayerNorm(e),
            )
        )
        # a tied head reads the token embedding (no lm_head.weight in the state dict, as wgslgrad's)
        self.lm_head = None if c["tied"] else nn.Linear(e, c["vocabSize"], bias=False)

    def forward(self, idx):
        T = idx.shape[1]
        tr = self.transformer
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
        x = tr.wte(idx) + tr.wpe(torch.arange(T))
        for b in tr.h:
            x = b(x, mask)
        x = tr.ln_f(x)
        return self.lm_head(x) if self.lm_head is not None else F.linear(x, tr.wte.weight)

    def loss(self, idx, y):
        logits = self.forward(idx)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-1)


def load_run(d):
    cfg = json.load(open(os.path.join(d, "config.json")))
    model = CharGpt(cfg["model"])
    sd, _ = load_safetensors(os.path.join(d, "init.safetensors"))
    model.load_state_dict(sd, strict=True)
    return cfg, model


def schedule(opt, run):
    """main.ts's schedule: LinearLR warm-up from lr/100, then a cosine decay to lr/10."""
    S = torch.optim.lr_scheduler
    cosine = S.CosineAnnealingLR(opt, T_max=run["steps"] - run["warmup"], eta_min=run["lr"] / 10)
    if run["warmup"] == 0:
        return cosine
    warm = S.LinearLR(opt, start_factor=0.01, end_factor=1.0, total_iters=run["warmup"])
    return S.SequentialLR(opt, [warm, cosine], milestones=[run["warmup"]])


def train(d, steps=None):
    cfg, model = load_run(d)
    run = cfg["run"]
    chars, tr_words, val_words = load_words(run["data"], run["seed"], run["maxLen"], run["data"] == "/usr/share/dict/words")
    if chars != cfg["chars"] or len(val_words) != cfg["split"]["val"] or tr_words[0] != cfg["split"]["firstTrain"]:
        raise SystemExit("the words or their split differ from the wgslgrad run's (config.json)")
    T = cfg["model"]["blockSize"]
    opt = torch.optim.AdamW(model.parameters(), lr=run["lr"], betas=(0.9, 0.99), weight_decay=run["weightDecay"])
    sched = schedule(opt, run)
    batches = Batches(tr_words, run["seed"])
    xv, yv = encode(val_words, chars, T)
    steps = steps or run["steps"]
    rows, acc, n = [], 0.0, 0
    t0 = time.time()
    for s in range(1, steps + 1):
        x, y = encode(batches.next(run["batch"]), chars, T)
        opt.zero_grad()
        loss = model.loss(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        lr = opt.param_groups[0]["lr"]
        sched.step()
        acc += loss.item()
        n += 1
        if s % run["logEvery"] == 0 or s == steps:
            with torch.no_grad():
                val = model.loss(xv, yv).item()
            rows.append((s, acc / n, val, lr))
            acc, n = 0.0, 0
    secs = time.time() - t0
    tmp = os.path.join(d, f"torch_metrics.csv.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        f.write("step,train_loss,val_loss,lr\n")
        for r in rows:
            f.write(",".join(str(v) for v in r) + "\n")
    os.replace(tmp, os.path.join(d, "torch_metrics.csv"))
    print(json.dumps({"val_loss": rows[-1][2], "train_loss": rows[-1][1], "steps": steps, "seconds": secs}))


def step(d):
    """The loss and every parameter's gradient of one step on DIR/batch.safetensors (x, y)."""
    _, model = load_run(d)
    b, _ = load_safetensors(os.path.join(d, "batch.safetensors"))
    loss = model.loss(b["x"].long(), b["y"].long())
    loss.backward()
    out = {"loss": loss.detach().reshape(1)}
    for k, p in model.named_parameters():
        out[f"grad.{k}"] = p.grad
    save_safetensors(os.path.join(d, "torch_step.safetensors"), out)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "train":
        train(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else None)
    elif len(sys.argv) == 3 and sys.argv[1] == "step":
        step(sys.argv[2])
    else:
        raise SystemExit(__doc__)
