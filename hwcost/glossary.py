"""Canonical names of quantities, with units, used in code, tables, the CLI and notebooks."""

import pandas as pd

TERMS = {
    "ttft_s": ("s", "time to first token: queueing + prefill of the prompt (its pass gives the first token)"),
    "tpot_s": ("s", "time per output token after the first (mean decode step seen by a request)"),
    "e2e_s": ("s", "end-to-end request latency: ttft_s + (output_tokens - 1) x tpot_s"),
    "output_tokens_per_s": ("tokens/s", "generated tokens per second, summed over all requests in flight"),
    "tokens_per_s_per_request": ("tokens/s", "decode speed one request sees (1 / tpot_s)"),
    "input_tokens": ("tokens", "prompt length of a request"),
    "output_tokens": ("tokens", "generated length of a request"),
    "requests_per_day": ("1/day", "request volume"),
    "batch_size": ("sequences", "sequences decoded together in one step"),
    "n_gpus": ("GPUs", "GPUs in one replica (tensor parallel degree)"),
    "precision": ("-", "weight precision: fp16, bf16, fp8, int8, int4 (weight-only), fp4 (FP4 tensor cores only)"),
    "kv_precision": ("-", "KV-cache precision"),
    "memory_gb": ("GB", "device memory, 10^9 bytes"),
    "mem_bw_gbps": ("GB/s", "peak memory bandwidth"),
    "weights_gb": ("GB", "model weights resident in memory"),
    "kv_cache_gb": ("GB", "key/value cache for the batch at full length"),
    "usd_per_hour": ("USD/h", "price of an instance or a GPU for one hour"),
    "usd_per_gpu_hour": ("USD/h", "price of one GPU for one hour"),
    "usd_per_million_tokens": ("USD/1M tokens", "cost of generating (or processing) a million tokens"),
    "utilization": ("0-1", "fraction of paid time the hardware does useful work"),
    "tdp_w": ("W", "board power"),
    "usd_per_kwh": ("USD/kWh", "electricity price"),
    "pue": ("-", "power usage effectiveness: facility power / IT power"),
    "queue_s": ("s", "time a request waits before the scheduler admits it"),
    "busy_fraction": ("0-1", "share of simulated time the replica is computing"),
    "saturation_requests_per_s": ("1/s", "request rate at which one replica is busy all the time"),
    "requests_per_s": ("1/s", "request arrival or completion rate"),
    "capex_usd": ("USD", "money paid up front for owned hardware: GPUs, hosts, networking, setup"),
    "running_usd_per_year": ("USD/year", "cost of running an option every year: power, colocation, "
                             "maintenance, staff (all of a rented or API option's cost)"),
    "n_gpus_bought": ("GPUs", "GPUs paid for: the replicas' GPUs rounded up to whole purchase units"),
    "spare_gpus": ("GPUs", "GPUs bought or rented that no replica uses"),
    "bill_of_materials": ("-", "what an option buys or rents: boxes, GPUs, racks, kW"),
    "segment": ("-", "datacenter, workstation or consumer (owned GPUs), cloud, api"),
    "colocation_usd_per_kw_month": ("USD/(kW month)", "colocation fee per committed kW of nameplate power"),
    "window_hours": ("h", "batch work: hours a day within which the day's requests are processed"),
    "break_even_months": ("months", "time after which owning costs less than renting"),
}


def table() -> pd.DataFrame:
    """The glossary as a DataFrame: name, unit, meaning."""
    return pd.DataFrame(
        [{"name": k, "unit": u, "meaning": m} for k, (u, m) in TERMS.items()]
    )
