// What the lab database holds of a subject from rigs other than this one: read by host/lab/subject_record.hpp
// when a session starts, merged with this rig's own records by the session (app::SessionHost) so that the pooled
// fit and the welfare day (weight, baseline, water) are the same whichever rig the mouse is on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host/model/welfare.hpp"
#include "host/store/store.hpp"

namespace rig::store {

// One session of the subject on another rig, with its trials.
struct SessionElsewhere {
  std::string rig_id;
  std::int64_t session_id = 0;  // that rig's id of the session
  std::int64_t started_at_unix_us = 0;
  bool ended = false;            // false: running, or its rig stopped without ending it
  std::int64_t last_activity_unix_us = 0;  // its last trial's commit, else its start (the other rig's clock)
  std::vector<SubjectTrial> trials;        // in trial order
};

// A reward of a trial on another rig, for the welfare day: when it was committed and the water it gave.
struct RewardElsewhere {
  std::int64_t committed_at_unix_us = 0;
  double volume_ul = 0.0;
};

struct SubjectElsewhere {
  std::string lab;                         // the lab's server ("host:port/db as user"), for messages
  std::vector<SessionElsewhere> sessions;  // oldest first
  std::vector<model::Weighing> weighings;  // in time order
  std::vector<model::WaterGiven> water;    // in time order
  std::vector<RewardElsewhere> rewards;    // the trials' rewards since the start of the welfare window asked for

  std::size_t trial_count() const {
    std::size_t n = 0;
    for (const auto& s : sessions) n += s.trials.size();
    return n;
  }
};

}  // namespace rig::store
