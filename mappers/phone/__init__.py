"""Smartphone / laptop back-end: LLM decoding from flash on NPU/CPU + shared DRAM + UFS/SSD.

Policies (naive mmap, LLM in a flash, PowerInfer-2, LLMCad) map one model onto one device and
return per-token latency split into compute, I/O and memory management.
"""
