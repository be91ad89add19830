#!/usr/bin/python3
"""Probe a generated tiny world with a small PyTorch model (a design check, not part of the product).

Reads the files `pnpm world` writes (pretrain.jsonl, tokenizer.json, <split>.json, oracle_<split>.json),
pretrains a small GPT on the corpus, then per held-out passage fine-tunes a fresh copy under SEAL's
conditions and answers the passage's questions closed-book:
  base       no update
  passage    the passage alone                        (SEAL: an empty self-edit)
  self-edit  passage + implications sampled from the model itself (temperature 1, k samples, mean)
  oracle     passage + the world's gold restatements/implications
Training sequences follow SEAL's build_train_sequences ("{title}\\n{line}" per line, passage last);
questions use SEAL's closed-book prompt; grading is normalised containment on the first line.
Prints one JSON line per stage and a final table, split into direct / implied questions.

Run (1 thread, leave CPU to others):
  pnpm world --seed 1 --set pretrainPeople=600 --out runs/world-probe
  OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT=4 OMP_NUM_THREADS=1 \\
    /usr/bin/python3 tools/world/probe_world.py runs/world-probe --epochs 12 --passages 40
"""
import argparse, json, math, os, random, re, time

for _k, _v in {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_THREAD_TIMEOUT": "4", "OMP_NUM_THREADS": "1"}.items():
    os.environ.setdefault(_k, _v)
import torch
import torch.nn as nn
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("world", help="folder written by tools/world/make-world.ts")
ap.add_argument("--split", default="test")
ap.add_argument("--passages", type=int, default=40)
ap.add_argument("--epochs", type=int, default=12)
ap.add_argument("--d", type=int, default=128)
ap.add_argument("--layers", type=int, default=4)
ap.add_argument("--ctx", type=int, default=256)
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--lr", type=float, default=2e-3)
ap.add_argument("--ft-steps", type=int, default=30)
ap.add_argument("--ft-lr", type=float, default=3e-3)
ap.add_argument("--ft-params", choices=["out", "all"], default="out", help="out: attention-out + MLP-down weights")
ap.add_argument("--k", type=int, default=2, help="self-edit samples per passage")
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--save", help="save/load the pretrained weights here (skips pretraining if it exists)")
args = ap.parse_args()
torch.manual_seed(args.seed); random.seed(args.seed); torch.set_num_threads(args.threads)
t0 = time.time()

def log(**kw):
    print(json.dumps({"t": int(time.time() - t0), **kw}), flush=True)

# ----- tokenizer: the same normaliser / pre-tokenizer / greedy longest match as tokenizer.json -----
tok = json.load(open(os.path.join(args.world, "tokenizer.json")))
vocab = tok["model"]["vocab"]; inv = {i: w for w, i in vocab.items()}
BOS, EOS, PAD = vocab["<bos>"], vocab["<eos>"], vocab["<pad>"]
NEWLINE = re.compile(tok["normalizer"]["normalizers"][0]["pattern"]["Regex"])
SPLIT = re.compile(tok["pre_tokenizer"]["pattern"]["Regex"])
NL = vocab["\n"]

def encode(text, bos=True):
    ids = [BOS] if bos else []
    for piece in SPLIT.findall(" " + NEWLINE.sub("\n ", text).rstrip(" ")):
        start = 0
        while start < len(piece):
            for end in range(len(piece), start, -1):
                if piece[start:end] in vocab:
                    ids.append(vocab[piece[start:end]]); start = end; break
            else:
                ids.append(vocab["<unk>"]); break
    return ids

def decode(ids):
    text = "".join(inv[i] for i in ids if i not in (BOS, EOS, PAD)).replace("\n ", "\n")
    return text[1:] if text.startswith(" ") else text

# ----- SEAL's rules (same as libs/tasks) -----
def question_prompt(title, q):
    return f"Let's answer a question directly and concisely.\nQuestion: Topic: {title}\n{q}\nAnswer:\n"

def implications_prompt(title, context):
    return ("Let's read the following passage and produce a list of implications derived directly or indirectly "
            f"from the content.\n\nPassage:\n{title}\n{context}\n\nImplications:\n")

def train_sequences(title, context, completion):
    lines = [l.strip() for seg in completion.split("---") for l in seg.split("\n") if l.strip()]
    if len(lines) >= 2 and lines[1].startswith("1."):
        lines = lines[1:]
    return [f"{title}\n{l}" for l in lines] + [f"{title}\n{context.strip()}"]

def normalize(s):
    s = re.sub(r"[^\w\s]", " ", s.lower())
    return " ".join(w for w in s.split() if w not in ("a", "an", "the"))

def correct(pred, gold):
    first = next((l for l in pred.split("\n") if l.strip()), "")
    p, g = normalize(first), normalize(gold)
    return bool(p) and bool(g) and f" {g} " in f" {p} "

# ----- model -----
class Block(nn.Module):
    def __init__(s, d, h):
        super().__init__(); s.h = h
        s.n1 = nn.LayerNorm(d); s.qkv = nn.Linear(d, 3 * d, bias=False); s.o = nn.Linear(d, d, bias=False)
        s.n2 = nn.LayerNorm(d); s.up = nn.Linear(d, 4 * d, bias=False); s.down = nn.Linear(4 * d, d, bias=False)
    def forward(s, x):
        B, T, D = x.shape
        q, k, v = s.qkv(s.n1(x)).view(B, T, 3, s.h, D // s.h).permute(2, 0, 3, 1, 4)
        mask = torch.full((T, T), float("-inf")).triu(1)  # torch 1.13 (Debian) has no fused SDPA
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D // s.h) + mask, -1)
        x = x + s.o((a @ v).transpose(1, 2).reshape(B, T, D))
        return x + s.down(F.gelu(s.up(s.n2(x))))

class LM(nn.Module):
    def __init__(s, V, d, L, T, h=4):
        super().__init__()
        s.emb = nn.Embedding(V, d); s.pos = nn.Embedding(T, d)
        s.blocks = nn.ModuleList(Block(d, h) for _ in range(L)); s.nf = nn.LayerNorm(d)
        for w in (s.emb.weight, s.pos.weight):  # small init: the output head is tied to the embedding
            nn.init.normal_(w, std=0.02)
    def forward(s, ids):
        x = s.emb(ids) + s.pos(torch.arange(ids.shape[1]))
        for b in s.blocks:
            x = b(x)
        return s.nf(x) @ s.emb.weight.T  # tied embeddings

def new_model():
    return LM(len(vocab), args.d, args.layers, args.ctx)

def pad_batch(seqs):
    T = max(len(x) for x in seqs)
    ids = torch.full((len(seqs), T), PAD, dtype=torch.long)
    for i, x in enumerate(seqs):
        ids[i, : len(x)] = torch.tensor(x)
    lab = ids.clone(); lab[ids == PAD] = -100
    return ids, lab

def lm_loss(m, ids, lab):
    lg = m(ids)
    return F.cross_entropy(lg[:, :-1].reshape(-1, lg.shape[-1]), lab[:, 1:].reshape(-1), ignore_index=-100)

# ----- pretraining: pack documents (BOS … EOS) into ctx-long rows -----
model = new_model()
log(stage="model", params=sum(p.numel() for p in model.parameters()), vocab=len(vocab))
docs = [encode(json.loads(l)["text"]) + [EOS] for l in open(os.path.join(args.world, "pretrain.jsonl"))]
n_tokens = sum(len(d) for d in docs)
if args.save and os.path.exists(args.save):
    model.load_state_dict(torch.load(args.save)); log(stage="loaded", path=args.save)
else:
    steps_per_epoch = n_tokens // (args.ctx * args.batch)
    total = steps_per_epoch * args.epochs
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01, betas=(0.9, 0.95))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1, (s + 1) / 100) * max(0.1, 1 - s / max(1, total)))
    for ep in range(args.epochs):
        random.shuffle(docs)
        flat = [t for d in docs for t in d]
        rows = torch.tensor(flat[: steps_per_epoch * args.batch * args.ctx]).view(-1, args.ctx)
        rows = rows[torch.randperm(len(rows))]
        tot = 0.0
        for i in range(0, len(rows), args.batch):
            x = rows[i : i + args.batch]
            loss = F.cross_entropy(model(x)[:, :-1].reshape(-1, len(vocab)), x[:, 1:].reshape(-1))
            opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step(); sched.step()
            tot += loss.item()
        log(stage="pretrain", epoch=ep + 1, loss=round(tot / max(1, len(rows) // args.batch), 3), tokens=n_tokens)
    if args.save:
        torch.save(model.state_dict(), args.save)

# ----- evaluation -----
@torch.no_grad()
def generate(m, prompt, max_new, temperature=0.0, stop_nl=False):
    ids = encode(prompt); out = []
    for _ in range(max_new):
        if len(ids) >= args.ctx:
            break
        logits = m(torch.tensor([ids]))[0, -1]
        t = int(logits.argmax()) if temperature == 0 else int(torch.multinomial(torch.softmax(logits / temperature, -1), 1))
        if t == EOS or (stop_nl and t == NL):
            break
        ids.append(t); out.append(t)
    return decode(out)

def answer_all(m, passage):
    m.eval()
    res = [(q.get("kind", "direct"), correct(generate(m, question_prompt(passage["title"], q["question"]), 6, stop_nl=True), q["answer"]))
           for q in passage["questions"]]
    return res

def adapted(base, seqs):
    m = new_model(); m.load_state_dict(base.state_dict()); m.train()
    params = list(m.parameters()) if args.ft_params == "all" else [w for b in m.blocks for w in (b.o.weight, b.down.weight)]
    for p in m.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=args.ft_lr, weight_decay=0.0)
    ids, lab = pad_batch([encode(s) + [EOS] for s in seqs])
    for _ in range(args.ft_steps):
        loss = lm_loss(m, ids, lab); opt.zero_grad(); loss.backward(); opt.step()
    return m

passages = json.load(open(os.path.join(args.world, f"{args.split}.json")))[: args.passages]
oracle = {r["title"]: r["completions"][0] for r in json.load(open(os.path.join(args.world, f"oracle_{args.split}.json")))}
scores = {c: [] for c in ("base", "passage", "self-edit", "oracle")}
implied_in_edits = []
model.eval()
for i, p in enumerate(passages):
    scores["base"] += answer_all(model, p)
    scores["passage"] += answer_all(adapted(model, train_sequences(p["title"], p["context"], "")), p)
    scores["oracle"] += answer_all(adapted(model, train_sequences(p["title"], p["context"], oracle[p["title"]])), p)
    for _ in range(args.k):
        edit = generate(model, implications_prompt(p["title"], p["context"]), 120, temperature=1.0)
        implied_in_edits.append(sum(q["answer"] in edit for q in p["questions"] if q.get("kind") == "implied"))
        r = answer_all(adapted(model, train_sequences(p["title"], p["context"], edit)), p)
        scores["self-edit"] += [(k, c / args.k) for k, c in r]  # mean over k samples
    if i == 0:
        log(stage="sample-self-edit", title=p["title"], edit=edit)
    if (i + 1) % 10 == 0:
        log(stage="eval", passages=i + 1, **{c: round(100 * sum(x for _, x in v) / len(v), 1) for c, v in scores.items()})

def pct(rows, kind=None):
    sel = [x for k, x in rows if kind is None or k == kind]
    return round(100 * sum(sel) / len(sel), 1) if sel else None

table = {c: {"all": pct(v), "direct": pct(v, "direct"), "implied": pct(v, "implied")} for c, v in scores.items()}
log(stage="final", passages=len(passages), questions=len(scores["base"]),
    implied_answers_per_self_edit=round(sum(implied_in_edits) / max(1, len(implied_in_edits)), 2), table=table)
