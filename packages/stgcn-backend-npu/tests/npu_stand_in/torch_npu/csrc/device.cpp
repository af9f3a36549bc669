// The STAND-IN's "npu" device: torch's PrivateUse1 key backed by host memory.
//
// Tensors made here really live on npu:N (their device, storage and dispatch key are
// PrivateUse1), so the trainer's device path runs as on an Ascend card: every operator
// without a kernel of its own runs through torch's CPU fallback (copies in and out),
// views alias the same storage, and copies between host and device go through
// _copy_from. What the real torch_npu does and this file imitates, by source:
//  - torch_npu/csrc/core/npu/CachingHostAllocator.cpp (process_non_blocking_copy): a
//    non_blocking copy from host memory torch_npu did not pin becomes a synchronisation
//    of the stream. Counted here as unpinned_syncs().
//  - torch_npu/csrc/aten/ops/op_api/CopyKernelOpApi.cpp and
//    torch_npu/csrc/aten/common/CopyKernel.cpp (copy_between_host_and_device[_opapi]):
//    a copy between host and device without non_blocking calls aclrtSynchronizeStream
//    on the current stream before its aclrtMemcpy, so the host waits for all queued
//    work (the read: CopyKernelOpApi.cpp:73-81, CopyKernel.cpp:134-142 at
//    master 9e73e708; the same branch in every version read here). Counted here as
//    blocking_copies() for host to device, host_reads() for device to host. Copies the
//    stand-in makes itself (the CPU fallback's, a convolution's) are not counted.
//  - torch_npu/csrc/aten/common/ToKernelNpu.cpp (_to_copy, lines 35-45): a cast to
//    float64 of an npu tensor (dtype given, no device or layout: .double(),
//    .to(torch.float64)) gives float32 and warns once per process "Device do not
//    support double dtype now, dtype cast replace with float." (torch_npu's
//    test/npu/test_storage.py, _test_dtype, expects float32 for float64 storage). The
//    warning is TORCH_NPU_WARN_ONCE: torch_npu's warn_ (NPUException.cpp:83-88) hands
//    it to c10's base handler, which writes a "[W...] Warning: ..." line on stderr (not
//    a Python warning), and only where OptionsManager::ShouldPrintWarning
//    (OptionsManager.cpp:646-657) allows: not with TORCH_NPU_DISABLED_WARNING=1, and
//    only on rank 0 or where RANK is unset.
//  - torch_npu/csrc/core/npu/NpuVariables.cpp (IsSupportInfNan): chips before Ascend910B1
//    run in saturation mode: an overflow gives the largest finite value instead of inf
//    and sets the device's float-status register, which stays set until cleared.
//    Imitated after every operator while saturation mode is on.
//  - op-plugin's _amp_foreach_non_finite_check_and_unscale_ for saturation mode: reads
//    the register, and when it is set clears it, sets found_inf and returns without
//    unscaling; otherwise unscales. In inf/nan mode: the ordinary check of the grads.
//  - torch_npu/csrc/aten/NPUGeneratorImpl.cpp (v26.2.0-0day-pytorch2.13.0): each npu has
//    its own default generator, a Philox seed and offset. Made on first use and seeded
//    from a nondeterministic source (getDefaultNPUGenerator, :62-63, which calls
//    seed(), :303-309) until torch.npu.manual_seed (or torch.manual_seed, through
//    manual_seed_all) seeds it with the offset at 0. Its state is 16 bytes, the seed
//    and the offset (get_state); set_state takes 16, or 8 (a seed, offset 0), and
//    refuses any other size with "RNG state is wrong size" and an offset that is not a
//    multiple of 4 (:315-370). Dropout on an npu draws from it, not from the CPU's. Here
//    an operator tagged nondeterministic_seeded runs its CPU kernel with the CPU
//    generator seeded from (seed, offset), and then advances the offset by 4 (the real
//    kernels advance it by what they ask for; the stand-in's amount is its own).
#include <torch/extension.h>

#include <ATen/EmptyTensor.h>
#include <ATen/autocast_mode.h>
#include <ATen/detail/PrivateUse1HooksInterface.h>
#include <ATen/native/CPUFallback.h>
#include <ATen/ops/_reshape_alias_native.h>
#include <ATen/ops/_to_copy_native.h>
#include <ATen/ops/as_strided_native.h>
#include <ATen/ops/resize_native.h>
#include <ATen/ops/set_native.h>
#include <ATen/ops/view_native.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <c10/core/impl/alloc_cpu.h>

#include <ATen/CPUGeneratorImpl.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <unordered_set>

namespace {

constexpr c10::DeviceType kNpu = c10::DeviceType::PrivateUse1;

std::atomic<int> g_device_count{0};
thread_local c10::DeviceIndex g_current = 0;
std::atomic<int64_t> g_unpinned_syncs{0};
std::atomic<int64_t> g_host_reads{0};
std::atomic<int64_t> g_blocking_copies{0};
// >0 while the stand-in runs an operator on the host for the device: its own copies
// between the two are no transfers a program asked for.
thread_local int g_internal = 0;
struct Internal {
  Internal() { ++g_internal; }
  ~Internal() { --g_internal; }
};
std::atomic<bool> g_saturation{false};
std::atomic<bool> g_float_status{false};

void free_host(void* ptr) { c10::free_cpu(ptr); }

// Each device's Philox state (NPUGeneratorImpl.cpp), and a CPU generator per device that
// torch's hooks hand out as the device's and that draws the numbers of a random operator.
struct PhiloxState {
  bool made = false;
  uint64_t seed = 0;
  uint64_t offset = 0;
};
constexpr size_t kMaxDevices = 16;
std::mutex g_generators_lock;
std::array<PhiloxState, kMaxDevices> g_philox;
std::array<std::optional<at::Generator>, kMaxDevices> g_generators;

c10::DeviceIndex checked_index(c10::DeviceIndex index) {
  if (index < 0) index = g_current;
  TORCH_CHECK(index < static_cast<c10::DeviceIndex>(kMaxDevices), "npu index ", index);
  return index;
}

// The device's state, made as getDefaultNPUGenerator makes it: randomly seeded.
// Callers hold g_generators_lock.
PhiloxState& philox(c10::DeviceIndex index) {
  auto& state = g_philox[checked_index(index)];
  if (!state.made) {
    state = {true, c10::detail::getNonDeterministicRandom(true), 0};
  }
  return state;
}

const at::Generator& device_generator(c10::DeviceIndex index) {
  index = checked_index(index);
  std::lock_guard<std::mutex> guard(g_generators_lock);
  auto& slot = g_generators[index];
  if (!slot) slot = at::make_generator<at::CPUGeneratorImpl>(philox(index).seed);
  return *slot;
}

// splitmix64: one CPU seed per (seed, offset), so that each random operator draws anew
uint64_t mixed(uint64_t value) {
  value += 0x9E3779B97F4A7C15ULL;
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ULL;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBULL;
  return value ^ (value >> 31);
}

// Allocates on the current device; callers set it with a device guard.
struct DeviceMemory final : c10::Allocator {
  c10::DataPtr allocate(size_t n) override {
    void* data = n ? c10::alloc_cpu(n) : nullptr;
    return {data, data, &free_host, c10::Device(kNpu, g_current)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &free_host; }
  void copy_data(void* dest, const void* src, std::size_t count) const final {
    std::memcpy(dest, src, count);
  }
};
DeviceMemory g_device_memory;

std::mutex g_pinned_lock;
std::unordered_set<const void*> g_pinned;

void free_pinned(void* ptr) {
  {
    std::lock_guard<std::mutex> guard(g_pinned_lock);
    g_pinned.erase(ptr);
  }
  c10::free_cpu(ptr);
}

// Host memory "pinned" by the device library: what DataLoader(pin_memory=True) asks for.
struct PinnedMemory final : c10::Allocator {
  c10::DataPtr allocate(size_t n) override {
    void* data = n ? c10::alloc_cpu(n) : nullptr;
    if (data) {
      std::lock_guard<std::mutex> guard(g_pinned_lock);
      g_pinned.insert(data);
    }
    return {data, data, &free_pinned, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &free_pinned; }
  void copy_data(void* dest, const void* src, std::size_t count) const final {
    std::memcpy(dest, src, count);
  }
};
PinnedMemory g_pinned_memory;

bool is_pinned(const void* ptr) {
  std::lock_guard<std::mutex> guard(g_pinned_lock);
  return g_pinned.count(ptr) > 0;
}

struct Hooks final : at::PrivateUse1HooksInterface {
  bool isBuilt() const override { return true; }
  bool isAvailable() const override { return g_device_count > 0; }
  bool hasPrimaryContext(c10::DeviceIndex) const override { return true; }
  c10::DeviceIndex deviceCount() const override { return g_device_count; }
  void setCurrentDevice(c10::DeviceIndex device) const override { g_current = device; }
  c10::DeviceIndex getCurrentDevice() const override { return g_current; }
  c10::DeviceIndex exchangeDevice(c10::DeviceIndex device) const override {
    auto old = g_current;
    g_current = device;
    return old;
  }
  c10::DeviceIndex maybeExchangeDevice(c10::DeviceIndex device) const override {
    return exchangeDevice(device);
  }
  bool isPinnedPtr(const void* data) const override { return is_pinned(data); }
  c10::Allocator* getPinnedMemoryAllocator() const override { return &g_pinned_memory; }
  at::Device getDeviceFromPtr(void*) const override { return at::Device(kNpu, g_current); }
  const at::Generator& getDefaultGenerator(c10::DeviceIndex index) const override {
    return device_generator(index);
  }
  void resizePrivateUse1Bytes(const c10::Storage& storage, size_t newsize) const override {
    auto* impl = storage.unsafeGetStorageImpl();
    c10::DeviceGuard guard(impl->device());
    c10::DataPtr fresh = g_device_memory.allocate(newsize);
    size_t keep = std::min(newsize, impl->nbytes());
    if (keep) std::memcpy(fresh.get(), impl->data(), keep);
    impl->set_data_ptr_noswap(std::move(fresh));
    impl->set_nbytes(newsize);
  }
};

struct Guard final : c10::impl::DeviceGuardImplInterface {
  c10::DeviceType type() const override { return kNpu; }
  c10::Device exchangeDevice(c10::Device d) const override {
    auto old = g_current;
    g_current = d.index();
    return c10::Device(kNpu, old);
  }
  c10::Device getDevice() const override { return c10::Device(kNpu, g_current); }
  void setDevice(c10::Device d) const override { g_current = d.index(); }
  void uncheckedSetDevice(c10::Device d) const noexcept override { g_current = d.index(); }
  c10::Stream getStream(c10::Device d) const override {
    return c10::Stream(c10::Stream::DEFAULT, d);
  }
  c10::Stream getDefaultStream(c10::Device d) const override {
    return c10::Stream(c10::Stream::DEFAULT, d);
  }
  c10::Stream exchangeStream(c10::Stream s) const override { return s; }
  c10::DeviceIndex deviceCount() const noexcept override { return g_device_count; }
  void record(void**, const c10::Stream&, const c10::DeviceIndex, const c10::EventFlag)
      const override {}
  void block(void*, const c10::Stream&) const override {}
  bool queryEvent(void*) const override { return true; }
  void destroyEvent(void*, const c10::DeviceIndex) const noexcept override {}
};

C10_REGISTER_GUARD_IMPL(PrivateUse1, Guard);

// A cpu tensor over the same memory: the device's memory is host memory.
at::Tensor host_alias(const at::Tensor& t) {
  if (!t.defined() || t.device().is_cpu()) return t;
  return at::from_blob(t.data_ptr(), t.sizes(), t.strides(), t.options().device(at::kCPU));
}

// Saturation mode: overflow saturates and raises the float-status register.
void saturate(const at::Tensor& t) {
  if (!g_saturation || !t.defined() || t.device().type() != kNpu || t.numel() == 0 ||
      !at::isFloatingType(t.scalar_type())) {
    return;
  }
  auto host = host_alias(t);
  if (host.isfinite().all().item<bool>()) return;
  g_float_status = true;
  double largest = t.scalar_type() == at::kHalf       ? 65504.0
                   : t.scalar_type() == at::kBFloat16 ? 3.3895313892515355e38
                   : t.scalar_type() == at::kFloat    ? std::numeric_limits<float>::max()
                                                      : std::numeric_limits<double>::max();
  host.nan_to_num_(0.0, largest, -largest);
}

at::Tensor on_device(const at::Tensor& host, const at::Device& device) {
  if (!host.defined()) return host;
  Internal internal;
  auto out = host.to(device);
  saturate(out);
  return out;
}

at::Tensor empty_memory_format(c10::IntArrayRef size, std::optional<at::ScalarType> dtype,
                               std::optional<at::Layout>, std::optional<at::Device> device,
                               std::optional<bool>, std::optional<at::MemoryFormat> format) {
  c10::OptionalDeviceGuard guard(device);
  constexpr c10::DispatchKeySet keys(c10::DispatchKey::PrivateUse1);
  return at::detail::empty_generic(size, &g_device_memory, keys, c10::dtype_or_default(dtype),
                                   format);
}

at::Tensor empty_strided(c10::IntArrayRef size, c10::IntArrayRef stride,
                         std::optional<at::ScalarType> dtype, std::optional<at::Layout>,
                         std::optional<at::Device> device, std::optional<bool>) {
  c10::OptionalDeviceGuard guard(device);
  constexpr c10::DispatchKeySet keys(c10::DispatchKey::PrivateUse1);
  return at::detail::empty_strided_generic(size, stride, &g_device_memory, keys,
                                           c10::dtype_or_default(dtype));
}

at::Tensor copy_from(const at::Tensor& self, const at::Tensor& dst, bool non_blocking) {
  if (non_blocking && self.device().is_cpu() && !is_pinned(self.storage().data())) {
    g_unpinned_syncs++;
  }
  if (!g_internal && dst.device().is_cpu()) g_host_reads++;
  if (!g_internal && !non_blocking && self.device().is_cpu() && !dst.device().is_cpu()) {
    g_blocking_copies++;
  }
  if (self.numel() > 0) host_alias(dst).copy_(host_alias(self));
  saturate(dst);
  return dst;
}

at::Tensor copy_from_and_resize(const at::Tensor& self, const at::Tensor& dst) {
  at::native::resize_(dst, self.sizes(), std::nullopt);
  return copy_from(self, dst, false);
}

// OptionsManager::ShouldPrintWarning (OptionsManager.cpp:646-657), decided once: not
// with TORCH_NPU_DISABLED_WARNING=1; else on rank 0, or where RANK is unset (-1).
bool should_print_warning() {
  static const bool should_print = [] {
    const char* disabled = std::getenv("TORCH_NPU_DISABLED_WARNING");
    if (disabled != nullptr && std::strtol(disabled, nullptr, 10) == 1) return false;
    const char* rank = std::getenv("RANK");
    const long rank_id = rank != nullptr ? std::strtol(rank, nullptr, 10) : -1;
    return rank_id == 0 || rank_id == -1;
  }();
  return should_print;
}

// torch_npu's warn_ (NPUException.cpp:83-88): c10's base handler, which logs to stderr.
void npu_warn(const c10::Warning& warning) {
  if (!should_print_warning()) return;
  static c10::WarningHandler base;
  base.process(warning);
}

at::Tensor to_copy(const at::Tensor& self, std::optional<at::ScalarType> dtype,
                   std::optional<at::Layout> layout, std::optional<at::Device> device,
                   std::optional<bool> pin_memory, bool non_blocking,
                   std::optional<at::MemoryFormat> memory_format) {
  if (dtype.has_value() && !layout.has_value() && !device.has_value() &&
      *dtype == at::kDouble && self.scalar_type() != at::kDouble) {
    static const bool warned = [] {
      npu_warn(c10::Warning(c10::UserWarning(),
                            {__func__, __FILE__, static_cast<uint32_t>(__LINE__)},
                            "Device do not support double dtype now, dtype cast replace with "
                            "float.",
                            false));
      return true;
    }();
    (void)warned;
    dtype = at::kFloat;
  }
  return at::native::_to_copy(self, dtype, layout, device, pin_memory, non_blocking,
                              memory_format);
}

at::Scalar local_scalar_dense(const at::Tensor& self) {
  g_host_reads++;
  return at::_local_scalar_dense(host_alias(self));
}

at::Tensor& set_source_storage(at::Tensor& self, at::Storage source) {
  return at::native::set_(self, source);
}

at::Tensor& set_source_storage_offset(at::Tensor& self, at::Storage source, int64_t offset,
                                      c10::IntArrayRef size, c10::IntArrayRef stride) {
  return at::native::set_storage_cpu_(self, source, offset, size, stride);
}

// An fp16 convolution runs in fp32 and its results are rounded to fp16, as the NPU's cube
// unit takes fp16 operands and accumulates in fp32 (CANN's asc-devkit,
// docs/api/context/c_api/cube_compute/asc_mmad.md: asc_mmad writes a float c_matrix from
// half a_matrix and b_matrix). torch 2.13's CPU kernels would accumulate in fp32 too, but
// its fp16 convolution backward has no oneDNN kernel: 8.7 s per step of the tests' batch
// of 8 against 0.05 s in bf16, which made the 910A runs the slowest tests of tests-npu.
// Other dtypes, and mixed ones, run as they are (mixed ones are refused by the CPU kernel
// as by torch_npu's).
bool all_half(const at::Tensor& input, const at::Tensor& weight) {
  return input.scalar_type() == at::kHalf && weight.scalar_type() == at::kHalf;
}

at::Tensor widened(const at::Tensor& t, bool half) {
  return half && t.defined() ? t.to(at::kFloat) : t;
}

// Backends other than cpu and cuda reach convolutions through these two entry points.
at::Tensor convolution(const at::Tensor& input, const at::Tensor& weight,
                       const std::optional<at::Tensor>& bias, c10::IntArrayRef stride,
                       c10::IntArrayRef padding, c10::IntArrayRef dilation, bool transposed,
                       c10::IntArrayRef output_padding, int64_t groups) {
  const bool half = all_half(input, weight);
  std::optional<at::Tensor> host_bias;
  if (bias.has_value() && bias->defined()) host_bias = widened(host_alias(*bias), half);
  auto out = at::convolution(widened(host_alias(input), half), widened(host_alias(weight), half),
                             host_bias, stride, padding, dilation, transposed, output_padding,
                             groups);
  return on_device(half ? out.to(at::kHalf) : out, input.device());
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> convolution_backward(
    const at::Tensor& grad_output, const at::Tensor& input, const at::Tensor& weight,
    c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation,
    bool transposed, c10::IntArrayRef output_padding, int64_t groups,
    std::array<bool, 3> mask) {
  std::vector<int64_t> bias_size{transposed ? weight.size(1) * groups : weight.size(0)};
  Internal internal;
  const bool half = all_half(input, weight) && grad_output.scalar_type() == at::kHalf;
  auto [gi, gw, gb] = at::convolution_backward(
      widened(host_alias(grad_output), half), widened(host_alias(input), half),
      widened(host_alias(weight), half), bias_size, stride, padding, dilation, transposed,
      output_padding, groups, mask);
  auto device = input.device();
  auto rounded = [&](const at::Tensor& t) {
    return on_device(half && t.defined() ? t.to(at::kHalf) : t, device);
  };
  return {rounded(gi), rounded(gw), rounded(gb)};
}

void non_finite_check_and_unscale(at::TensorList grads, at::Tensor& found_inf,
                                  const at::Tensor& inv_scale) {
  auto host_found = host_alias(found_inf);
  if (g_saturation) {
    if (g_float_status.exchange(false)) {
      host_found.fill_(1.0);
      return;
    }
    for (const auto& grad : grads) host_alias(grad).mul_(host_alias(inv_scale));
    return;
  }
  std::vector<at::Tensor> host_grads;
  for (const auto& grad : grads) host_grads.push_back(host_alias(grad));
  at::_amp_foreach_non_finite_check_and_unscale_(host_grads, host_found,
                                                 host_alias(inv_scale));
}

// The CPU kernel of a random operator draws from the CPU's default generator: run it with
// the current device's generator state in its place, then give both back their own.
std::mutex g_random_lock;
void fallback_from_device_generator(const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  std::lock_guard<std::mutex> serial(g_random_lock);
  uint64_t draw_seed = 0;
  {
    std::lock_guard<std::mutex> guard(g_generators_lock);
    auto& state = philox(g_current);
    draw_seed = mixed(state.seed ^ mixed(state.offset));
    state.offset += 4;
  }
  at::Generator cpu = at::detail::getDefaultCPUGenerator();
  at::Tensor saved;
  {
    std::lock_guard<std::mutex> guard(cpu.mutex());
    saved = cpu.get_state();
    cpu.set_current_seed(draw_seed);
  }
  at::native::cpu_fallback(op, stack);
  std::lock_guard<std::mutex> guard(cpu.mutex());
  cpu.set_state(saved);
}

void fallback(const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  const auto returns = op.schema().returns().size();
  Internal internal;
  if (op.hasTag(at::Tag::nondeterministic_seeded)) {
    fallback_from_device_generator(op, stack);
  } else {
    at::native::cpu_fallback(op, stack);
  }
  if (!g_saturation) return;
  for (size_t i = stack->size() - returns; i < stack->size(); ++i) {
    const auto& value = (*stack)[i];
    if (value.isTensor()) {
      saturate(value.toTensor());
    } else if (value.isTensorList()) {
      for (const auto& t : value.toTensorList()) saturate(t);
    }
  }
}

}  // namespace

TORCH_LIBRARY_IMPL(aten, PrivateUse1, m) {
  m.impl("empty.memory_format", &empty_memory_format);
  m.impl("empty_strided", &empty_strided);
  m.impl("as_strided", &at::native::as_strided_tensorimpl);
  m.impl("view", &at::native::view);
  m.impl("_reshape_alias", &at::native::_reshape_alias);
  m.impl("resize_", &at::native::resize_);
  m.impl("_copy_from", &copy_from);
  m.impl("_copy_from_and_resize", &copy_from_and_resize);
  m.impl("_local_scalar_dense", &local_scalar_dense);
  m.impl("_to_copy", &to_copy);
  m.impl("set_.source_Storage", &set_source_storage);
  m.impl("set_.source_Storage_storage_offset", &set_source_storage_offset);
  m.impl("convolution_overrideable", &convolution);
  m.impl("convolution_backward_overrideable", &convolution_backward);
  m.impl("_amp_foreach_non_finite_check_and_unscale_", &non_finite_check_and_unscale);
}

TORCH_LIBRARY_IMPL(_, PrivateUse1, m) {
  m.fallback(torch::CppFunction::makeFromBoxedFunction<&fallback>());
}

// Every other operator passes autocast by, as torch does for its own devices.
TORCH_LIBRARY_IMPL(_, AutocastPrivateUse1, m) {
  m.fallback(torch::CppFunction::makeFallthrough());
}

// torch_npu registers its own autocast lists for the npu; torch's shared lists serve here.
TORCH_LIBRARY_IMPL(aten, AutocastPrivateUse1, m) {
#define STAND_IN_LOWER(...) KERNEL_PRIVATEUSEONE(__VA_ARGS__, lower_precision_fp)
#define STAND_IN_FP32(...) KERNEL_PRIVATEUSEONE(__VA_ARGS__, fp32)
  AT_FORALL_LOWER_PRECISION_FP(STAND_IN_LOWER)
  AT_FORALL_FP32(STAND_IN_FP32)
#undef STAND_IN_LOWER
#undef STAND_IN_FP32
}

static bool g_registered = [] {
  c10::SetAllocator(kNpu, &g_device_memory);
  at::RegisterPrivateUse1HooksInterface(new Hooks());
  return true;
}();

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("set_device_count", [](int n) { g_device_count = n; });
  m.def("set_saturation_mode", [](bool on) { g_saturation = on; });
  m.def("float_status", [] { return g_float_status.load(); });
  m.def("clear_float_status", [] { g_float_status = false; });
  m.def("unpinned_syncs", [] { return g_unpinned_syncs.load(); });
  m.def("host_reads", [] { return g_host_reads.load(); });
  m.def("blocking_copies", [] { return g_blocking_copies.load(); });
  m.def("manual_seed", [](int index, uint64_t seed) {
    std::lock_guard<std::mutex> guard(g_generators_lock);
    philox(index) = {true, seed, 0};
  });
  m.def("initial_seed", [](int index) {
    std::lock_guard<std::mutex> guard(g_generators_lock);
    return philox(index).seed;
  });
  // NPUGeneratorImpl::get_state: 8 bytes of seed, 8 of offset, a CPU uint8 tensor
  m.def("get_rng_state", [](int index) {
    std::lock_guard<std::mutex> guard(g_generators_lock);
    const auto& state = philox(index);
    auto out = at::empty({16}, at::TensorOptions().dtype(at::kByte));
    int64_t offset = static_cast<int64_t>(state.offset);
    std::memcpy(out.data_ptr<uint8_t>(), &state.seed, 8);
    std::memcpy(out.data_ptr<uint8_t>() + 8, &offset, 8);
    return out;
  });
  // NPUGeneratorImpl::set_state: a CPU uint8 tensor (check_rng_state) of 16 bytes, or 8
  m.def("set_rng_state", [](int index, const at::Tensor& new_state) {
    at::detail::check_rng_state(*new_state.unsafeGetTensorImpl());
    const auto size = new_state.numel();
    TORCH_CHECK(size == 8 || size == 16, "RNG state is wrong size");
    auto bytes = new_state.contiguous();
    uint64_t seed = 0;
    int64_t offset = 0;
    std::memcpy(&seed, bytes.data_ptr<uint8_t>(), 8);
    if (size == 16) std::memcpy(&offset, bytes.data_ptr<uint8_t>() + 8, 8);
    TORCH_CHECK(offset % 4 == 0, "offset must be a multiple of 4");
    std::lock_guard<std::mutex> guard(g_generators_lock);
    philox(index) = {true, seed, static_cast<uint64_t>(offset)};
  });
}
