"""The STAND-IN's ``torch_npu.npu.amp.GradScaler``, as torch_npu/npu/amp/grad_scaler.py
behaves (facts from that file; the code is written here):

- ``dynamic=True`` (the default): torch's dynamic scaling. In saturation mode the
  overflow comes from the device's float-status register (cleared in the first
  ``scale()`` of each iteration with the deprecated ``npu_clear_float_status``), and
  each rank's verdict is summed over the default process group with an all_reduce of
  a float32 tensor on the npu, so every rank skips the same steps. Whether there is a
  process group is decided once, at the first ``scale()`` (grad_scaler.py:136-145). In
  inf/nan mode the gradients are checked as torch does, and nothing is summed.
- ``dynamic=False``: a fixed scale. Gradients are unscaled without any overflow check,
  the optimizer always steps, and the scale never changes.
- ``state_dict()`` adds a "dynamic" key, and ``load_state_dict`` requires it: it reads
  ``state_dict["dynamic"]`` (a KeyError without it) after refusing an empty state ("The
  source state dict is empty, ...") (load_state_dict).
- it prints on stdout, on every rank: "Gradient overflow. Skipping step" when a dynamic
  step is skipped (_maybe_opt_step), "Loss scaler reducing loss scale to X" and "Loss
  scaler increasing loss scale to X" when the dynamic scale changes (_npu_update_scale).
- ``unscale_`` takes the reciprocal of the scale in float32 (``self._scale.float()``),
  where torch's own takes it in float64: on the npu that would be the float64 cast
  torch_npu turns into float32 with a warning (ToKernelNpu.cpp). Its ``found_inf``
  starts pinned on the host and is copied non-blocking.
"""

import torch
import torch.distributed as dist
from torch.amp.grad_scaler import OptState

from torch_npu.npu import utils


class GradScaler(torch.amp.GradScaler):
    def __init__(
        self,
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        dynamic: bool = True,
        enabled: bool = True,
    ) -> None:
        super().__init__(
            "npu",
            init_scale=init_scale,
            growth_factor=growth_factor,
            backoff_factor=backoff_factor,
            growth_interval=growth_interval,
            enabled=enabled,
        )
        self._dynamic = dynamic
        self._has_overflow = False
        self._clear_overflow_flag = False
        self._dist_initialized = False
        self._dist_overflow_count = None

    def scale(self, outputs):
        if not self._enabled:
            return outputs
        if self._dist_overflow_count is None:
            # decided once, at the first scale() (grad_scaler.py:136-145): a process group
            # made after it is never summed over
            self._dist_initialized = dist.is_available() and dist.is_initialized()
            self._dist_overflow_count = torch.zeros(1, dtype=torch.float32, device="npu")
        if self._dynamic and not self._clear_overflow_flag:
            if not utils.is_support_inf_nan():
                self._clear_npu_overflow_flag()
            self._clear_overflow_flag = True
        return super().scale(outputs)

    @staticmethod
    def _clear_npu_overflow_flag() -> None:
        """GradScaler.clear_npu_overflow_flag: the deprecated npu_clear_float_status on a
        pinned buffer (so its deprecation warning comes from the scaler too)."""
        import torch_npu

        torch_npu.npu_clear_float_status(torch.zeros(8).pin_memory().to("npu", non_blocking=True))

    def unscale_(self, optimizer) -> None:
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError(
                "unscale_() has already been called on this optimizer since the last update()."
            )
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = self._scale.float().reciprocal()
        found_inf = torch.zeros((), dtype=torch.float32).pin_memory()
        found_inf = found_inf.to(self._scale.device, non_blocking=True)
        state["found_inf_per_device"] = self._unscale_grads_(optimizer, inv_scale, found_inf, False)
        state["stage"] = OptState.UNSCALED

    def _unscale_grads_(self, optimizer, inv_scale, found_inf, allow_fp16):
        if not self._dynamic:
            for group in optimizer.param_groups:
                for param in group["params"]:
                    if param.grad is not None:
                        param.grad.mul_(inv_scale.to(param.grad.dtype))
            return {found_inf.device: found_inf}
        per_device = super()._unscale_grads_(optimizer, inv_scale, found_inf, allow_fp16)
        self._has_overflow = any(bool(v.item()) for v in per_device.values())
        self._sync_dist_overflow_count()
        if self._has_overflow:
            for value in per_device.values():
                value.fill_(1.0)
        return per_device

    def _sync_dist_overflow_count(self) -> None:
        if utils.is_support_inf_nan() or not (self._dynamic and self._dist_initialized):
            return
        count = torch.zeros(1, dtype=torch.float32, device="npu")
        if self._has_overflow:
            count.add_(1)
        dist.all_reduce(count)
        self._has_overflow = bool(count.item() != 0)

    def _maybe_opt_step(self, optimizer, optimizer_state, *args, **kwargs):
        if not self._dynamic:
            return optimizer.step(*args, **kwargs)
        found = optimizer_state["found_inf_per_device"].values()
        if self._has_overflow or sum(v.item() for v in found):
            print("Gradient overflow. Skipping step")
            return None
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None) -> None:
        if not self._enabled:
            return
        if new_scale is None and not self._dynamic:
            new_scale = self._scale
        if new_scale is not None:
            super().update(new_scale)
            self._has_overflow = False
            self._clear_overflow_flag = False
            return
        before = float(self._scale.item())
        super().update()
        after = float(self._scale.item())
        if after < before:
            print(f"Loss scaler reducing loss scale to {after}")
        elif after > before:
            print(f"Loss scaler increasing loss scale to {after}")
        self._has_overflow = False
        self._clear_overflow_flag = False

    def state_dict(self):
        state = super().state_dict()
        if self._enabled:
            state["dynamic"] = self._dynamic
        return state

    def load_state_dict(self, state_dict) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved "
                "from a disabled instance of GradScaler."
            )
        super().load_state_dict(state_dict)
        self._dynamic = state_dict["dynamic"]
