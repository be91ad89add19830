"""@file Python half of the GPU check (issue 5): the PEFT round trip and ONNX Runtime's providers.

`peft`: for each case prepared by prepare.sh (a tiny checkpoint, an adapter our `seal sft` trained on
it, our logits from `seal model logits` with and without it, and our `seal model merge` output),
load the base with transformers and the adapter with peft.PeftModel, and compare logits with ours.
Passing needs the adapter logits within 1e-4 of ours AND the adapter to move the logits far more
than that (an adapter PEFT silently failed to load would otherwise look like a match).

`ort`: list Python onnxruntime's providers; run the forward graph our engine emitted (dumped by
check.mjs with its feeds and our CPU logits) on the CPU provider and, where present, on CUDA.

Runs under the GPU machine's python3 (torch 2.x, transformers 5, peft); each case is caught on its
own and the JSON report is written even when imports fail.
"""
import argparse
import json
import os
import time
import traceback
import warnings

import numpy as np

ADAPTER_TOLERANCE = 1e-4
CASES = ["llama-fp32", "qwen2-fp32", "tiny-world"]


def max_abs(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    return float(np.max(np.abs(a - b)))


def our_logits(path):
    return np.asarray(json.load(open(path))["logits"], dtype=np.float32)


def peft_case(root, name, device):
    import torch
    import transformers
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    # transformers 5 renamed from_pretrained's torch_dtype to dtype.
    kw = {"dtype": torch.float32} if int(transformers.__version__.split(".")[0]) >= 5 else {"torch_dtype": torch.float32}
    ids = torch.tensor(json.load(open(f"{root}/{name}-input.json"))["input_ids"], dtype=torch.long, device=device)

    def logits(model):
        with torch.no_grad():
            return model(input_ids=ids).logits.float().cpu().numpy()

    res = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        base = AutoModelForCausalLM.from_pretrained(f"{root}/{name}-base", **kw).to(device).eval()
        hf_base = logits(base)
        res["base_vs_ours"] = max_abs(hf_base, our_logits(f"{root}/{name}-base-logits.json"))
        model = PeftModel.from_pretrained(base, f"{root}/{name}-adapter").to(device).eval()
        hf_adapter = logits(model)
        ours_adapter = our_logits(f"{root}/{name}-adapter-logits.json")
        res["peft_vs_ours"] = max_abs(hf_adapter, ours_adapter)
        res["adapter_effect"] = max_abs(hf_adapter, hf_base)
        res["logit_scale"] = float(np.max(np.abs(hf_adapter)))
        merged = model.merge_and_unload()
        hf_merged = logits(merged)
        res["peft_merge_vs_ours_adapter"] = max_abs(hf_merged, ours_adapter)
        ours_merged = AutoModelForCausalLM.from_pretrained(f"{root}/{name}-merged", **kw).to(device).eval()
        res["our_merged_ckpt_in_hf_vs_peft_merge"] = max_abs(logits(ours_merged), hf_merged)
        res["our_merged_logits_vs_peft_merge"] = max_abs(our_logits(f"{root}/{name}-merged-logits.json"), hf_merged)
    res["warnings"] = sorted({str(w.message)[:300] for w in caught if "lora" in str(w.message).lower() or "key" in str(w.message).lower()})
    res["pass"] = res["peft_vs_ours"] < ADAPTER_TOLERANCE and res["adapter_effect"] > 100 * ADAPTER_TOLERANCE
    return res


def run_peft(root):
    report = {"tolerance": ADAPTER_TOLERANCE}
    try:
        import peft
        import torch
        import transformers

        report["versions"] = {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        if torch.cuda.is_available():
            report["gpu"] = torch.cuda.get_device_name(0)
    except Exception as e:  # reported, not raised: the ORT half still runs
        report["error"] = f"{type(e).__name__}: {e}"
        return report
    for name in CASES:
        for device in devices:
            key = f"{name}.{device}"
            try:
                report[key] = peft_case(root, name, device)
            except Exception as e:
                report[key] = {"pass": False, "error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()[-1500:]}
            print(key, json.dumps(report[key]), flush=True)
    return report


def load_dump(graph_dir):
    manifest = json.load(open(os.path.join(graph_dir, "manifest.json")))
    dtypes = {"float32": np.float32, "int64": np.int64}

    def read(spec):
        return np.fromfile(os.path.join(graph_dir, spec["file"]), dtype=dtypes[spec["dtype"]]).reshape(spec["shape"])

    return {name: read(spec) for name, spec in manifest["feeds"].items()}, read(manifest["logits"])


def timed_run(session, feeds, runs=5):
    session.run(["logits"], feeds)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = session.run(["logits"], feeds)[0]
        times.append((time.perf_counter() - t0) * 1000)
    return out, sorted(times)[len(times) // 2]


def run_ort(graph_dir):
    report = {}
    try:
        import onnxruntime as ort

        report["version"] = ort.__version__
        report["providers"] = ort.get_available_providers()
    except Exception as e:
        report["error"] = f"{type(e).__name__}: {e}"
        return report
    model = os.path.join(graph_dir, "forward.onnx")
    if not os.path.exists(model):
        report["graph"] = f"{model} missing (check.mjs did not dump it)"
        return report
    feeds, node_logits = load_dump(graph_dir)
    wanted = ["CPUExecutionProvider"] + [p for p in ("CUDAExecutionProvider",) if p in report["providers"]]
    cpu_out = None
    for provider in wanted:
        try:
            session = ort.InferenceSession(model, providers=[provider])
            out, ms = timed_run(session, feeds)
            entry = {"session_providers": session.get_providers(), "median_ms": ms, "vs_node_cpu": max_abs(out, node_logits)}
            if cpu_out is not None:
                entry["vs_python_cpu"] = max_abs(out, cpu_out)
            cpu_out = out if provider == "CPUExecutionProvider" else cpu_out
            report[provider] = entry
        except Exception as e:
            report[provider] = {"error": f"{type(e).__name__}: {e}"[:1500]}
        print(provider, json.dumps(report[provider]), flush=True)
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["peft", "ort"])
    parser.add_argument("--peft-dir", default=".gpu-check-peft")
    parser.add_argument("--graph-dir", default="/tmp/gpu-check-graph")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    report = run_peft(args.peft_dir) if args.what == "peft" else run_ort(args.graph_dir)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
