#pragma once
// The Parts a lane drives (harness.hpp): a client or a server workload
// over a stack, and the pump that moves the stack's packets (a run loop's
// pass for synack; nothing for the kernel, which moves its own).

#include "harness.hpp"
#include "workload.hpp"

#include <functional>
#include <memory>

namespace synack::bench {

using Pump = std::function<std::uint32_t()>;

/// This loop's share of a total split over `loops` (the first ones get
/// the remainder).
inline std::uint64_t share(std::uint64_t total, std::uint32_t loops, std::uint32_t index) noexcept {
    return total / loops + (index < total % loops ? 1 : 0);
}

/// Retransmissions by the stack's engine, where it has one.
template <typename Stack>
std::uint64_t engine_retransmits(Stack& stack) noexcept {
    if constexpr (requires { stack.engine(); }) {
        return stack.engine().counters().tcp.retransmits;
    } else {
        return 0;
    }
}

/// The descriptor to wait on, for a stack that has one (kernel_stack.hpp).
template <typename Stack>
int stack_wait_fd(const Stack& stack) noexcept {
    if constexpr (requires { stack.wait_fd(); }) {
        return stack.wait_fd();
    } else {
        return -1;
    }
}

template <typename Stack>
bool stack_worked(const Stack& stack) noexcept {
    if constexpr (requires { stack.worked(); }) {
        return stack.worked();
    } else {
        return true;
    }
}

template <typename Stack>
class ClientPart final : public Part {
public:
    /// `count`: this part's share of --count (0: none).
    ClientPart(std::unique_ptr<Stack> stack, Pump pump, const Options& o, std::uint32_t connections, double rate,
               std::uint64_t count)
        : stack_(std::move(stack)), pump_(std::move(pump)), workload_(*stack_, o, connections, rate), count_(count) {}

    bool is_client() const noexcept override { return true; }
    void start(std::uint64_t now) override { workload_.start(now); }
    std::uint32_t step(std::uint64_t now) override {
        const std::uint32_t moved = pump_();
        workload_.step(now);
        return moved;
    }
    void stop() override { workload_.stop(); }
    bool done() const noexcept override {
        return (count_ != 0 && workload_.stats().requests >= count_) || workload_.transfers_done();
    }
    void reset_stats() override { workload_.reset_stats(); }
    WorkloadStats stats() const override { return workload_.stats(); }
    const Histogram* latency() const noexcept override { return &workload_.latency(); }
    std::uint64_t retransmits() const noexcept override { return engine_retransmits(*stack_); }
    int wait_fd() const noexcept override { return stack_wait_fd(*stack_); }
    bool worked() const noexcept override { return stack_worked(*stack_); }
    std::optional<std::uint64_t> next_due() const noexcept override { return workload_.next_due(); }
    Stack& stack() noexcept { return *stack_; }

private:
    std::unique_ptr<Stack> stack_;
    Pump pump_;
    ClientWorkload<Stack> workload_;
    std::uint64_t count_;
};

template <typename Stack>
class ServerPart final : public Part {
public:
    ServerPart(std::unique_ptr<Stack> stack, Pump pump, const Options& o)
        : stack_(std::move(stack)), pump_(std::move(pump)), workload_(*stack_, o) {}

    bool is_client() const noexcept override { return false; }
    /// Listens; the port it could not listen on, if any.
    std::optional<std::uint16_t> listen() { return workload_.start(); }
    void start(std::uint64_t) override {}
    std::uint32_t step(std::uint64_t now) override {
        const std::uint32_t moved = pump_();
        workload_.step(now);
        return moved;
    }
    void stop() override { workload_.close_all(); }
    void reset_stats() override { workload_.reset_stats(); }
    WorkloadStats stats() const override { return workload_.stats(); }
    std::uint64_t retransmits() const noexcept override { return engine_retransmits(*stack_); }
    int wait_fd() const noexcept override { return stack_wait_fd(*stack_); }
    bool worked() const noexcept override { return stack_worked(*stack_); }
    const ServerWorkload<Stack>& workload() const noexcept { return workload_; }
    Stack& stack() noexcept { return *stack_; }

private:
    std::unique_ptr<Stack> stack_;
    Pump pump_;
    ServerWorkload<Stack> workload_;
};

} // namespace synack::bench
