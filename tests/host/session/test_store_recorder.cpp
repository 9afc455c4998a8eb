// The store recorder: every call's work runs on its worker in order, and lands in the session that begin()
// opened, whenever its completion reaches the io thread.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <thread>
#include <unistd.h>

#include "host/config/subjects_file.hpp"
#include "host/config/rig_config_file.hpp"
#include "host/store/store.hpp"
#include "host/task/rig_config.hpp"
#include "host/task/subject.hpp"
#include "store_recorder.hpp"

using namespace rig;

namespace {

struct RecorderFixture {
  RecorderFixture() {
    dir = std::filesystem::temp_directory_path() / ("rig-store-recorder-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto rig_config = config::load_rig_config_file(std::string(RIG_SOURCE_DIR) + "/config/rig.sim.yaml");
    auto subjects = config::load_subjects_file(std::string(RIG_SOURCE_DIR) + "/config/subjects.yaml");
    EXPECT_TRUE(rig_config.ok() && subjects.ok());
    context.rig_config = *rig_config.value;
    context.subject = *subjects.value->find("SIM001");
    context.device_kind = "sim";
    context.host_version = "test";
    context.protocol_path = "protocol.yaml";
    context.protocol_text = "name: test\n";
  }
  ~RecorderFixture() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  std::string db() const { return (dir / "rig.sqlite").string(); }

  std::filesystem::path dir;
  app::RecordingContext context;
};

}  // namespace

// An event logged right after begin(), before begin's completion has reached the io thread (the io_context
// does not run until the end), belongs to the session all the same. Before the worker owned the session id,
// the event was stored without one, and ThreadSanitizer reported the id written on the io thread and read on
// the worker.
TEST(StoreRecorder, AnEventQueuedBeforeBeginCompletesIsStoredInTheSession) {
  RecorderFixture f;
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);  // the completions come from the worker
  int64_t session_id = 0;
  bool ended = false;
  {
    app::StoreRecorder recorder(io, store::Store::open(f.db()), f.context);
    app::SessionStartInfo start;
    start.subject_id = "SIM001";
    start.seed = 9;
    recorder.begin(start, [&](std::optional<std::string> error) {
      EXPECT_FALSE(error.has_value()) << *error;
      session_id = recorder.session_id();
    });
    recorder.event("link", 1000, "{\"state\":\"connecting\"}");
    app::SessionEnd end;
    end.reason = "stopped by the operator";
    recorder.end(end, [&] { ended = true; });
    while (!ended) io.run_one();
  }
  ASSERT_GT(session_id, 0);
  const store::Store db = store::Store::open(f.db(), store::OpenOptions::reading());
  const auto events = db.events(session_id);
  size_t links = 0;
  for (const auto& e : events) {
    if (e.kind != "link") continue;
    ++links;
    EXPECT_EQ(e.session_id, session_id);
    EXPECT_EQ(e.detail_json, "{\"state\":\"connecting\"}");
  }
  EXPECT_EQ(links, 1u) << "the event is not in session " << session_id;
}

// What a simulation relies on (device::SimLoop): once idle() is true, the completions of all the work done so
// far are already posted to the io thread.
TEST(StoreRecorder, OnceIdleEveryCompletionIsPosted) {
  RecorderFixture f;
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  app::StoreRecorder recorder(io, store::Store::open(f.db()), f.context);
  EXPECT_TRUE(recorder.idle());
  bool begun = false;
  bool ended = false;
  recorder.begin(app::SessionStartInfo{}, [&](std::optional<std::string>) { begun = true; });
  recorder.end(app::SessionEnd{}, [&] { ended = true; });
  while (!recorder.idle()) std::this_thread::yield();
  io.poll();
  EXPECT_TRUE(begun);
  EXPECT_TRUE(ended);
}
