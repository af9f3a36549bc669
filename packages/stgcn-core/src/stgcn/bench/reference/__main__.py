"""``python -m stgcn.bench.reference JOB``: the reference side of ``stgcn bench --reference``.

It reads one JSON request per line on stdin and answers one JSON line on stdout; the end
of stdin ends it. Nothing of the candidate's settings is applied here: plain PyTorch,
the default allocator, the reference network in fp32 eager.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

# as the stgcn command does: no accelerator plugin of torch's is imported unasked
os.environ.setdefault("TORCH_DEVICE_BACKEND_AUTOLOAD", "0")

import torch
import torch.nn.functional as F

from stgcn.bench.baseline import BaselineSTGCN
from stgcn.bench.reference.process import ReferenceJob, reference_environment
from stgcn.bench.timing import TimedStep
from stgcn.model.contract import ModelSpec, as_module
from stgcn.networks.loading import DEFAULT_MODEL, build_named
from stgcn.plugins.layouts import layout_named


def _inputs(job: ReferenceJob) -> tuple[torch.Tensor, torch.Tensor, dict[str, Any]]:
    """The bench's draws in the bench's order: input, labels, then the weights."""
    device = torch.device(job.device)
    torch.manual_seed(job.seed)
    x = torch.randn(job.batch_size, 3, job.frames, 18, job.persons, device=device)
    y = torch.randint(0, job.classes, (job.batch_size,), device=device)
    spec = ModelSpec(job.classes, 3, layout_named("openpose"))
    weights = as_module(build_named(DEFAULT_MODEL, spec)).state_dict()  # ST-GCN's defaults
    return x, y, weights


def _step(job: ReferenceJob) -> tuple[Callable[[], object], dict[str, Any]]:
    """The step to time, and what it was built from (for ``describe``)."""
    x, y, weights = _inputs(job)
    built = {
        "input_sum": float(x.double().sum()),
        "labels": y.tolist(),
        "weights_sum": float(sum(float(w.double().sum()) for w in weights.values())),
    }
    model = BaselineSTGCN(job.classes, layout="openpose", strategy="spatial")
    model.load_state_dict(weights)
    model.to(x.device)
    if job.mode == "eval":
        model.eval()

        def infer() -> object:
            with torch.inference_mode():
                return model(x)

        return infer, built
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)

    def train() -> object:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return train, built


def main() -> None:
    job = ReferenceJob(**json.loads(sys.argv[1]))
    torch.set_num_threads(job.threads)
    device = torch.device(job.device)
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    step, built = _step(job)
    # the bench's own harness: the same synchronised timing, warm-up and memory figures
    timed = TimedStep(step, synchronize, device)

    def answer(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    answer({"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        if "warm_up" in request:
            peak_rss, device_memory = timed.warm_up(int(request["warm_up"]))
            answer({"peak_rss_mib": peak_rss, "device_memory_mib": device_memory})
        elif "describe" in request:
            allocator = sorted(set(os.environ) - set(reference_environment(os.environ)))
            threads = torch.get_num_threads()
            answer(
                {"pid": os.getpid(), "threads": threads, "allocator_variables": allocator, **built}
            )
        else:
            answer({"seconds": timed.seconds()})


if __name__ == "__main__":
    main()
