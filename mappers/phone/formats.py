"""Weight formats and small deployment constants shared by the phone policies (with sources)."""

from __future__ import annotations

# INT4 with one fp16 scale per 32 weights: 18 B per 32 weights.
# source: llama.cpp Q4_0 block format (16 B of nibbles + 2 B fp16 scale per 32 weights); PowerInfer-2's
# 2.7 GB of FFN scales for ~45 G FFN weights (fpga_phone.md 2(c)) is the same 1/16 B per weight [D].
INT4_WEIGHT_B = 0.5
INT4_SCALE_B = 2.0 / 32.0
INT4_B = INT4_WEIGHT_B + INT4_SCALE_B

# source: estimate, the Linux default read_ahead_kb = 128 for block devices; a page fault on an
# mmapped file reads this much around the faulting page.
READAHEAD_B = 128 * 1024

# source: fpga_phone.md 2(c) PowerInfer-2 v3: 0.3 GB of runtime memory at the 7 GB budget [P].
RUNTIME_B = 0.3e9
