// Alerts (issue 17): the session's rules (each speaks once per episode, on the caller's clock), the daily welfare
// check's rules, the webhook's delivery to a receiver on 127.0.0.1 (answering, failing, hanging, refusing), and
// every alert kind through AlertSink to the receiver.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "host/session/alert_rules.hpp"
#include "host/session/alerts.hpp"
#include "host/session/webhook.hpp"
#include "support/webhook_receiver.hpp"

namespace rig::app {
namespace {

using model::AlertKind;
using rig::testing::WebhookReceiver;

constexpr std::int64_t kS = 1'000'000;

std::vector<AlertKind> kinds(const std::vector<AlertDraft>& drafts) {
  std::vector<AlertKind> out;
  for (const auto& d : drafts) out.push_back(d.kind);
  return out;
}

task::AlertSettings settings() {
  task::AlertSettings s;
  s.device_lost_s = 10;
  s.disengaged_trials = 3;
  s.idle_minutes = 1;
  s.overrun_minutes = 2;
  return s;
}

TEST(SessionAlertRules, DisengagedOnceAfterTheMissesInARowAndAgainOnlyAfterAChoice) {
  SessionAlertRules rules(settings(), std::nullopt);
  rules.on_started(0);
  EXPECT_TRUE(rules.on_trial(false, 1 * kS).empty());
  EXPECT_TRUE(rules.on_trial(false, 2 * kS).empty());
  EXPECT_EQ(kinds(rules.on_trial(false, 3 * kS)), std::vector<AlertKind>{AlertKind::kDisengaged});
  EXPECT_TRUE(rules.on_trial(false, 4 * kS).empty()) << "once per run of misses";
  EXPECT_TRUE(rules.on_trial(true, 5 * kS).empty());
  rules.on_trial(false, 6 * kS);
  rules.on_trial(false, 7 * kS);
  EXPECT_EQ(kinds(rules.on_trial(false, 8 * kS)), std::vector<AlertKind>{AlertKind::kDisengaged});
}

TEST(SessionAlertRules, DeviceLostOnlyAfterItsTimeAndOncePerLoss) {
  SessionAlertRules rules(settings(), std::nullopt);
  rules.on_started(0);
  rules.on_trial(true, 1 * kS);
  rules.on_link(false, 2 * kS);
  EXPECT_TRUE(rules.tick(12 * kS).empty()) << "exactly 10 s is not more than 10 s";
  EXPECT_EQ(kinds(rules.tick(12 * kS + 1)), std::vector<AlertKind>{AlertKind::kDeviceLost});
  EXPECT_TRUE(rules.tick(13 * kS).empty());
  rules.on_link(true, 14 * kS);
  rules.on_trial(true, 15 * kS);
  rules.on_link(false, 20 * kS);
  EXPECT_TRUE(rules.on_link(false, 21 * kS).empty());
  EXPECT_EQ(kinds(rules.tick(31 * kS)), std::vector<AlertKind>{AlertKind::kDeviceLost}) << "a second loss";
}

TEST(SessionAlertRules, IdleAfterNoTrialForItsMinutesAndOverrunPastThePlannedEnd) {
  SessionAlertRules rules(settings(), 1.0);  // planned: 1 min; overrun after 1 + 2 min
  rules.on_started(0);
  EXPECT_TRUE(rules.tick(59 * kS).empty());
  EXPECT_EQ(kinds(rules.tick(61 * kS)), std::vector<AlertKind>{AlertKind::kIdle});
  EXPECT_TRUE(rules.tick(90 * kS).empty());
  rules.on_trial(true, 100 * kS);
  EXPECT_TRUE(rules.tick(150 * kS).empty());
  EXPECT_EQ(kinds(rules.tick(181 * kS)), (std::vector<AlertKind>{AlertKind::kIdle, AlertKind::kOverrun}));
  EXPECT_TRUE(rules.tick(400 * kS).empty());
  SessionAlertRules unplanned(settings(), std::nullopt);
  unplanned.on_started(0);
  unplanned.on_trial(true, 1000 * kS);
  EXPECT_TRUE(unplanned.tick(1001 * kS).empty()) << "no planned end, no overrun";
}

TEST(SessionAlertRules, AFailedEndAndEachKindOfFaultSpeakOnceAndNothingAfterTheEnd) {
  SessionAlertRules rules(settings(), std::nullopt);
  rules.on_started(0);
  EXPECT_EQ(kinds(rules.on_fault("valve held open", 1)), std::vector<AlertKind>{AlertKind::kFault});
  EXPECT_TRUE(rules.on_fault("valve held open", 2).empty());
  EXPECT_EQ(kinds(rules.on_fault("encoder skipped", 3)), std::vector<AlertKind>{AlertKind::kFault});
  EXPECT_TRUE(rules.on_finished("max_trials reached", false, 4).empty());
  EXPECT_TRUE(rules.tick(3600 * kS).empty()) << "an ended session waits for nothing";
  SessionAlertRules failed(settings(), std::nullopt);
  failed.on_started(0);
  const auto out = failed.on_finished("disk full", true, 5);
  ASSERT_EQ(kinds(out), std::vector<AlertKind>{AlertKind::kSessionFailed});
  EXPECT_NE(out[0].text.find("disk full"), std::string::npos);
}

TEST(WelfareAlerts, UnderThresholdAndOwedWaterEachSayTheNumbers) {
  task::WelfareStatus day;
  day.weight_today_g = 19.0;
  day.percent_of_baseline = 76.0;
  day.under_threshold = true;
  day.min_weight_percent = 80.0;
  day.minimum_ul = 1000.0;
  day.session_today_ul = 600.0;
  day.owed_ul = 400.0;
  const auto out = welfare_alerts(day);
  ASSERT_EQ(kinds(out), (std::vector<AlertKind>{AlertKind::kUnderThreshold, AlertKind::kWaterOwed}));
  EXPECT_NE(out[0].text.find("76% of its baseline"), std::string::npos) << out[0].text;
  EXPECT_NE(out[1].text.find("owed 400 uL"), std::string::npos) << out[1].text;
  day.under_threshold = false;
  day.owed_ul = 0.0;
  EXPECT_TRUE(welfare_alerts(day).empty());
}

TEST(WebhookUrl, TakesHttpAndHttpsUrlsApartAndRefusesOthers) {
  auto u = WebhookUrl::parse("https://hooks.slack.com/services/T0/B0/xyz");
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.host, "hooks.slack.com");
  EXPECT_EQ(u.port, "443");
  EXPECT_EQ(u.target, "/services/T0/B0/xyz");
  u = WebhookUrl::parse("http://127.0.0.1:8065");
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.port, "8065");
  EXPECT_EQ(u.target, "/");
  EXPECT_EQ(WebhookUrl::parse("http://[::1]:9000/h").host, "::1");
  EXPECT_THROW(WebhookUrl::parse("ftp://x/y"), std::invalid_argument);
  EXPECT_THROW(WebhookUrl::parse("http://user:pw@x/y"), std::invalid_argument);
  EXPECT_THROW(WebhookUrl::parse("http://x:port/y"), std::invalid_argument);
  EXPECT_THROW(WebhookUrl::parse("http:///y"), std::invalid_argument);
}

// The result of one send: (delivered, detail).
std::pair<bool, std::string> send_and_wait(WebhookSender& sender, nlohmann::json body) {
  std::promise<std::pair<bool, std::string>> done;
  sender.send(std::move(body), [&done](bool ok, const std::string& detail) { done.set_value({ok, detail}); });
  return done.get_future().get();
}

WebhookOptions quick() {
  WebhookOptions o;
  o.max_attempts = 2;
  o.first_pause = std::chrono::milliseconds(20);
  o.timeout = std::chrono::milliseconds(2000);
  return o;
}

TEST(WebhookSender, DeliversTheBodyToAReceiverThatAnswers) {
  WebhookReceiver receiver;
  WebhookSender sender(receiver.url(), quick());
  const auto [ok, detail] = send_and_wait(sender, {{"text", "hello"}});
  EXPECT_TRUE(ok) << detail;
  ASSERT_EQ(receiver.bodies().size(), 1u);
  EXPECT_EQ(receiver.bodies()[0]["text"], "hello");
}

TEST(WebhookSender, RetriesAFailingReceiverThenTellsTheProblemOnceUntilADeliverySucceeds) {
  WebhookReceiver failing(WebhookReceiver::Mode::kFail);
  std::vector<std::string> problems;
  std::mutex mutex;
  WebhookSender sender(failing.url(), quick(), [&](const std::string& text) {
    const std::lock_guard lock(mutex);
    problems.push_back(text);
  });
  auto [ok, detail] = send_and_wait(sender, {{"text", "one"}});
  EXPECT_FALSE(ok);
  EXPECT_NE(detail.find("answered 500"), std::string::npos) << detail;
  EXPECT_EQ(failing.bodies().size(), 2u) << "two tries";
  std::tie(ok, detail) = send_and_wait(sender, {{"text", "two"}});
  EXPECT_FALSE(ok);
  const std::lock_guard lock(mutex);
  EXPECT_EQ(problems.size(), 1u) << "said once per episode";
  EXPECT_NE(problems[0].find("still logged, stored and shown"), std::string::npos) << problems[0];
}

TEST(WebhookSender, AHangingOrRefusingReceiverEndsEachTryAtItsTimeoutAndSendNeverBlocks) {
  WebhookReceiver hanging(WebhookReceiver::Mode::kHang);
  WebhookOptions o = quick();
  o.max_attempts = 1;
  o.timeout = std::chrono::milliseconds(300);
  WebhookSender to_hanging(hanging.url(), o);
  std::promise<std::pair<bool, std::string>> done;
  const auto before = std::chrono::steady_clock::now();
  to_hanging.send({{"text", "x"}}, [&done](bool ok, const std::string& d) { done.set_value({ok, d}); });
  // The first message is being tried before the burst (else the full queue could drop it, which its Done says).
  for (int i = 0; i < 1000 && hanging.bodies().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  for (int i = 0; i < 200; ++i) to_hanging.send({{"text", i}});  // never waits for the receiver
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(30)) << "a guard, not a measure";
  const auto [ok, detail] = done.get_future().get();
  EXPECT_FALSE(ok);
  EXPECT_NE(detail.find("no answer within 300 ms"), std::string::npos) << detail;
  EXPECT_GE(to_hanging.dropped(), 99u) << "a queue of 100: the oldest waiting are dropped";
  EXPECT_LE(to_hanging.dropped(), 100u);

  WebhookSender to_nobody(WebhookReceiver::unused_url(), o);
  const auto [refused, why] = send_and_wait(to_nobody, {{"text", "y"}});
  EXPECT_FALSE(refused);
  EXPECT_NE(why.find("refused"), std::string::npos) << why;
}

TEST(AlertSink, EveryKindReachesEachOutletAndTheReceiver) {
  WebhookReceiver receiver;
  task::AlertSettings s;
  s.webhook_url = receiver.url();
  std::vector<std::string> logged, stored, published;
  std::mutex mutex;
  const auto keep = [&mutex](std::vector<std::string>& into) {
    return [&mutex, &into](const model::Alert& a) {
      const std::lock_guard lock(mutex);
      into.push_back(model::alert_kind_name(a.kind));
    };
  };
  AlertSink sink("rig-7", s, AlertOutlets{keep(logged), keep(stored), keep(published), {}}, quick());
  std::vector<std::string> names;
  for (const auto& [name, kind] : model::kAlertKindNames) {
    model::Alert a;
    a.kind = kind;
    a.text = std::string("about ") + name;
    a.subject_id = "M1";
    sink.raise(a);
    names.push_back(name);
  }
  sink.raise_stored(model::Alert{AlertKind::kFault, "stored by the session", "", "M1", 4, 0});
  for (int i = 0; i < 500 && receiver.bodies().size() < names.size() + 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto bodies = receiver.bodies();
  ASSERT_EQ(bodies.size(), names.size() + 1);
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(bodies[i]["alert"]["kind"], names[i]);
    EXPECT_EQ(bodies[i]["alert"]["rig"], "rig-7");
    EXPECT_EQ(bodies[i]["text"], "rig rig-7 (M1): about " + names[i]) << "what a chat channel shows";
    EXPECT_GT(bodies[i]["alert"]["raised_at_unix_us"].get<std::int64_t>(), 0);
  }
  EXPECT_EQ(bodies.back()["alert"]["session_id"], 4);
  const std::lock_guard lock(mutex);
  EXPECT_EQ(logged.size(), names.size() + 1);
  EXPECT_EQ(published.size(), names.size() + 1);
  EXPECT_EQ(stored.size(), names.size()) << "raise_stored leaves the store to its caller";
}

}  // namespace
}  // namespace rig::app
