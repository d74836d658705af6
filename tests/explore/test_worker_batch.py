"""A worker scores the points of one design together and stores what each scores alone."""

from __future__ import annotations

from pathlib import Path

from einsim.explore.design import batch_key
from einsim.explore.worker import evaluate_batch


def _params(M: int, H: int, side: int = 16, mapper: str = "fusemax") -> dict:
    return {"arch": "fusemax", "mapper": mapper, "workload": "attention_1pass", "arch.Array2D.shape.0": side,
            "arch.Array2D.shape.1": side, "arch.Array1D.shape.0": side, "rank.M": M, "rank.P": M, "rank.H": H}


def _comparable(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("started_at", "elapsed_s")}


def test_grouped_rows_equal_rows_alone(tmp_path: Path) -> None:
    params = [_params(256, 2), _params(100, 2), _params(512, 3), _params(256, 2, side=32), _params(256, 4, mapper="flat"),
              _params(1024, 1, mapper="fusemax")]
    items = [(f"k{i}", p, 0) for i, p in enumerate(params)]
    together = evaluate_batch(str(tmp_path), items)
    alone = [evaluate_batch(str(tmp_path), [item])[0] for item in items]
    assert [_comparable(r) for r in together] == [_comparable(r) for r in alone]
    assert [r["status"] for r in together] == ["ok", "error", "ok", "ok", "ok", "ok"]
    assert "rank M1 must have a positive whole size" in together[1]["error"]  # M = 100 tiles by no 16 x 16 array


def test_batch_key_separates_designs_and_mappers() -> None:
    assert batch_key(_params(256, 2)) == batch_key(_params(4096, 7))
    assert batch_key(_params(256, 2)) != batch_key(_params(256, 2, side=32))
    assert batch_key(_params(256, 2)) != batch_key(_params(256, 2, mapper="flat"))
    assert batch_key({"arch": "fusemax", "mapper": "ideal", "workload": "gemm"}) is None  # no batch mapper
    assert batch_key({"arch": "fusemax", "mapper": "fusemax", "model": "bert_base"}) is None
