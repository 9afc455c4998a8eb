// An alert: something about a session or an animal that someone should know now. Logged, stored as an `alert`
// event, shown on the dashboard and posted to the rig config's webhook (docs/operator-guide.md, "Alerts").
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "host/model/enums.hpp"

namespace rig::model {

struct Alert {
  AlertKind kind = AlertKind::kTest;
  std::string text;                     // plain words, for a person: what happened and what to do
  std::string rig_id;                   // the rig config's rig.id
  std::string subject_id;               // "" when no subject is concerned
  std::optional<std::int64_t> session_id;
  std::int64_t raised_at_unix_us = 0;   // wall clock, microseconds since the Unix epoch
  bool operator==(const Alert&) const = default;
};

// "rig RIG: TEXT" (with the subject when there is one): the line a chat channel shows. Pure.
inline std::string alert_line(const Alert& a) {
  return "rig " + a.rig_id + (a.subject_id.empty() ? "" : " (" + a.subject_id + ")") + ": " + a.text;
}

// {kind, text, rig, subject, session_id, raised_at_unix_us}: the event's detail and the dashboard's. Pure.
inline nlohmann::json alert_json(const Alert& a) {
  return {{"kind", alert_kind_name(a.kind)},
          {"text", a.text},
          {"rig", a.rig_id},
          {"subject", a.subject_id},
          {"session_id", a.session_id ? nlohmann::json(*a.session_id) : nlohmann::json(nullptr)},
          {"raised_at_unix_us", a.raised_at_unix_us}};
}

// The webhook's body: {text: alert_line, alert: alert_json}. A Slack or Mattermost incoming webhook shows `text`
// as it is. Pure.
inline nlohmann::json webhook_body(const Alert& a) { return {{"text", alert_line(a)}, {"alert", alert_json(a)}}; }

}  // namespace rig::model
