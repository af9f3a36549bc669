"""Where a benched step spends its time: ``stgcn bench --profile``.

The bench's figure says how fast a step is; this says why. After the timed steps, the
same step (same model, mode, precision and input) runs a few more times under
``torch.profiler``, and the operators are ranked by their self time: the time inside an
operator less the time of the operators it calls, so that the rows add up to the step
and a ``conv2d`` that only dispatches to ``mkldnn_convolution`` does not count twice.

The profiled steps are apart from the timed ones because the profiler's own bookkeeping
(a record per operator call) slows a step of many small operators more than one of few
large ones, which would bend the comparison the samples/s figure makes.

Those records also grow the heap while the steps run, so that the step's large tensors
land on fresh pages which the kernel faults in: under the profiler, memory-bound
operators (batch norms, copies, adds) can read several times their cost (a batch norm
of CTR-GCN's fp32 inference 10.4 ms a call in the profile, 1.5 ms timed by a hook; its
profiled steps faulted about 19,000 pages each, its timed ones next to none). The table's
header gives the page faults a profiled step took, so that a reader sees when that
happened.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from stgcn.bench.timing import Stepper

#: steps profiled after the timed ones: enough to average, few enough to stay quick
PROFILED_STEPS = 3


@dataclass(frozen=True)
class OperatorTime:
    """One operator's share of the profiled steps: its self time per step and calls per
    step (the profiler's counts over the steps, divided by them)."""

    name: str
    self_ms_per_step: float
    calls_per_step: float
    share: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Profile:
    """The top operators by self time of ``steps`` profiled steps, and the whole self time
    per step they are a share of."""

    steps: int
    total_ms_per_step: float
    operators: tuple[OperatorTime, ...]
    #: the process's minor page faults per profiled step (None where the platform does
    #: not count them): large, the memory-bound operators' times read high
    page_faults_per_step: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "total_ms_per_step": self.total_ms_per_step,
            "page_faults_per_step": self.page_faults_per_step,
            "operators": [op.to_dict() for op in self.operators],
        }

    def describe(self) -> list[str]:
        """The table ``stgcn bench --profile`` prints under the figures."""
        width = max([len("operator")] + [len(op.name) for op in self.operators])
        faults = ""
        if self.page_faults_per_step is not None:
            faults = f", {self.page_faults_per_step:.0f} page faults a step"
        lines = [
            f"profile: top {len(self.operators)} operators by self time, "
            f"{self.steps} steps after the timed ones, {self.total_ms_per_step:.1f} ms "
            f"per step in all{faults}",
            f"  {'operator':<{width}}  {'ms/step':>9}  {'share':>6}  {'calls/step':>10}",
        ]
        for op in self.operators:
            lines.append(
                f"  {op.name:<{width}}  {op.self_ms_per_step:>9.2f}  {op.share:>6.1%}  "
                f"{op.calls_per_step:>10.0f}"
            )
        return lines


def profile_steps(stepper: Stepper, rows: int, steps: int = PROFILED_STEPS) -> Profile:
    """Run ``steps`` of ``stepper`` under ``torch.profiler`` (CPU activity: on an
    accelerator the host's view, each step synchronised as the bench's are) and rank the
    operators by self time; ``rows`` of them are kept."""
    from torch.profiler import ProfilerActivity, profile

    faults_before = _minor_page_faults()
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        for _ in range(steps):
            stepper.seconds()
    faults_after = _minor_page_faults()
    averages = [event for event in profiler.key_averages() if event.self_cpu_time_total > 0]
    total_us = sum(event.self_cpu_time_total for event in averages)
    averages.sort(key=lambda event: event.self_cpu_time_total, reverse=True)
    operators = tuple(
        OperatorTime(
            name=event.key,
            self_ms_per_step=event.self_cpu_time_total / 1000 / steps,
            calls_per_step=event.count / steps,
            share=event.self_cpu_time_total / total_us if total_us else 0.0,
        )
        for event in averages[:rows]
    )
    faults = None
    if faults_before is not None and faults_after is not None:
        faults = (faults_after - faults_before) / steps
    return Profile(steps, total_us / 1000 / steps, operators, faults)


def _minor_page_faults() -> int | None:
    """The process's minor page faults so far (``getrusage``); None on Windows."""
    if sys.platform == "win32":
        return None
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
