"""One rank of a two-rank DDP step in saturation mode, where only rank 1 overflows.

Run by test_on_stand_in.py as two processes on the STAND-IN, with
NPU_STAND_IN_CHIP=Ascend910A (saturation mode):

    python overflow_on_one_rank.py RANK STORE_FILE SCALER OUT.json

SCALER is "torch" (torch's generic GradScaler("npu")) or "backend" (what the npu
backend gives for fp16). Rank 1's input overflows fp16 in the forward pass, which on
this chip saturates and raises rank 1's float-status register alone; after DDP's
all-reduce every rank holds the same finite gradients. The output records whether
this rank stepped, and its weights.
"""

import json
import sys

import torch
import torch.distributed as dist
import torch.nn.functional as F
from stgcn_backend_npu.backend import NPUBackend


def main(rank: int, store_file: str, scaler_kind: str, out: str) -> None:
    backend = NPUBackend()
    device = backend.setup(rank)
    store = dist.FileStore(store_file, 2)
    dist.init_process_group(backend.collective, store=store, rank=rank, world_size=2)
    generator = torch.Generator().manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.3)
    model = torch.nn.parallel.DistributedDataParallel(model.to(device), device_ids=[device])
    x = torch.randn(6, 4, generator=generator) * (1e6 if rank == 1 else 1.0)
    y = torch.arange(6).remainder(3)
    if scaler_kind == "torch":
        scaler = torch.amp.GradScaler("npu", init_scale=1.0)
    else:
        scaler = backend.grad_scaler("fp16")
    before = [p.detach().cpu().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with backend.autocast("fp16"):
        loss = F.cross_entropy(model(x.to(device)), y.to(device))
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    after = [p.detach().cpu() for p in model.parameters()]
    stepped = any(not torch.equal(a, b) for a, b in zip(after, before, strict=True))
    with open(out, "w", encoding="utf-8") as stream:
        json.dump({"stepped": stepped, "weights": [p.flatten().tolist() for p in after]}, stream)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4])
