#include "device_factory.hpp"

#include <csignal>
#include <filesystem>
#include <random>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "serial_rig.hpp"
#include "vmcu/virtual_mcu.hpp"

extern char** environ;

namespace rig::app {
namespace {

std::string format_speed(double speed) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%gx", speed);
  return buf;
}

class SerialDevice : public DeviceHandle {
 public:
  SerialDevice(boost::asio::io_context& io, const std::string& port) : port_(port) {
    link::LinkOptions options;
    options.port_path = port;
    rig_ = std::make_unique<device::SerialRig>(io, options);
  }
  device::Rig& rig() override { return *rig_; }
  std::string describe() const override { return "board on " + port_; }

 private:
  std::string port_;
  std::unique_ptr<device::SerialRig> rig_;
};

class VirtualDevice : public DeviceHandle {
 public:
  VirtualDevice(boost::asio::io_context& io, DeviceRequest& request) : speed_(request.speed) {
    device::VirtualMcuOptions options;
    options.speed = request.speed;
    options.seed = request.seed;
    options.boot_id = static_cast<uint32_t>(std::random_device{}());
    vmcu_ = std::make_unique<device::VirtualMcu>(options, std::move(request.chooser));
    vmcu_->start();
    link::LinkOptions link_options;
    link_options.port_path = vmcu_->path();
    link_options.time_scale = request.speed > 0 ? request.speed : 1.0;
    rig_ = std::make_unique<device::SerialRig>(io, link_options);
  }
  ~VirtualDevice() override {
    rig_.reset();
    vmcu_->stop();
  }
  device::Rig& rig() override { return *rig_; }
  std::string describe() const override { return "virtual MCU on " + vmcu_->path() + " (speed " + format_speed(speed_) + ")"; }

 private:
  double speed_;
  std::unique_ptr<device::VirtualMcu> vmcu_;
  std::unique_ptr<device::SerialRig> rig_;
};

class SimavrDevice : public DeviceHandle {
 public:
  SimavrDevice(boost::asio::io_context& io, const DeviceRequest& request) : speed_(request.speed) {
    dir_ = std::filesystem::temp_directory_path() / ("rig-simavr-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    const std::string pty_file = (dir_ / "pty").string();
    std::vector<std::string> argv = {request.simavr_program};
    if (!request.simavr_elf.empty()) argv.insert(argv.end(), {"--elf", request.simavr_elf});
    argv.insert(argv.end(), {"serve", "--pty-file", pty_file, "--speed", std::to_string(request.speed), "--mouse",
                             "random", "--seed", std::to_string(request.seed)});
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], nullptr, nullptr, args.data(), environ) != 0) {
      throw std::runtime_error("cannot start " + request.simavr_program);
    }
    link::LinkOptions options;
    options.port_path_file = pty_file;
    options.time_scale = request.speed > 0 ? request.speed : 1.0;
    rig_ = std::make_unique<device::SerialRig>(io, options);
  }
  ~SimavrDevice() override {
    rig_.reset();
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  device::Rig& rig() override { return *rig_; }
  std::string describe() const override { return "firmware in simavr (speed " + format_speed(speed_) + ")"; }

 private:
  double speed_;
  pid_t pid_ = -1;
  std::filesystem::path dir_;
  std::unique_ptr<device::SerialRig> rig_;
};

}  // namespace

std::unique_ptr<DeviceHandle> make_device(boost::asio::io_context& io, DeviceRequest request) {
  switch (request.kind) {
    case DeviceChoice::kSerial:
      if (request.serial_port.empty()) throw std::runtime_error("no serial port given (see `rig ports`)");
      return std::make_unique<SerialDevice>(io, request.serial_port);
    case DeviceChoice::kSim:
      return std::make_unique<VirtualDevice>(io, request);
    case DeviceChoice::kSimavr:
      return std::make_unique<SimavrDevice>(io, request);
  }
  throw std::logic_error("unknown device kind");
}

}  // namespace rig::app
